#include "zerofs/common/coding.h"

#include <algorithm>

namespace zerofs::coding {

int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int HexValue(char c) {
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return LowerHexValue(c);
}

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return LowerHexValue(c) >= 0; });
}

std::string HexEncode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(HexDigit(b >> 4));
    out.push_back(HexDigit(b));
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  return HexEncode(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

bool HexDecode(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = LowerHexValue(hex[2 * i]);
    const int lo = LowerHexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::string HexU64(std::uint64_t v, std::size_t min_digits) {
  char digits[kHexU64Digits];
  std::size_t n = 0;
  do {
    digits[kHexU64Digits - 1 - n] = HexDigit(static_cast<unsigned>(v));
    v >>= 4;
    ++n;
  } while (v != 0);
  min_digits = std::clamp<std::size_t>(min_digits, 1, kHexU64Digits);
  std::string out(n < min_digits ? min_digits - n : 0, '0');
  out.append(digits + kHexU64Digits - n, n);
  return out;
}

std::optional<std::uint64_t> ParseHexU64(std::string_view text) {
  if (text.empty() || text.size() > kHexU64Digits) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    const int d = LowerHexValue(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}

std::string HexU64Name(std::string_view prefix, std::uint64_t v) {
  std::string out(prefix);
  out += HexU64(v);
  return out;
}

std::optional<std::uint64_t> ParseHexU64Name(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  name.remove_prefix(prefix.size());
  if (name.size() != kHexU64Digits) return std::nullopt;
  return ParseHexU64(name);
}

void StoreBigEndian64(char* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}

void AppendBigEndian64(std::string& out, std::uint64_t v) {
  char bytes[8];
  StoreBigEndian64(bytes, v);
  out.append(bytes, sizeof bytes);
}

std::uint64_t LoadBigEndian64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

}  // namespace zerofs::coding
