#include "zerofs/crypto/volume_key.h"

#include "zerofs/common/log.h"

namespace zerofs::crypto {
namespace {

using format::kKeyObjectName;

Status RequirePassword(const Secret& password) {
  if (password.empty()) {
    return Status::InvalidArgument(
        "the volume password is empty (set storage.password or storage.password_file)");
  }
  return Status::Ok();
}

Status AlreadyExists(objstore::ObjectStore& store) {
  return Status::AlreadyExists("volume already exists at " + store.Describe() + " (" +
                               std::string(kKeyObjectName) +
                               " is present); refusing to create another");
}

struct ReadKeyFile {
  KeyFile file;
  std::string etag;
};

Result<ReadKeyFile> Read(objstore::ObjectStore& store) {
  Result<objstore::GetResult> got = store.Get(kKeyObjectName);
  if (!got.ok()) {
    if (got.status().IsNotFound()) {
      return Status::NotFound("no volume at " + store.Describe() + " (" +
                              std::string(kKeyObjectName) +
                              " not found); create one with `zerofs init`");
    }
    return got.status();
  }
  ZEROFS_ASSIGN_OR_RETURN(KeyFile file, KeyFile::Parse(got->data, kKeyObjectName));
  return ReadKeyFile{file, got->info.etag};
}

Result<VolumeKey> MakeVolumeKey(const KeyFile& file, std::span<const std::uint8_t> data_key,
                                std::string etag) {
  ZEROFS_ASSIGN_OR_RETURN(std::shared_ptr<const KeyRing> keys, KeyRing::FromDataKey(data_key));
  return VolumeKey{file.volume_uuid, std::move(keys), file.kdf, std::move(etag)};
}

}  // namespace

Result<VolumeKey> CreateVolumeKey(objstore::ObjectStore& store, const Secret& password,
                                  const CreateVolumeOptions& options) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(password));
  ZEROFS_RETURN_IF_ERROR(options.kdf.Validate());
  ZEROFS_RETURN_IF_ERROR(InitCrypto());
  // A store without conditional creates cannot arbitrate a race, but it can still refuse to
  // overwrite a volume that exists; the check costs one HEAD before the expensive Argon2id.
  Result<objstore::ObjectInfo> head = store.Head(kKeyObjectName);
  if (head.ok()) return AlreadyExists(store);
  if (!head.status().IsNotFound()) return head.status();

  RandomSource& random = OrSystem(options.random);
  const VolumeUuid uuid = VolumeUuid::Random(random);
  const SecureBytes data_key = NewDataKey(random);
  ZEROFS_ASSIGN_OR_RETURN(KeyFile file,
                          WrapDataKey(uuid, data_key.span(), password, options.kdf, random));
  Result<objstore::ObjectInfo> put =
      store.Put(kKeyObjectName, file.Encode(), objstore::PutOptions::IfNoneMatch());
  if (!put.ok()) {
    if (put.status().IsPreconditionFailed()) return AlreadyExists(store);
    return put.status();
  }
  ZEROFS_LOG(kInfo) << "created volume " << uuid.ToString() << " at " << store.Describe();
  return MakeVolumeKey(file, data_key.span(), put->etag);
}

Result<VolumeKey> OpenVolumeKey(objstore::ObjectStore& store, const Secret& password) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(password));
  ZEROFS_ASSIGN_OR_RETURN(ReadKeyFile read, Read(store));
  ZEROFS_ASSIGN_OR_RETURN(SecureBytes data_key, UnwrapDataKey(read.file, password));
  return MakeVolumeKey(read.file, data_key.span(), std::move(read.etag));
}

Result<VolumeKey> ChangeVolumePassword(objstore::ObjectStore& store, const Secret& old_password,
                                       const Secret& new_password,
                                       const ChangePasswordOptions& options) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(old_password));
  if (new_password.empty()) return Status::InvalidArgument("the new password is empty");
  if (options.kdf.has_value()) ZEROFS_RETURN_IF_ERROR(options.kdf->Validate());
  ZEROFS_ASSIGN_OR_RETURN(ReadKeyFile read, Read(store));
  ZEROFS_ASSIGN_OR_RETURN(SecureBytes data_key, UnwrapDataKey(read.file, old_password));
  const Argon2Params kdf = options.kdf.value_or(read.file.kdf);
  ZEROFS_ASSIGN_OR_RETURN(KeyFile file, WrapDataKey(read.file.volume_uuid, data_key.span(),
                                                    new_password, kdf, OrSystem(options.random)));
  Result<objstore::ObjectInfo> put =
      store.Put(kKeyObjectName, file.Encode(), objstore::PutOptions::IfMatch(read.etag));
  if (!put.ok()) {
    if (put.status().IsPreconditionFailed()) {
      return Status::PreconditionFailed(
          std::string(kKeyObjectName) + " of volume " + file.volume_uuid.ToString() +
          " changed while the password was being changed; nothing was written, try again");
    }
    return put.status();
  }
  ZEROFS_LOG(kInfo) << "changed the password of volume " << file.volume_uuid.ToString();
  return MakeVolumeKey(file, data_key.span(), put->etag);
}

}  // namespace zerofs::crypto
