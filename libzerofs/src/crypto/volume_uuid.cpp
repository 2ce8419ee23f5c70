#include "zerofs/crypto/volume_uuid.h"

#include <cstring>

#include "zerofs/common/coding.h"

namespace zerofs::crypto {
namespace {

// Byte positions after which the text form has a dash.
bool DashAfter(std::size_t byte_index) {
  return byte_index == 3 || byte_index == 5 || byte_index == 7 || byte_index == 9;
}

}  // namespace

VolumeUuid VolumeUuid::Random(RandomSource& random) {
  VolumeUuid uuid;
  random.Fill(uuid.bytes);
  uuid.bytes[6] = static_cast<std::uint8_t>((uuid.bytes[6] & 0x0f) | 0x40);  // version 4
  uuid.bytes[8] = static_cast<std::uint8_t>((uuid.bytes[8] & 0x3f) | 0x80);  // RFC 4122
  return uuid;
}

Result<VolumeUuid> VolumeUuid::Parse(std::string_view text) {
  VolumeUuid uuid;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < uuid.bytes.size(); ++i) {
    if (pos + 2 > text.size()) break;
    const int hi = coding::HexValue(text[pos]);
    const int lo = coding::HexValue(text[pos + 1]);
    if (hi < 0 || lo < 0) break;
    uuid.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    pos += 2;
    if (DashAfter(i)) {
      if (pos >= text.size() || text[pos] != '-') break;
      ++pos;
    }
    if (i + 1 == uuid.bytes.size() && pos == text.size()) return uuid;
  }
  return Status::InvalidArgument("'" + std::string(text.substr(0, 64)) +
                                 "' is not a UUID (expected 8-4-4-4-12 hex digits)");
}

VolumeUuid VolumeUuid::FromBytes(const char* raw) {
  VolumeUuid uuid;
  std::memcpy(uuid.bytes.data(), raw, uuid.bytes.size());
  return uuid;
}

std::string VolumeUuid::ToString() const {
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out.push_back(coding::HexDigit(bytes[i] >> 4));
    out.push_back(coding::HexDigit(bytes[i]));
    if (DashAfter(i)) out.push_back('-');
  }
  return out;
}

}  // namespace zerofs::crypto
