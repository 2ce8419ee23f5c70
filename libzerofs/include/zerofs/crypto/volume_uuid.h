// VolumeUuid: the 16-byte identity of a volume, chosen at `zerofs init`.
//
// Stored in the key file as text and bound into the AAD of every sealed frame and into every
// segment header and footer, so that objects of one volume can never be passed off as
// another's. Bytes are stored in text order ("0f1e2d3c-..." is 0f 1e 2d 3c ...).
//
// Thread-safety: a plain value type.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/crypto/random.h"

namespace zerofs::crypto {

struct VolumeUuid {
  std::array<std::uint8_t, 16> bytes{};

  // A random RFC 4122 version-4 UUID.
  static VolumeUuid Random(RandomSource& random);
  // Parses the 8-4-4-4-12 hex form (either case); kInvalidArgument otherwise.
  static Result<VolumeUuid> Parse(std::string_view text);
  // From exactly 16 raw bytes (as stored in a header or footer).
  static VolumeUuid FromBytes(const char* raw);

  // Lower-case 8-4-4-4-12 form.
  std::string ToString() const;
  // The 16 raw bytes, for encoders.
  std::string_view raw() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }

  friend bool operator==(const VolumeUuid&, const VolumeUuid&) = default;
};

}  // namespace zerofs::crypto
