// Volume keys as bytes: make a new volume's key, unlock a key file, re-wrap it.
//
// Pure functions from bytes to bytes (the key file's text, docs/format.md §4) and to the
// unlocked VolumeKey; where the key file lives, and how it is created once and replaced,
// is the engine's business (engine::Volume::Create, OpenKey, ChangePassword).
//
//   GenerateVolumeKey  a random data key and uuid, wrapped under a password.
//   UnlockVolumeKey    parses and validates key-file bytes and unwraps them: a wrong password
//                      is kPermissionDenied "wrong password for volume <uuid>".
//   RewrapVolumeKey    the same data key under a new password (and cost parameters).
//
// The returned VolumeKey holds the KeyRing that every reader and writer of the volume
// shares; the data key itself is wiped once the subkeys are derived.
//
// Thread-safety: pure functions; the RandomSource passed in must be safe to use from the
// calling thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/common/secret.h"
#include "zerofs/crypto/key_file.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/random.h"
#include "zerofs/crypto/volume_uuid.h"

namespace zerofs::crypto {

struct VolumeKey {
  VolumeUuid uuid;
  std::shared_ptr<const KeyRing> keys;
  Argon2Params kdf;  // the cost parameters of the key file
};

// A VolumeKey together with the key file that wraps it, ready to be stored.
struct WrappedVolumeKey {
  VolumeKey key;
  std::string key_file;  // KeyFile::Encode()
};

// kInvalidArgument "the volume password is empty ..." for an empty password: every function
// here checks it first, and so may a caller before any costlier step.
Status RequirePassword(const Secret& password);

// kInvalidArgument for an empty password or cost parameters out of bounds.
Result<WrappedVolumeKey> GenerateVolumeKey(const Secret& password, const Argon2Params& kdf,
                                           RandomSource& random);

// `key_file` is the text of the object `object_name` (named in kCorruption errors).
// kInvalidArgument for an empty password, kPermissionDenied for a wrong one.
Result<VolumeKey> UnlockVolumeKey(std::string_view key_file, const Secret& password,
                                  std::string_view object_name = format::kKeyObjectName);

// Verifies `old_password` first (kPermissionDenied if wrong), then wraps the same data key
// and uuid under `new_password` with a fresh salt and nonce. `kdf` empty: keep the key
// file's cost parameters.
Result<WrappedVolumeKey> RewrapVolumeKey(std::string_view key_file, const Secret& old_password,
                                         const Secret& new_password,
                                         const std::optional<Argon2Params>& kdf,
                                         RandomSource& random,
                                         std::string_view object_name = format::kKeyObjectName);

}  // namespace zerofs::crypto
