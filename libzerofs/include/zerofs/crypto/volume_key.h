// Volume keys in the bucket: create a volume's key file once, open it, change its password.
//
//   CreateVolumeKey       `zerofs init`: a random data key and uuid, wrapped and PUT with
//                         If-None-Match: *, so two racing inits cannot create two keys; the
//                         loser gets kAlreadyExists "volume already exists at <store>".
//   OpenVolumeKey         every process start, before any other object of the volume is read
//                         or written: a wrong password is kPermissionDenied "wrong password
//                         for volume <uuid>".
//   ChangeVolumePassword  `zerofs passwd`: re-wraps the same data key under a new password
//                         and replaces the key file with If-Match on the etag it read, so a
//                         concurrent change is detected (kPreconditionFailed), not lost.
//
// The returned VolumeKey holds the KeyRing that every reader and writer of the volume
// shares; the data key itself is wiped once the subkeys are derived.
//
// Thread-safety: the functions may run concurrently; the store arbitrates.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "zerofs/common/result.h"
#include "zerofs/common/secret.h"
#include "zerofs/crypto/key_file.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/random.h"
#include "zerofs/crypto/volume_uuid.h"
#include "zerofs/objstore/object_store.h"

namespace zerofs::crypto {

struct VolumeKey {
  VolumeUuid uuid;
  std::shared_ptr<const KeyRing> keys;
  Argon2Params kdf;  // the cost parameters of the key file as stored
  std::string etag;  // of the key file as read or written
};

struct CreateVolumeOptions {
  Argon2Params kdf = Argon2Params::Default();
  RandomSource* random = nullptr;  // null: SystemRandom()
};

Result<VolumeKey> CreateVolumeKey(objstore::ObjectStore& store, const Secret& password,
                                  const CreateVolumeOptions& options = {});

// kNotFound "no volume at <store>" when there is no key file.
Result<VolumeKey> OpenVolumeKey(objstore::ObjectStore& store, const Secret& password);

struct ChangePasswordOptions {
  std::optional<Argon2Params> kdf;  // empty: keep the key file's cost parameters
  RandomSource* random = nullptr;
};

// Verifies `old_password` first (kPermissionDenied if wrong), then re-wraps.
Result<VolumeKey> ChangeVolumePassword(objstore::ObjectStore& store, const Secret& old_password,
                                       const Secret& new_password,
                                       const ChangePasswordOptions& options = {});

}  // namespace zerofs::crypto
