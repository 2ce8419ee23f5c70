// 9P2000.L codec; see codec.h. One field walker per direction serves every message.
#include "zerofs/ninep/codec.h"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>

namespace zerofs::ninep {
namespace {

// ---- Encoding ------------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  template <typename... Args>
  void operator()(const Args&... args) {
    (Put(args), ...);
  }

  void Put(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Put(std::uint16_t v) { PutLe(v, 2); }
  void Put(std::uint32_t v) { PutLe(v, 4); }
  void Put(std::uint64_t v) { PutLe(v, 8); }
  void Put(const std::string& s) {
    // A string longer than 65535 bytes cannot be expressed; callers bound names far below.
    const std::size_t n = s.size() > 0xffff ? 0xffff : s.size();
    Put(static_cast<std::uint16_t>(n));
    out_.append(s.data(), n);
  }
  void Put(const Data& d) {
    Put(static_cast<std::uint32_t>(d.bytes.size()));
    out_.append(d.bytes);
  }
  void Put(const Qid& q) {
    Put(q.type);
    Put(q.version);
    Put(q.path);
  }
  void Put(const std::vector<std::string>& names) {
    Put(static_cast<std::uint16_t>(names.size()));
    for (const std::string& n : names) Put(n);
  }
  void Put(const std::vector<Qid>& qids) {
    Put(static_cast<std::uint16_t>(qids.size()));
    for (const Qid& q : qids) Put(q);
  }

 private:
  void PutLe(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string& out_;
};

// Counts the bytes Writer would produce.
class Sizer {
 public:
  template <typename... Args>
  void operator()(const Args&... args) {
    (Add(args), ...);
  }
  void Add(std::uint8_t) { bytes += 1; }
  void Add(std::uint16_t) { bytes += 2; }
  void Add(std::uint32_t) { bytes += 4; }
  void Add(std::uint64_t) { bytes += 8; }
  void Add(const std::string& s) { bytes += 2 + std::min<std::size_t>(s.size(), 0xffff); }
  void Add(const Data& d) { bytes += 4 + d.bytes.size(); }
  void Add(const Qid&) { bytes += kQidBytes; }
  void Add(const std::vector<std::string>& names) {
    bytes += 2;
    for (const std::string& n : names) Add(n);
  }
  void Add(const std::vector<Qid>& qids) { bytes += 2 + kQidBytes * qids.size(); }
  std::size_t bytes = 0;
};

template <typename Message>
std::string EncodeFrame(std::uint16_t tag, const Message& message) {
  std::string out;
  Sizer sizer;
  const_cast<Message&>(message).Fields(sizer);  // Fields only reads through the visitor
  out.reserve(kHeaderBytes + sizer.bytes);
  Writer w(out);
  w.Put(static_cast<std::uint32_t>(kHeaderBytes + sizer.bytes));
  w.Put(static_cast<std::uint8_t>(Message::kType));
  w.Put(tag);
  const_cast<Message&>(message).Fields(w);
  return out;
}

// ---- Decoding ------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  template <typename... Args>
  void operator()(Args&... args) {
    (Get(args), ...);
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return in_.size() - pos_; }

  void Get(std::uint8_t& v) { v = static_cast<std::uint8_t>(GetLe(1)); }
  void Get(std::uint16_t& v) { v = static_cast<std::uint16_t>(GetLe(2)); }
  void Get(std::uint32_t& v) { v = static_cast<std::uint32_t>(GetLe(4)); }
  void Get(std::uint64_t& v) { v = GetLe(8); }
  void Get(std::string& s) {
    const std::size_t n = GetLe(2);
    if (!Need(n, "string")) return;
    s.assign(in_.substr(pos_, n));
    pos_ += n;
  }
  void Get(Data& d) {
    const std::size_t n = GetLe(4);
    if (!Need(n, "data")) return;
    d.bytes.assign(in_.substr(pos_, n));
    pos_ += n;
  }
  void Get(Qid& q) {
    Get(q.type);
    Get(q.version);
    Get(q.path);
  }
  void Get(std::vector<std::string>& names) {
    const auto n = static_cast<std::uint16_t>(GetLe(2));
    if (!ok()) return;
    if (n > kMaxWalkNames) {
      Fail("walk of " + std::to_string(n) + " names (at most 16)");
      return;
    }
    names.resize(n);
    for (std::string& s : names) Get(s);
  }
  void Get(std::vector<Qid>& qids) {
    const auto n = static_cast<std::uint16_t>(GetLe(2));
    if (!ok()) return;
    if (n > kMaxWalkNames) {
      Fail("walk reply of " + std::to_string(n) + " qids (at most 16)");
      return;
    }
    if (!Need(std::size_t{n} * kQidBytes, "qids")) return;
    qids.resize(n);
    for (Qid& q : qids) Get(q);
  }

 private:
  bool Need(std::size_t n, const char* what) {
    if (!ok()) return false;
    if (n > remaining()) {
      Fail(std::string(what) + " of " + std::to_string(n) + " bytes runs past the end");
      return false;
    }
    return true;
  }
  std::uint64_t GetLe(std::size_t bytes) {
    if (!Need(bytes, "field")) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
      v |= std::uint64_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
    }
    pos_ += bytes;
    return v;
  }
  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::string error_;
};

template <typename Message>
Result<Message> DecodeBody(std::string_view body) {
  Message m;
  Reader r(body);
  m.Fields(r);
  const std::string_view name = MessageTypeName(static_cast<std::uint8_t>(Message::kType));
  if (!r.ok()) return Status::Corruption(std::string(name) + ": " + r.error());
  if (r.remaining() != 0) {
    return Status::Corruption(std::string(name) + ": " + std::to_string(r.remaining()) +
                              " trailing bytes");
  }
  return m;
}

// Decodes `body` as the alternative of Variant whose kType is `type`.
template <typename Variant, std::size_t... I>
Result<Variant> DecodeAlternative(std::uint8_t type, std::string_view body,
                                  std::index_sequence<I...>) {
  Result<Variant> out = Status::NotFound("no such message type");
  auto try_one = [&](auto tag) {
    using M = std::variant_alternative_t<decltype(tag)::value, Variant>;
    if (static_cast<std::uint8_t>(M::kType) != type) return false;
    Result<M> m = DecodeBody<M>(body);
    if (m.ok()) {
      out = Variant(std::move(*m));
    } else {
      out = m.status();
    }
    return true;
  };
  (try_one(std::integral_constant<std::size_t, I>{}) || ...);
  return out;
}

}  // namespace

