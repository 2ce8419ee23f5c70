// KeyRing: the subkeys of one volume, derived from its data key.
//
// The data key is never used directly: each purpose (segment frames, footer MACs, root,
// index files, checkpoints) has its own subkey, derived with crypto_kdf_derive_from_key and
// a context per purpose (docs/format.md "Keys"), so that a byte string sealed for one
// purpose can never be opened as another. The ring keeps only the subkeys, in one guarded,
// read-only SecureBytes; the data key itself is wiped as soon as they are derived.
//
// A volume's KeyRing is created once when the volume is opened (volume_key.h) and shared,
// as std::shared_ptr<const KeyRing>, by every reader and writer of the volume.
//
// Thread-safety: immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "zerofs/common/result.h"
#include "zerofs/crypto/secure_bytes.h"
#include "zerofs/format.h"

namespace zerofs::crypto {

enum class KeyPurpose : std::uint8_t {
  kSegmentFrame = 0,  // AEAD key of frames in segments/*
  kFooterMac = 1,     // BLAKE2b MAC key of segment footers
  kRoot = 2,          // AEAD key of the root envelope
  kIndexFile = 3,     // AEAD key of index/* envelopes
  kCheckpoint = 4,    // AEAD key of checkpoints/* envelopes
};
inline constexpr std::size_t kKeyPurposeCount = 5;

using KeyView = std::span<const std::uint8_t, format::kSubkeyBytes>;

class KeyRing {
 public:
  // Derives every subkey from `data_key` (kDataKeyBytes). The caller wipes its copy.
  static Result<std::shared_ptr<const KeyRing>> FromDataKey(std::span<const std::uint8_t> data_key);

  KeyView Subkey(KeyPurpose purpose) const;

  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

 private:
  explicit KeyRing(SecureBytes subkeys) : subkeys_(std::move(subkeys)) {}

  SecureBytes subkeys_;  // kKeyPurposeCount subkeys, in KeyPurpose order
};

}  // namespace zerofs::crypto
