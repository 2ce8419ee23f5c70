// The volume's lifecycle in the bucket: the key file created once, read at every open,
// replaced by a password change. The bytes are crypto's (crypto/volume_key.h); which
// object holds them and how it is written without losing a race is decided here.
#include "zerofs/common/log.h"
#include "zerofs/engine/volume.h"
#include "zerofs/format.h"

namespace zerofs::engine {
namespace {

using crypto::RequirePassword;
using format::kKeyObjectName;

Status AlreadyExists(objstore::ObjectStore& store) {
  return Status::AlreadyExists("volume already exists at " + store.Describe() + " (" +
                               std::string(kKeyObjectName) +
                               " is present); refusing to create another");
}

Result<objstore::GetResult> ReadKeyFile(objstore::ObjectStore& store) {
  Result<objstore::GetResult> got = store.Get(kKeyObjectName);
  if (!got.ok() && got.status().IsNotFound()) {
    return Status::NotFound("no volume at " + store.Describe() + " (" +
                            std::string(kKeyObjectName) +
                            " not found); create one with `zerofs init`");
  }
  return got;
}

}  // namespace

Result<crypto::VolumeKey> Volume::Create(objstore::ObjectStore& store, const Secret& password,
                                         const CreateOptions& options) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(password));
  ZEROFS_RETURN_IF_ERROR(options.kdf.Validate());
  // A store without conditional creates cannot arbitrate a race, but it can still refuse to
  // overwrite a volume that exists; the check costs one HEAD before the expensive Argon2id.
  Result<objstore::ObjectInfo> head = store.Head(kKeyObjectName);
  if (head.ok()) return AlreadyExists(store);
  if (!head.status().IsNotFound()) return head.status();

  ZEROFS_ASSIGN_OR_RETURN(
      crypto::WrappedVolumeKey made,
      crypto::GenerateVolumeKey(password, options.kdf, crypto::OrSystem(options.random)));
  Result<objstore::ObjectInfo> put =
      store.Put(kKeyObjectName, made.key_file, objstore::PutOptions::IfNoneMatch());
  if (!put.ok()) {
    if (put.status().IsPreconditionFailed()) return AlreadyExists(store);
    return put.status();
  }
  ZEROFS_LOG(kInfo) << "created volume " << made.key.uuid.ToString() << " at " << store.Describe();
  return std::move(made.key);
}

Result<crypto::VolumeKey> Volume::OpenKey(objstore::ObjectStore& store, const Secret& password) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(password));
  ZEROFS_ASSIGN_OR_RETURN(objstore::GetResult got, ReadKeyFile(store));
  return crypto::UnlockVolumeKey(got.data, password);
}

Result<crypto::VolumeKey> Volume::ChangePassword(objstore::ObjectStore& store,
                                                 const Secret& old_password,
                                                 const Secret& new_password,
                                                 const ChangePasswordOptions& options) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(old_password));
  if (new_password.empty()) return Status::InvalidArgument("the new password is empty");
  if (options.kdf.has_value()) ZEROFS_RETURN_IF_ERROR(options.kdf->Validate());
  ZEROFS_ASSIGN_OR_RETURN(objstore::GetResult got, ReadKeyFile(store));
  ZEROFS_ASSIGN_OR_RETURN(crypto::WrappedVolumeKey made,
                          crypto::RewrapVolumeKey(got.data, old_password, new_password, options.kdf,
                                                  crypto::OrSystem(options.random)));
  Result<objstore::ObjectInfo> put =
      store.Put(kKeyObjectName, made.key_file, objstore::PutOptions::IfMatch(got.info.etag));
  if (!put.ok()) {
    if (put.status().IsPreconditionFailed()) {
      return Status::PreconditionFailed(
          std::string(kKeyObjectName) + " of volume " + made.key.uuid.ToString() +
          " changed while the password was being changed; nothing was written, try again");
    }
    return put.status();
  }
  ZEROFS_LOG(kInfo) << "changed the password of volume " << made.key.uuid.ToString();
  return std::move(made.key);
}

}  // namespace zerofs::engine
