// NBD wire codec: pure functions between protocol messages and bytes.
//
// Nothing here touches a socket, a clock or a device, so every decoder can be driven
// directly by unit tests and fuzzers: it takes the bytes of one fixed-size header or one
// option payload and returns a Result. Malformed input never asserts: a broken frame (bad
// magic, impossible length) is Corruption, which the server treats as a protocol
// violation and answers by closing the connection; a well-framed but invalid option payload
// is InvalidArgument, answered with NBD_REP_ERR_INVALID. Server-side encoders come with the
// matching client-side decoders so that tests (and a future client) can check round trips.
//
// Thread-safety: stateless; call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/nbd/protocol.h"

namespace zerofs::nbd {

// ---- Handshake -----------------------------------------------------------------------

// NBDMAGIC, IHAVEOPT, handshake flags: the first 18 bytes the server sends.
std::string EncodeGreeting(std::uint16_t handshake_flags);

// The client's 32-bit flags. Bits other than FIXED_NEWSTYLE and NO_ZEROES are Corruption.
Result<std::uint32_t> DecodeClientFlags(std::string_view bytes);

struct OptionHeader {
  std::uint32_t option = 0;
  std::uint32_t length = 0;  // payload bytes that follow
};
// 16 bytes. Corruption for a bad magic or a length above kMaxOptionPayloadBytes.
Result<OptionHeader> DecodeOptionHeader(std::string_view bytes);
std::string EncodeOptionHeader(std::uint32_t option, std::string_view payload);  // + payload

// Payload of NBD_OPT_INFO and NBD_OPT_GO.
struct InfoRequest {
  std::string name;
  std::vector<std::uint16_t> items;  // NBD_INFO_* codes, unknown ones included
};
Result<InfoRequest> DecodeInfoRequest(std::string_view payload);
std::string EncodeInfoRequest(const InfoRequest& request);

// One option reply: magic, option, reply type, length, data.
std::string EncodeOptionReply(std::uint32_t option, OptionReply type, std::string_view data = {});
struct OptionReplyHeader {
  std::uint32_t option = 0;
  std::uint32_t type = 0;
  std::uint32_t length = 0;
};
Result<OptionReplyHeader> DecodeOptionReplyHeader(std::string_view bytes);  // 20 bytes

// Data of the reply types above.
std::string EncodeServerEntry(std::string_view name, std::string_view description);
std::string EncodeInfoExport(std::uint64_t size_bytes, std::uint16_t transmission_flags);
std::string EncodeInfoString(InfoType type, std::string_view text);  // kName, kDescription
std::string EncodeInfoBlockSize(std::uint32_t min_bytes, std::uint32_t preferred_bytes,
                                std::uint32_t max_bytes);
// Reply to NBD_OPT_EXPORT_NAME: size, flags and (unless no_zeroes) 124 zero bytes.
std::string EncodeExportNameReply(std::uint64_t size_bytes, std::uint16_t transmission_flags,
                                  bool no_zeroes);

// ---- Transmission --------------------------------------------------------------------

struct Request {
  std::uint16_t flags = 0;   // NBD_CMD_FLAG_*
  std::uint16_t type = 0;    // a Command, or an unknown value to be rejected with EINVAL
  std::uint64_t cookie = 0;  // opaque "handle", echoed in the reply
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};
// 28 bytes. Corruption for a bad magic.
Result<Request> DecodeRequest(std::string_view bytes);
std::string EncodeRequest(const Request& request);

struct SimpleReplyHeader {
  std::uint32_t error = 0;
  std::uint64_t cookie = 0;
};
std::string EncodeSimpleReplyHeader(std::uint64_t cookie, Error error);
Result<SimpleReplyHeader> DecodeSimpleReplyHeader(std::string_view bytes);  // 16 bytes

struct ChunkHeader {
  std::uint16_t flags = 0;
  std::uint16_t type = 0;
  std::uint64_t cookie = 0;
  std::uint32_t length = 0;  // payload bytes that follow
};
std::string EncodeChunkHeader(const ChunkHeader& header);
Result<ChunkHeader> DecodeChunkHeader(std::string_view bytes);  // 20 bytes

// A reply ready for the socket: small headers in `head`, bulk read data in `data`, and
// the order in which slices of both go on the wire. Lets a structured read split one
// buffer into data and hole chunks without copying it.
struct EncodedReply {
  struct Piece {
    bool from_data = false;
    std::size_t offset = 0;
    std::size_t length = 0;
  };
  std::string head;
  std::string data;
  std::vector<Piece> pieces;
  Error error = Error::kOk;  // what the reply reports (for the server's counters)

  void AppendHead(std::string_view bytes);
  void AppendData(std::size_t offset, std::size_t length);
  std::size_t WireBytes() const;
  std::string Flatten() const;  // the exact bytes on the wire (tests)
};

// Simple reply: header, then `data` (only for a successful READ).
EncodedReply SimpleReply(std::uint64_t cookie, Error error, std::string data = {});

// Structured reply to a successful READ of `data` at `offset`: OFFSET_DATA chunks, with
// runs of at least kMinHoleBytes of zeroes (aligned to kHoleAlignBytes in the export) sent
// as OFFSET_HOLE chunks instead; a single OFFSET_DATA chunk when `df` (don't fragment).
// The last chunk carries NBD_REPLY_FLAG_DONE. An empty read is one NONE chunk.
inline constexpr std::size_t kHoleAlignBytes = 4096;
inline constexpr std::size_t kMinHoleBytes = 64 * 1024;
EncodedReply StructuredReadReply(std::uint64_t cookie, std::uint64_t offset, std::string data,
                                 bool df);

// Structured NBD_REPLY_TYPE_ERROR chunk, flagged DONE; `message` is cut to 4096 bytes.
EncodedReply StructuredErrorReply(std::uint64_t cookie, Error error, std::string_view message);

// Human-readable name of an error value, e.g. "EINVAL".
std::string_view ErrorName(Error error);
std::string_view CommandName(std::uint16_t type);

}  // namespace zerofs::nbd
