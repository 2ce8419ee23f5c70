// Big-endian field helpers shared by the NBD codec. Internal to servers/nbd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zerofs::nbd::wire {

inline void PutU16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
inline void PutU32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
inline void PutU64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

// Reads fixed-width fields from a buffer whose size the caller has already checked.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::size_t remaining() const { return bytes_.size() - pos_; }
  std::uint16_t U16() { return static_cast<std::uint16_t>(Take(2)); }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Take(4)); }
  std::uint64_t U64() { return Take(8); }
  std::string_view Bytes(std::size_t n) {
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += out.size();
    return out;
  }

 private:
  std::uint64_t Take(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n && pos_ < bytes_.size(); ++i, ++pos_) {
      v = (v << 8) | static_cast<unsigned char>(bytes_[pos_]);
    }
    return v;
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
};

}  // namespace zerofs::nbd::wire
