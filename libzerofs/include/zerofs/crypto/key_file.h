// The key file `zerofs.key`: a volume's data key, wrapped by its password.
//
// Plaintext JSON (docs/format.md §4): format version, volume uuid, Argon2id salt and cost
// parameters, and the 32-byte data key sealed with XChaCha20-Poly1305 under a key derived
// from the password. The AAD of the seal binds the uuid and the cost parameters. Nothing in
// the file is secret without the password; the data key never leaves guarded memory.
//
// This header is the format: parse, encode, wrap and unwrap. volume_key.h builds the
// volume key on it; engine::Volume keeps the file in the bucket.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/common/secret.h"
#include "zerofs/crypto/random.h"
#include "zerofs/crypto/secure_bytes.h"
#include "zerofs/crypto/volume_uuid.h"
#include "zerofs/format.h"

namespace zerofs::crypto {

// Argon2id cost parameters. More is slower for the user and for an attacker alike.
struct Argon2Params {
  std::uint64_t opslimit = 3;
  std::uint64_t memlimit_bytes = 256ULL << 20;

  // libsodium's MODERATE: about 0.35 s and 256 MiB on one core, once per process start.
  static Argon2Params Default() { return {3, 256ULL << 20}; }
  // The least Argon2id allows; for tests, where speed matters and the password is fake.
  static Argon2Params Minimum() {
    return {format::kArgon2MinOpslimit, format::kArgon2MinMemlimitBytes};
  }
  // kInvalidArgument unless within the bounds every reader accepts.
  Status Validate() const;

  friend bool operator==(const Argon2Params&, const Argon2Params&) = default;
};

struct KeyFile {
  VolumeUuid volume_uuid;
  Argon2Params kdf;
  std::array<std::uint8_t, format::kSaltBytes> salt{};
  std::array<std::uint8_t, format::kNonceBytes> nonce{};
  std::array<std::uint8_t, format::kDataKeyBytes + format::kTagBytes> wrapped_key{};

  // The JSON text, pretty-printed with two-space indents and a final newline.
  std::string Encode() const;
  // Strict parse: every member required, none unknown, bounds checked. Errors are
  // kCorruption naming `object_name`.
  static Result<KeyFile> Parse(std::string_view text, std::string_view object_name);

  friend bool operator==(const KeyFile&, const KeyFile&) = default;
};

// A new random data key (for a new volume).
SecureBytes NewDataKey(RandomSource& random);

// Wraps `data_key` for `uuid` under `password` with a fresh salt and nonce.
Result<KeyFile> WrapDataKey(const VolumeUuid& uuid, std::span<const std::uint8_t> data_key,
                            const Secret& password, const Argon2Params& kdf, RandomSource& random);

// The data key of `file`. kPermissionDenied "wrong password for volume <uuid>" if the
// password (or the file) does not authenticate.
Result<SecureBytes> UnwrapDataKey(const KeyFile& file, const Secret& password);

}  // namespace zerofs::crypto