Result<FrameHeader> DecodeFrameHeader(std::string_view bytes, std::uint32_t msize) {
  if (bytes.size() < kHeaderBytes) return Status::Corruption("short 9P frame header");
  Reader r(bytes.substr(0, kHeaderBytes));
  FrameHeader h;
  r(h.size, h.type, h.tag);
  const std::uint32_t limit = std::min(msize, kMaxMsizeCap);
  if (h.size < kHeaderBytes) {
    return Status::Corruption("9P frame size " + std::to_string(h.size) + " below the header");
  }
  if (h.size > limit) {
    return Status::Corruption("9P frame of " + std::to_string(h.size) + " bytes exceeds msize " +
                              std::to_string(limit));
  }
  return h;
}

Result<std::size_t> CompleteFrameBytes(std::string_view buffer, std::uint32_t msize) {
  if (buffer.size() < kHeaderBytes) return std::size_t{0};
  ZEROFS_ASSIGN_OR_RETURN(FrameHeader h, DecodeFrameHeader(buffer, msize));
  return buffer.size() >= h.size ? std::size_t{h.size} : std::size_t{0};
}

Result<Request> DecodeRequest(std::uint8_t type, std::string_view body) {
  Result<Request> r = DecodeAlternative<Request>(
      type, body, std::make_index_sequence<std::variant_size_v<Request>>{});
  if (r.ok() || !r.status().IsNotFound()) return r;
  if (type % 2 == 0 && type != static_cast<std::uint8_t>(MessageType::kTerror)) {
    return Status::NotSupported(std::string(MessageTypeName(type)) + " is not supported");
  }
  return Status::Corruption(std::string(MessageTypeName(type)) + " is not a request");
}

Result<Reply> DecodeReply(std::uint8_t type, std::string_view body) {
  Result<Reply> r =
      DecodeAlternative<Reply>(type, body, std::make_index_sequence<std::variant_size_v<Reply>>{});
  if (r.ok() || !r.status().IsNotFound()) return r;
  return Status::Corruption(std::string(MessageTypeName(type)) + " is not a reply");
}

std::string EncodeRequest(std::uint16_t tag, const Request& request) {
  return std::visit([tag](const auto& m) { return EncodeFrame(tag, m); }, request);
}

std::string EncodeReply(std::uint16_t tag, const Reply& reply) {
  return std::visit([tag](const auto& m) { return EncodeFrame(tag, m); }, reply);
}

std::uint8_t TypeOf(const Request& request) {
  return std::visit(
      [](const auto& m) { return static_cast<std::uint8_t>(std::decay_t<decltype(m)>::kType); },
      request);
}

std::uint8_t TypeOf(const Reply& reply) {
  return std::visit(
      [](const auto& m) { return static_cast<std::uint8_t>(std::decay_t<decltype(m)>::kType); },
      reply);
}

std::size_t EncodedReplyBytes(const Reply& reply) {
  return std::visit(
      [](const auto& m) {
        Sizer s;
        using M = std::decay_t<decltype(m)>;
        const_cast<M&>(m).Fields(s);
        return kHeaderBytes + s.bytes;
      },
      reply);
}

std::size_t DirentBytes(const Dirent& entry) {
  return kDirentFixedBytes + std::min<std::size_t>(entry.name.size(), 0xffff);
}

