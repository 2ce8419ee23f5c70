#include "zerofs/crypto/volume_key.h"

namespace zerofs::crypto {
namespace {

Result<VolumeKey> MakeVolumeKey(const KeyFile& file, std::span<const std::uint8_t> data_key) {
  ZEROFS_ASSIGN_OR_RETURN(std::shared_ptr<const KeyRing> keys, KeyRing::FromDataKey(data_key));
  return VolumeKey{file.volume_uuid, std::move(keys), file.kdf};
}

Result<WrappedVolumeKey> Wrap(const KeyFile& file, std::span<const std::uint8_t> data_key) {
  ZEROFS_ASSIGN_OR_RETURN(VolumeKey key, MakeVolumeKey(file, data_key));
  return WrappedVolumeKey{std::move(key), file.Encode()};
}

}  // namespace

Status RequirePassword(const Secret& password) {
  if (password.empty()) {
    return Status::InvalidArgument(
        "the volume password is empty (set storage.password or storage.password_file)");
  }
  return Status::Ok();
}

Result<WrappedVolumeKey> GenerateVolumeKey(const Secret& password, const Argon2Params& kdf,
                                           RandomSource& random) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(password));
  ZEROFS_RETURN_IF_ERROR(kdf.Validate());
  ZEROFS_RETURN_IF_ERROR(InitCrypto());
  const VolumeUuid uuid = VolumeUuid::Random(random);
  const SecureBytes data_key = NewDataKey(random);
  ZEROFS_ASSIGN_OR_RETURN(KeyFile file, WrapDataKey(uuid, data_key.span(), password, kdf, random));
  return Wrap(file, data_key.span());
}

Result<VolumeKey> UnlockVolumeKey(std::string_view key_file, const Secret& password,
                                  std::string_view object_name) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(password));
  ZEROFS_ASSIGN_OR_RETURN(KeyFile file, KeyFile::Parse(key_file, object_name));
  ZEROFS_ASSIGN_OR_RETURN(SecureBytes data_key, UnwrapDataKey(file, password));
  return MakeVolumeKey(file, data_key.span());
}

Result<WrappedVolumeKey> RewrapVolumeKey(std::string_view key_file, const Secret& old_password,
                                         const Secret& new_password,
                                         const std::optional<Argon2Params>& kdf,
                                         RandomSource& random, std::string_view object_name) {
  ZEROFS_RETURN_IF_ERROR(RequirePassword(old_password));
  if (new_password.empty()) return Status::InvalidArgument("the new password is empty");
  if (kdf.has_value()) ZEROFS_RETURN_IF_ERROR(kdf->Validate());
  ZEROFS_ASSIGN_OR_RETURN(KeyFile old_file, KeyFile::Parse(key_file, object_name));
  ZEROFS_ASSIGN_OR_RETURN(SecureBytes data_key, UnwrapDataKey(old_file, old_password));
  ZEROFS_ASSIGN_OR_RETURN(KeyFile file,
                          WrapDataKey(old_file.volume_uuid, data_key.span(), new_password,
                                      kdf.value_or(old_file.kdf), random));
  return Wrap(file, data_key.span());
}

}  // namespace zerofs::crypto
