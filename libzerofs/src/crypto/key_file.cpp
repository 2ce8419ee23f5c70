#include "zerofs/crypto/key_file.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "zerofs/common/coding.h"

namespace zerofs::crypto {

static_assert(format::kSaltBytes == crypto_pwhash_SALTBYTES);
static_assert(format::kArgon2MinOpslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(format::kArgon2MinMemlimitBytes >= crypto_pwhash_argon2id_MEMLIMIT_MIN);

namespace {

std::string WrapAad(const KeyFile& file) {
  std::string aad;
  format::PutU8(aad, static_cast<std::uint8_t>(format::Domain::kKeyFile));
  format::PutU8(aad, 0);
  format::PutU16(aad, format::kFormatVersion);
  aad.append(file.volume_uuid.raw());
  format::PutU64(aad, file.kdf.opslimit);
  format::PutU64(aad, file.kdf.memlimit_bytes);
  aad.append(reinterpret_cast<const char*>(file.salt.data()), file.salt.size());
  return aad;
}

Result<SecureBytes> DeriveWrappingKey(const Secret& password, const KeyFile& file) {
  ZEROFS_RETURN_IF_ERROR(InitCrypto());
  SecureBytes key(format::kSubkeyBytes);
  const std::string_view pw = password.reveal();
  if (crypto_pwhash(key.data(), key.size(), pw.data(), pw.size(), file.salt.data(),
                    file.kdf.opslimit, static_cast<std::size_t>(file.kdf.memlimit_bytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal("Argon2id key derivation failed (out of memory for memlimit " +
                            std::to_string(file.kdf.memlimit_bytes) + " bytes?)");
  }
  return key;
}

// Checks that `obj` has exactly the members in `names`.
bool HasExactly(const nlohmann::json& obj, std::initializer_list<std::string_view> names) {
  if (!obj.is_object() || obj.size() != names.size()) return false;
  for (std::string_view n : names) {
    if (!obj.contains(n)) return false;
  }
  return true;
}

}  // namespace

Status Argon2Params::Validate() const {
  if (opslimit < format::kArgon2MinOpslimit || opslimit > format::kArgon2MaxOpslimit) {
    return Status::InvalidArgument(
        "Argon2id opslimit must be in " + std::to_string(format::kArgon2MinOpslimit) + ".." +
        std::to_string(format::kArgon2MaxOpslimit) + ", not " + std::to_string(opslimit));
  }
  if (memlimit_bytes < format::kArgon2MinMemlimitBytes ||
      memlimit_bytes > format::kArgon2MaxMemlimitBytes) {
    return Status::InvalidArgument("Argon2id memlimit must be in " +
                                   std::to_string(format::kArgon2MinMemlimitBytes) + ".." +
                                   std::to_string(format::kArgon2MaxMemlimitBytes) +
                                   " bytes, not " + std::to_string(memlimit_bytes));
  }
  return Status::Ok();
}

std::string KeyFile::Encode() const {
  nlohmann::ordered_json doc;
  doc["format"] = format::kKeyFileFormatName;
  doc["version"] = format::kKeyFileVersion;
  doc["volume_uuid"] = volume_uuid.ToString();
  doc["kdf"]["algorithm"] = format::kKdfAlgorithmName;
  doc["kdf"]["opslimit"] = kdf.opslimit;
  doc["kdf"]["memlimit"] = kdf.memlimit_bytes;
  doc["kdf"]["salt"] = coding::HexEncode(salt);
  doc["wrapped_key"]["algorithm"] = format::kWrapAlgorithmName;
  doc["wrapped_key"]["nonce"] = coding::HexEncode(nonce);
  doc["wrapped_key"]["ciphertext"] = coding::HexEncode(wrapped_key);
  return doc.dump(2) + "\n";
}

Result<KeyFile> KeyFile::Parse(std::string_view text, std::string_view object_name) {
  const std::string name(object_name);
  auto corrupt = [&name](std::string_view problem) {
    return Status::Corruption(name + ": " + std::string(problem));
  };
  if (text.size() > format::kKeyFileMaxBytes) return corrupt("key file is too large");
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return corrupt("key file is not valid JSON");
  if (!HasExactly(doc, {"format", "version", "volume_uuid", "kdf", "wrapped_key"})) {
    return corrupt(
        "key file must have exactly the members format, version, volume_uuid, "
        "kdf and wrapped_key");
  }
  const nlohmann::json& kdf = doc["kdf"];
  const nlohmann::json& wrapped = doc["wrapped_key"];
  if (!doc["format"].is_string() || doc["format"] != format::kKeyFileFormatName) {
    return corrupt("not a zerofs key file (format member)");
  }
  if (!doc["version"].is_number_unsigned() || doc["version"] != format::kKeyFileVersion) {
    return corrupt("unsupported key file version " + doc["version"].dump());
  }
  if (!HasExactly(kdf, {"algorithm", "opslimit", "memlimit", "salt"}) ||
      !HasExactly(wrapped, {"algorithm", "nonce", "ciphertext"})) {
    return corrupt("kdf or wrapped_key has missing or unknown members");
  }
  if (kdf["algorithm"] != format::kKdfAlgorithmName ||
      wrapped["algorithm"] != format::kWrapAlgorithmName) {
    return corrupt("unsupported kdf or key wrapping algorithm");
  }
  if (!doc["volume_uuid"].is_string() || !kdf["salt"].is_string() ||
      !wrapped["nonce"].is_string() || !wrapped["ciphertext"].is_string() ||
      !kdf["opslimit"].is_number_unsigned() || !kdf["memlimit"].is_number_unsigned()) {
    return corrupt("a key file member has the wrong type");
  }
  KeyFile file;
  Result<VolumeUuid> uuid = VolumeUuid::Parse(doc["volume_uuid"].get_ref<const std::string&>());
  if (!uuid.ok()) return corrupt("volume_uuid is not a UUID");
  file.volume_uuid = *uuid;
  file.kdf.opslimit = kdf["opslimit"].get<std::uint64_t>();
  file.kdf.memlimit_bytes = kdf["memlimit"].get<std::uint64_t>();
  if (Status s = file.kdf.Validate(); !s.ok()) return corrupt(s.message());
  if (!coding::HexDecode(kdf["salt"].get_ref<const std::string&>(), file.salt) ||
      !coding::HexDecode(wrapped["nonce"].get_ref<const std::string&>(), file.nonce) ||
      !coding::HexDecode(wrapped["ciphertext"].get_ref<const std::string&>(), file.wrapped_key)) {
    return corrupt("salt, nonce or ciphertext is not lower-case hex of the right length");
  }
  return file;
}

SecureBytes NewDataKey(RandomSource& random) {
  SecureBytes key(format::kDataKeyBytes);
  random.Fill(key.span());
  return key;
}

Result<KeyFile> WrapDataKey(const VolumeUuid& uuid, std::span<const std::uint8_t> data_key,
                            const Secret& password, const Argon2Params& kdf, RandomSource& random) {
  ZEROFS_RETURN_IF_ERROR(kdf.Validate());
  if (data_key.size() != format::kDataKeyBytes) {
    return Status::InvalidArgument("a data key has " + std::to_string(format::kDataKeyBytes) +
                                   " bytes");
  }
  if (password.empty()) return Status::InvalidArgument("the volume password is empty");
  KeyFile file;
  file.volume_uuid = uuid;
  file.kdf = kdf;
  random.Fill(file.salt);
  random.Fill(file.nonce);
  ZEROFS_ASSIGN_OR_RETURN(SecureBytes wrapping_key, DeriveWrappingKey(password, file));
  const std::string aad = WrapAad(file);
  unsigned long long sealed = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      file.wrapped_key.data(), &sealed, data_key.data(), data_key.size(),
      reinterpret_cast<const unsigned char*>(aad.data()), aad.size(), nullptr, file.nonce.data(),
      wrapping_key.data());
  return file;
}

Result<SecureBytes> UnwrapDataKey(const KeyFile& file, const Secret& password) {
  ZEROFS_RETURN_IF_ERROR(file.kdf.Validate());
  ZEROFS_ASSIGN_OR_RETURN(SecureBytes wrapping_key, DeriveWrappingKey(password, file));
  SecureBytes data_key(format::kDataKeyBytes);
  const std::string aad = WrapAad(file);
  unsigned long long opened = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          data_key.data(), &opened, nullptr, file.wrapped_key.data(), file.wrapped_key.size(),
          reinterpret_cast<const unsigned char*>(aad.data()), aad.size(), file.nonce.data(),
          wrapping_key.data()) != 0) {
    return Status::PermissionDenied("wrong password for volume " + file.volume_uuid.ToString());
  }
  return data_key;
}

}  // namespace zerofs::crypto