bool AppendDirent(std::string& out, const Dirent& entry, std::size_t max_bytes) {
  if (out.size() + DirentBytes(entry) > max_bytes) return false;
  Writer w(out);
  w(entry.qid, entry.offset, entry.type, entry.name);
  return true;
}

Result<std::vector<Dirent>> DecodeDirents(std::string_view data) {
  std::vector<Dirent> out;
  Reader r(data);
  while (r.ok() && r.remaining() > 0) {
    Dirent d;
    r(d.qid, d.offset, d.type, d.name);
    if (r.ok()) out.push_back(std::move(d));
  }
  if (!r.ok()) return Status::Corruption("readdir entry: " + r.error());
  return out;
}

std::string_view MessageTypeName(std::uint8_t type) {
  switch (static_cast<MessageType>(type)) {
#define ZEROFS_NINEP_NAME(N) \
  case MessageType::k##N: return #N;
    ZEROFS_NINEP_NAME(Tlerror)
    ZEROFS_NINEP_NAME(Rlerror) ZEROFS_NINEP_NAME(Tstatfs) ZEROFS_NINEP_NAME(
        Rstatfs) ZEROFS_NINEP_NAME(Tlopen) ZEROFS_NINEP_NAME(Rlopen) ZEROFS_NINEP_NAME(Tlcreate)
        ZEROFS_NINEP_NAME(Rlcreate) ZEROFS_NINEP_NAME(Tsymlink) ZEROFS_NINEP_NAME(
            Rsymlink) ZEROFS_NINEP_NAME(Tmknod) ZEROFS_NINEP_NAME(Rmknod) ZEROFS_NINEP_NAME(Trename)
            ZEROFS_NINEP_NAME(Rrename) ZEROFS_NINEP_NAME(Treadlink) ZEROFS_NINEP_NAME(
                Rreadlink) ZEROFS_NINEP_NAME(Tgetattr) ZEROFS_NINEP_NAME(Rgetattr)
                ZEROFS_NINEP_NAME(Tsetattr) ZEROFS_NINEP_NAME(Rsetattr) ZEROFS_NINEP_NAME(
                    Txattrwalk) ZEROFS_NINEP_NAME(Rxattrwalk) ZEROFS_NINEP_NAME(Txattrcreate)
                    ZEROFS_NINEP_NAME(Rxattrcreate) ZEROFS_NINEP_NAME(Treaddir) ZEROFS_NINEP_NAME(
                        Rreaddir) ZEROFS_NINEP_NAME(Tfsync) ZEROFS_NINEP_NAME(Rfsync)
                        ZEROFS_NINEP_NAME(Tlock) ZEROFS_NINEP_NAME(Rlock) ZEROFS_NINEP_NAME(
                            Tgetlock) ZEROFS_NINEP_NAME(Rgetlock) ZEROFS_NINEP_NAME(Tlink)
                            ZEROFS_NINEP_NAME(Rlink) ZEROFS_NINEP_NAME(Tmkdir) ZEROFS_NINEP_NAME(
                                Rmkdir) ZEROFS_NINEP_NAME(Trenameat) ZEROFS_NINEP_NAME(Rrenameat)
                                ZEROFS_NINEP_NAME(Tunlinkat) ZEROFS_NINEP_NAME(
                                    Runlinkat) ZEROFS_NINEP_NAME(Tversion)
                                    ZEROFS_NINEP_NAME(Rversion) ZEROFS_NINEP_NAME(
                                        Tauth) ZEROFS_NINEP_NAME(Rauth) ZEROFS_NINEP_NAME(Tattach)
                                        ZEROFS_NINEP_NAME(Rattach) ZEROFS_NINEP_NAME(
                                            Terror) ZEROFS_NINEP_NAME(Rerror)
                                            ZEROFS_NINEP_NAME(Tflush) ZEROFS_NINEP_NAME(
                                                Rflush) ZEROFS_NINEP_NAME(Twalk)
                                                ZEROFS_NINEP_NAME(Rwalk) ZEROFS_NINEP_NAME(
                                                    Topen) ZEROFS_NINEP_NAME(Ropen)
                                                    ZEROFS_NINEP_NAME(Tcreate) ZEROFS_NINEP_NAME(
                                                        Rcreate) ZEROFS_NINEP_NAME(Tread)
                                                        ZEROFS_NINEP_NAME(Rread) ZEROFS_NINEP_NAME(
                                                            Twrite) ZEROFS_NINEP_NAME(Rwrite)
                                                            ZEROFS_NINEP_NAME(Tclunk)
                                                                ZEROFS_NINEP_NAME(Rclunk)
                                                                    ZEROFS_NINEP_NAME(Tremove)
                                                                        ZEROFS_NINEP_NAME(Rremove)
#undef ZEROFS_NINEP_NAME
  }
  return "unknown type";
}

}  // namespace zerofs::ninep
