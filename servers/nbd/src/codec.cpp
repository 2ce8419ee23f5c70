// NBD wire codec; see codec.h and the upstream doc/proto.md.
#include "zerofs/nbd/codec.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "wire.h"

namespace zerofs::nbd {
namespace {

std::string Hex(std::uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

Status WrongSize(std::string_view what, std::size_t want, std::size_t got) {
  return Status::Corruption(std::string(what) + ": expected " + std::to_string(want) +
                            " bytes, got " + std::to_string(got));
}

bool AllZero(const char* p, std::size_t n) {
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

void AppendDataChunk(EncodedReply& reply, std::uint64_t cookie, std::uint64_t export_offset,
                     std::size_t data_offset, std::size_t length, bool done) {
  ChunkHeader h;
  h.flags = done ? kReplyFlagDone : 0;
  h.type = static_cast<std::uint16_t>(ReplyType::kOffsetData);
  h.cookie = cookie;
  h.length = static_cast<std::uint32_t>(8 + length);
  std::string head = EncodeChunkHeader(h);
  wire::PutU64(head, export_offset);
  reply.AppendHead(head);
  reply.AppendData(data_offset, length);
}

void AppendHoleChunk(EncodedReply& reply, std::uint64_t cookie, std::uint64_t export_offset,
                     std::size_t length, bool done) {
  ChunkHeader h;
  h.flags = done ? kReplyFlagDone : 0;
  h.type = static_cast<std::uint16_t>(ReplyType::kOffsetHole);
  h.cookie = cookie;
  h.length = 12;
  std::string head = EncodeChunkHeader(h);
  wire::PutU64(head, export_offset);
  wire::PutU32(head, static_cast<std::uint32_t>(length));
  reply.AppendHead(head);
}

}  // namespace

std::string EncodeGreeting(std::uint16_t handshake_flags) {
  std::string out;
  wire::PutU64(out, kInitMagic);
  wire::PutU64(out, kOptionMagic);
  wire::PutU16(out, handshake_flags);
  return out;
}

Result<std::uint32_t> DecodeClientFlags(std::string_view bytes) {
  if (bytes.size() != kClientFlagsBytes) return WrongSize("client flags", 4, bytes.size());
  std::uint32_t flags = wire::Reader(bytes).U32();
  const std::uint32_t known = kClientFixedNewstyle | kClientNoZeroes;
  if ((flags & ~known) != 0) {
    return Status::Corruption("client flags " + Hex(flags) + " contain unknown bits");
  }
  return flags;
}

Result<OptionHeader> DecodeOptionHeader(std::string_view bytes) {
  if (bytes.size() != kOptionHeaderBytes) {
    return WrongSize("option header", kOptionHeaderBytes, bytes.size());
  }
  wire::Reader r(bytes);
  std::uint64_t magic = r.U64();
  if (magic != kOptionMagic) return Status::Corruption("bad option magic " + Hex(magic));
  OptionHeader h;
  h.option = r.U32();
  h.length = r.U32();
  if (h.length > kMaxOptionPayloadBytes) {
    return Status::Corruption("option " + std::to_string(h.option) + " payload of " +
                              std::to_string(h.length) + " bytes exceeds the limit of " +
                              std::to_string(kMaxOptionPayloadBytes));
  }
  return h;
}

std::string EncodeOptionHeader(std::uint32_t option, std::string_view payload) {
  std::string out;
  wire::PutU64(out, kOptionMagic);
  wire::PutU32(out, option);
  wire::PutU32(out, static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

Result<InfoRequest> DecodeInfoRequest(std::string_view payload) {
  if (payload.size() < 6) {
    return Status::InvalidArgument("info request of " + std::to_string(payload.size()) +
                                   " bytes is shorter than 6");
  }
  wire::Reader r(payload);
  std::uint32_t name_length = r.U32();
  if (name_length > payload.size() - 6) {
    return Status::InvalidArgument("export name length " + std::to_string(name_length) +
                                   " overruns the option");
  }
  if (name_length > kMaxStringBytes) {
    return Status::InvalidArgument("export name longer than 4096 bytes");
  }
  InfoRequest req;
  req.name = std::string(r.Bytes(name_length));
  std::uint16_t count = r.U16();
  if (r.remaining() != std::size_t{count} * 2) {
    return Status::InvalidArgument(std::to_string(count) + " information requests need " +
                                   std::to_string(std::size_t{count} * 2) + " bytes, got " +
                                   std::to_string(r.remaining()));
  }
  req.items.reserve(count);
  for (std::uint16_t i = 0; i < count; ++i) req.items.push_back(r.U16());
  return req;
}

std::string EncodeInfoRequest(const InfoRequest& request) {
  std::string out;
  wire::PutU32(out, static_cast<std::uint32_t>(request.name.size()));
  out.append(request.name);
  wire::PutU16(out, static_cast<std::uint16_t>(request.items.size()));
  for (std::uint16_t item : request.items) wire::PutU16(out, item);
  return out;
}

std::string EncodeOptionReply(std::uint32_t option, OptionReply type, std::string_view data) {
  std::string out;
  out.reserve(kOptionReplyHeaderBytes + data.size());
  wire::PutU64(out, kOptionReplyMagic);
  wire::PutU32(out, option);
  wire::PutU32(out, static_cast<std::uint32_t>(type));
  wire::PutU32(out, static_cast<std::uint32_t>(data.size()));
  out.append(data);
  return out;
}

Result<OptionReplyHeader> DecodeOptionReplyHeader(std::string_view bytes) {
  if (bytes.size() != kOptionReplyHeaderBytes) {
    return WrongSize("option reply header", kOptionReplyHeaderBytes, bytes.size());
  }
  wire::Reader r(bytes);
  std::uint64_t magic = r.U64();
  if (magic != kOptionReplyMagic) return Status::Corruption("bad option reply magic " + Hex(magic));
  OptionReplyHeader h;
  h.option = r.U32();
  h.type = r.U32();
  h.length = r.U32();
  return h;
}

std::string EncodeServerEntry(std::string_view name, std::string_view description) {
  std::string out;
  wire::PutU32(out, static_cast<std::uint32_t>(name.size()));
  out.append(name);
  out.append(description);
  return out;
}

std::string EncodeInfoExport(std::uint64_t size_bytes, std::uint16_t transmission_flags) {
  std::string out;
  wire::PutU16(out, static_cast<std::uint16_t>(InfoType::kExport));
  wire::PutU64(out, size_bytes);
  wire::PutU16(out, transmission_flags);
  return out;
}

std::string EncodeInfoString(InfoType type, std::string_view text) {
  std::string out;
  wire::PutU16(out, static_cast<std::uint16_t>(type));
  out.append(text.substr(0, kMaxStringBytes));
  return out;
}

std::string EncodeInfoBlockSize(std::uint32_t min_bytes, std::uint32_t preferred_bytes,
                                std::uint32_t max_bytes) {
  std::string out;
  wire::PutU16(out, static_cast<std::uint16_t>(InfoType::kBlockSize));
  wire::PutU32(out, min_bytes);
  wire::PutU32(out, preferred_bytes);
  wire::PutU32(out, max_bytes);
  return out;
}

std::string EncodeExportNameReply(std::uint64_t size_bytes, std::uint16_t transmission_flags,
                                  bool no_zeroes) {
  std::string out;
  wire::PutU64(out, size_bytes);
  wire::PutU16(out, transmission_flags);
  if (!no_zeroes) out.append(kExportNameZeroPadBytes, '\0');
  return out;
}

Result<Request> DecodeRequest(std::string_view bytes) {
  if (bytes.size() != kRequestHeaderBytes) {
    return WrongSize("request header", kRequestHeaderBytes, bytes.size());
  }
  wire::Reader r(bytes);
  std::uint32_t magic = r.U32();
  if (magic != kRequestMagic) return Status::Corruption("bad request magic " + Hex(magic));
  Request req;
  req.flags = r.U16();
  req.type = r.U16();
  req.cookie = r.U64();
  req.offset = r.U64();
  req.length = r.U32();
  return req;
}

std::string EncodeRequest(const Request& request) {
  std::string out;
  wire::PutU32(out, kRequestMagic);
  wire::PutU16(out, request.flags);
  wire::PutU16(out, request.type);
  wire::PutU64(out, request.cookie);
  wire::PutU64(out, request.offset);
  wire::PutU32(out, request.length);
  return out;
}

std::string EncodeSimpleReplyHeader(std::uint64_t cookie, Error error) {
  std::string out;
  wire::PutU32(out, kSimpleReplyMagic);
  wire::PutU32(out, static_cast<std::uint32_t>(error));
  wire::PutU64(out, cookie);
  return out;
}

Result<SimpleReplyHeader> DecodeSimpleReplyHeader(std::string_view bytes) {
  if (bytes.size() != kSimpleReplyHeaderBytes) {
    return WrongSize("simple reply header", kSimpleReplyHeaderBytes, bytes.size());
  }
  wire::Reader r(bytes);
  std::uint32_t magic = r.U32();
  if (magic != kSimpleReplyMagic) return Status::Corruption("bad simple reply magic " + Hex(magic));
  SimpleReplyHeader h;
  h.error = r.U32();
  h.cookie = r.U64();
  return h;
}

std::string EncodeChunkHeader(const ChunkHeader& header) {
  std::string out;
  wire::PutU32(out, kStructuredReplyMagic);
  wire::PutU16(out, header.flags);
  wire::PutU16(out, header.type);
  wire::PutU64(out, header.cookie);
  wire::PutU32(out, header.length);
  return out;
}

Result<ChunkHeader> DecodeChunkHeader(std::string_view bytes) {
  if (bytes.size() != kChunkHeaderBytes) {
    return WrongSize("structured reply header", kChunkHeaderBytes, bytes.size());
  }
  wire::Reader r(bytes);
  std::uint32_t magic = r.U32();
  if (magic != kStructuredReplyMagic) {
    return Status::Corruption("bad structured reply magic " + Hex(magic));
  }
  ChunkHeader h;
  h.flags = r.U16();
  h.type = r.U16();
  h.cookie = r.U64();
  h.length = r.U32();
  return h;
}

void EncodedReply::AppendHead(std::string_view bytes) {
  if (!pieces.empty() && !pieces.back().from_data &&
      pieces.back().offset + pieces.back().length == head.size()) {
    pieces.back().length += bytes.size();  // extend the previous head slice
  } else {
    pieces.push_back({false, head.size(), bytes.size()});
  }
  head.append(bytes);
}

void EncodedReply::AppendData(std::size_t offset, std::size_t length) {
  pieces.push_back({true, offset, length});
}

std::size_t EncodedReply::WireBytes() const {
  std::size_t total = 0;
  for (const Piece& p : pieces) total += p.length;
  return total;
}

std::string EncodedReply::Flatten() const {
  std::string out;
  out.reserve(WireBytes());
  for (const Piece& p : pieces) {
    const std::string& src = p.from_data ? data : head;
    out.append(src, p.offset, p.length);
  }
  return out;
}

EncodedReply SimpleReply(std::uint64_t cookie, Error error, std::string data) {
  EncodedReply reply;
  reply.error = error;
  reply.AppendHead(EncodeSimpleReplyHeader(cookie, error));
  reply.data = std::move(data);
  if (!reply.data.empty()) reply.AppendData(0, reply.data.size());
  return reply;
}

EncodedReply StructuredReadReply(std::uint64_t cookie, std::uint64_t offset, std::string data,
                                 bool df) {
  EncodedReply reply;
  reply.data = std::move(data);
  const std::size_t n = reply.data.size();
  if (n == 0) {
    ChunkHeader none{kReplyFlagDone, static_cast<std::uint16_t>(ReplyType::kNone), cookie, 0};
    reply.AppendHead(EncodeChunkHeader(none));
    return reply;
  }
  if (df || n < kMinHoleBytes) {
    AppendDataChunk(reply, cookie, offset, 0, n, true);
    return reply;
  }
  // Walk the buffer in blocks aligned to kHoleAlignBytes in the export, collecting runs of
  // zero and non-zero blocks; zero runs shorter than kMinHoleBytes stay data.
  struct Run {
    std::size_t begin;
    std::size_t end;
    bool hole;
  };
  std::vector<Run> runs;
  const char* p = reply.data.data();
  std::size_t pos = 0;
  while (pos < n) {
    const std::size_t misalign = (offset + pos) % kHoleAlignBytes;
    std::size_t block_end = std::min(n, pos + (kHoleAlignBytes - misalign));
    // Partial blocks at the edges are data unless whole; holes need whole aligned blocks.
    bool zero = block_end - pos == kHoleAlignBytes && AllZero(p + pos, block_end - pos);
    if (!runs.empty() && runs.back().hole == zero) {
      runs.back().end = block_end;
    } else {
      runs.push_back({pos, block_end, zero});
    }
    pos = block_end;
  }
  std::vector<Run> merged;
  for (Run run : runs) {
    if (run.hole && run.end - run.begin < kMinHoleBytes) run.hole = false;
    if (!merged.empty() && merged.back().hole == run.hole) {
      merged.back().end = run.end;
    } else {
      merged.push_back(run);
    }
  }
  for (std::size_t i = 0; i < merged.size(); ++i) {
    const Run& run = merged[i];
    bool done = i + 1 == merged.size();
    if (run.hole) {
      AppendHoleChunk(reply, cookie, offset + run.begin, run.end - run.begin, done);
    } else {
      AppendDataChunk(reply, cookie, offset + run.begin, run.begin, run.end - run.begin, done);
    }
  }
  return reply;
}

EncodedReply StructuredErrorReply(std::uint64_t cookie, Error error, std::string_view message) {
  message = message.substr(0, kMaxStringBytes);
  ChunkHeader h{kReplyFlagDone, static_cast<std::uint16_t>(ReplyType::kError), cookie,
                static_cast<std::uint32_t>(6 + message.size())};
  std::string head = EncodeChunkHeader(h);
  wire::PutU32(head, static_cast<std::uint32_t>(error));
  wire::PutU16(head, static_cast<std::uint16_t>(message.size()));
  head.append(message);
  EncodedReply reply;
  reply.error = error;
  reply.AppendHead(head);
  return reply;
}

std::string_view ErrorName(Error error) {
  switch (error) {
    case Error::kOk: return "OK";
    case Error::kPerm: return "EPERM";
    case Error::kIo: return "EIO";
    case Error::kNoMem: return "ENOMEM";
    case Error::kInval: return "EINVAL";
    case Error::kNoSpc: return "ENOSPC";
    case Error::kOverflow: return "EOVERFLOW";
    case Error::kNotSup: return "ENOTSUP";
    case Error::kShutdown: return "ESHUTDOWN";
  }
  return "E?";
}

std::string_view CommandName(std::uint16_t type) {
  switch (static_cast<Command>(type)) {
    case Command::kRead: return "READ";
    case Command::kWrite: return "WRITE";
    case Command::kDisc: return "DISC";
    case Command::kFlush: return "FLUSH";
    case Command::kTrim: return "TRIM";
    case Command::kCache: return "CACHE";
    case Command::kWriteZeroes: return "WRITE_ZEROES";
    case Command::kBlockStatus: return "BLOCK_STATUS";
    case Command::kResize: return "RESIZE";
  }
  return "UNKNOWN";
}

}  // namespace zerofs::nbd
