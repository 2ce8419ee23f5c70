// ByteReader: a bounds-checked cursor over untrusted bytes, for the index layer's decoders.
//
// Every read checks that enough bytes remain and otherwise marks the reader failed and
// returns zero / an empty view, so a decoder can read a whole structure and check ok() once
// at the end (or earlier, before it allocates from a length it read). Integers are
// little-endian (format.h).
//
// Thread-safety: a value type for one thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "zerofs/format.h"

namespace zerofs::index {

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : rest_(bytes) {}

  bool ok() const { return ok_; }
  std::size_t remaining() const { return rest_.size(); }
  bool AtEnd() const { return rest_.empty(); }

  std::uint8_t U8() { return Take(1) ? format::LoadU8(last_) : 0; }
  std::uint16_t U16() { return Take(2) ? format::LoadU16(last_) : 0; }
  std::uint32_t U32() { return Take(4) ? format::LoadU32(last_) : 0; }
  std::uint64_t U64() { return Take(8) ? format::LoadU64(last_) : 0; }
  std::int64_t I64() { return static_cast<std::int64_t>(U64()); }

  // The next `n` bytes, viewing the input.
  std::string_view Bytes(std::size_t n) {
    if (!Take(n)) return {};
    return {last_, n};
  }

 private:
  bool Take(std::size_t n) {
    if (!ok_ || rest_.size() < n) {
      ok_ = false;
      return false;
    }
    last_ = rest_.data();
    rest_.remove_prefix(n);
    return true;
  }

  std::string_view rest_;
  const char* last_ = nullptr;
  bool ok_ = true;
};

// Appends a signed 64-bit value as its two's-complement u64.
inline void PutI64(std::string& out, std::int64_t v) {
  format::PutU64(out, static_cast<std::uint64_t>(v));
}

}  // namespace zerofs::index
