// XDR (RFC 4506): the External Data Representation every ONC RPC message is written in.
//
// XdrEncoder appends big-endian 4-byte units to a string it owns; variable-length opaque
// data and strings carry a u32 length and are zero-padded to a multiple of 4 bytes.
// XdrDecoder reads from a caller-owned byte view that must outlive it. Every decoder call
// is bounded: a length field larger than the caller's maximum or larger than the bytes
// left is a Corruption error before anything is allocated, so hostile input can neither
// crash the server nor make it allocate more than the record it already holds.
// Neither class is thread-safe; each is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"

namespace zerofs::nfs {

// XDR pads every item to this many bytes (RFC 4506 section 3).
inline constexpr std::size_t kXdrUnit = 4;
inline constexpr std::size_t XdrPadded(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

class XdrEncoder {
 public:
  void PutU32(std::uint32_t v);
  void PutI32(std::int32_t v) { PutU32(static_cast<std::uint32_t>(v)); }
  void PutU64(std::uint64_t v);  // hyper: high word first
  void PutBool(bool v) { PutU32(v ? 1 : 0); }
  // opaque[n]: exactly the bytes given, then zero padding.
  void PutFixedOpaque(std::string_view bytes);
  // opaque<> and string<>: length, bytes, zero padding.
  void PutOpaque(std::string_view bytes);
  void PutString(std::string_view s) { PutOpaque(s); }

  std::size_t size() const { return out_.size(); }
  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class XdrDecoder {
 public:
  explicit XdrDecoder(std::string_view in) : in_(in) {}

  Result<std::uint32_t> U32();
  Result<std::int32_t> I32();
  Result<std::uint64_t> U64();
  // Only 0 and 1 are booleans; anything else is malformed.
  Result<bool> Bool();
  // opaque[n], padding checked to be present (its value is not checked, as RFC 4506
  // only asks senders to zero it).
  Result<std::string> FixedOpaque(std::size_t n);
  // opaque<max> / string<max>.
  Result<std::string> Opaque(std::size_t max_bytes);
  Result<std::string> String(std::size_t max_bytes) { return Opaque(max_bytes); }
  // Like Opaque but returns a view into the input (no copy); valid as long as the input.
  Result<std::string_view> OpaqueView(std::size_t max_bytes);
  // The element count of a variable-length array T<max>. Also checks that the bytes left
  // could hold `count` elements of at least `min_element_bytes` each, so a hostile count
  // cannot trigger a large reserve().
  Result<std::uint32_t> ArrayCount(std::size_t max_count, std::size_t min_element_bytes = 4);
  // Discriminant of an optional-data (`*T`) item: false = absent.
  Result<bool> Optional() { return Bool(); }

  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool AtEnd() const { return pos_ == in_.size(); }
  // The unread rest of the input.
  std::string_view Rest() const { return in_.substr(pos_); }

 private:
  Status Short(const char* what, std::size_t need) const;

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace zerofs::nfs
