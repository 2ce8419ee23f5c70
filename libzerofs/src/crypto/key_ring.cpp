#include "zerofs/crypto/key_ring.h"

#include <sodium.h>

#include <array>
#include <string_view>

namespace zerofs::crypto {

static_assert(format::kDataKeyBytes == crypto_kdf_KEYBYTES);
static_assert(format::kKdfContextBytes == crypto_kdf_CONTEXTBYTES);
static_assert(format::kSubkeyBytes >= crypto_kdf_BYTES_MIN &&
              format::kSubkeyBytes <= crypto_kdf_BYTES_MAX);

namespace {

std::string_view ContextOf(KeyPurpose purpose) {
  switch (purpose) {
    case KeyPurpose::kSegmentFrame: return format::kKdfContextSegment;
    case KeyPurpose::kFooterMac: return format::kKdfContextFooterMac;
    case KeyPurpose::kRoot: return format::kKdfContextRoot;
    case KeyPurpose::kIndexFile: return format::kKdfContextIndex;
    case KeyPurpose::kCheckpoint: return format::kKdfContextCheckpoint;
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<const KeyRing>> KeyRing::FromDataKey(
    std::span<const std::uint8_t> data_key) {
  ZEROFS_RETURN_IF_ERROR(InitCrypto());
  if (data_key.size() != format::kDataKeyBytes) {
    return Status::InvalidArgument("a data key has " + std::to_string(format::kDataKeyBytes) +
                                   " bytes, not " + std::to_string(data_key.size()));
  }
  SecureBytes subkeys(kKeyPurposeCount * format::kSubkeyBytes);
  for (std::size_t i = 0; i < kKeyPurposeCount; ++i) {
    const std::string_view context = ContextOf(static_cast<KeyPurpose>(i));
    if (crypto_kdf_derive_from_key(subkeys.data() + i * format::kSubkeyBytes, format::kSubkeyBytes,
                                   format::kSubkeyId, context.data(), data_key.data()) != 0) {
      return Status::Internal("subkey derivation failed");
    }
  }
  subkeys.MakeReadOnly();
  return std::shared_ptr<const KeyRing>(new KeyRing(std::move(subkeys)));
}

KeyView KeyRing::Subkey(KeyPurpose purpose) const {
  const std::size_t index = static_cast<std::size_t>(purpose);
  return KeyView(subkeys_.data() + index * format::kSubkeyBytes, format::kSubkeyBytes);
}

}  // namespace zerofs::crypto
