// 9P2000.L codec: pure functions between the messages of messages.h and bytes.
//
// Nothing here touches a socket, so every decoder can be driven by unit tests and fuzzers
// directly. Decoders never trust a length: a frame is bounded by the negotiated msize (and
// by kMaxMsizeCap whatever was negotiated), a string or data count by the bytes actually
// present, a walk by kMaxWalkNames; every allocation is therefore bounded by the size of
// the input. Any violation, including trailing bytes after the last field, is Corruption
// and the server closes the connection. Encoders for both directions exist so that tests
// and the FUSE client (zerofs-mount) can use the same code.
//
// Thread-safety: stateless; call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/ninep/messages.h"
#include "zerofs/ninep/protocol.h"

namespace zerofs::ninep {

struct FrameHeader {
  std::uint32_t size = 0;  // whole frame, header included
  std::uint8_t type = 0;
  std::uint16_t tag = 0;
  std::size_t body_bytes() const { return size - kHeaderBytes; }
};

// The first kHeaderBytes of a frame. Corruption when size < kHeaderBytes or size > msize
// (msize itself is capped at kMaxMsizeCap).
Result<FrameHeader> DecodeFrameHeader(std::string_view bytes, std::uint32_t msize);

// Splits whole frames off the front of `buffer`: returns the size of the first complete
// frame, 0 when more bytes are needed, or Corruption. For stream consumers and fuzzers.
Result<std::size_t> CompleteFrameBytes(std::string_view buffer, std::uint32_t msize);

// A request body of `type`. InvalidArgument-free: an unknown type, a truncated or
// oversized field, or leftover bytes are all Corruption. A T-message type this server
// does not implement (Topen, Tcreate, Tstat, ...) is NotSupported, answered with
// Rlerror(EOPNOTSUPP) without closing.
Result<Request> DecodeRequest(std::uint8_t type, std::string_view body);
// The same for a reply body (clients and tests).
Result<Reply> DecodeReply(std::uint8_t type, std::string_view body);

// A whole frame: header plus body.
std::string EncodeRequest(std::uint16_t tag, const Request& request);
std::string EncodeReply(std::uint16_t tag, const Reply& reply);
// Wire type of a message.
std::uint8_t TypeOf(const Request& request);
std::uint8_t TypeOf(const Reply& reply);

// Bytes of a frame carrying `reply` (without building it), so that callers can check it
// against msize before sending.
std::size_t EncodedReplyBytes(const Reply& reply);

// One Rreaddir entry. `offset` is the cookie to resume after this entry.
struct Dirent {
  Qid qid;
  std::uint64_t offset = 0;
  std::uint8_t type = 0;  // DT_* value
  std::string name;
  friend bool operator==(const Dirent&, const Dirent&) = default;
};
std::size_t DirentBytes(const Dirent& entry);
// Appends `entry` to `out` unless that would make `out` longer than `max_bytes`; returns
// whether it did.
bool AppendDirent(std::string& out, const Dirent& entry, std::size_t max_bytes);
// Parses Rreaddir data. Corruption for a truncated entry.
Result<std::vector<Dirent>> DecodeDirents(std::string_view data);

}  // namespace zerofs::ninep
