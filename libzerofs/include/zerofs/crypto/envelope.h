// Sealed envelopes: how `root`, `index/<name>` and `checkpoints/<name>` are stored.
//
// An envelope is a 40-byte header (magic, kind, version, chunk count, plaintext length,
// volume uuid) followed by the payload in chunks of 1 MiB, each sealed as a frame under the
// subkey of its kind and prefixed with its length (docs/format.md §8). Each chunk's AAD binds
// the kind, the volume, the chunk's index, the header's counts and the object's key, so an
// envelope opens only as the object it was written as, whole and in order.
//
// The payloads are the callers' (the engine's root and checkpoint JSON, the index layer's
// snapshot files); this header only seals and opens bytes.
//
// Thread-safety: all functions may run concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/crypto/codec.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/random.h"
#include "zerofs/crypto/volume_uuid.h"

namespace zerofs::crypto {

enum class EnvelopeKind : std::uint8_t {
  kRoot = static_cast<std::uint8_t>(format::Domain::kRoot),
  kIndexFile = static_cast<std::uint8_t>(format::Domain::kIndexFile),
  kCheckpoint = static_cast<std::uint8_t>(format::Domain::kCheckpoint),
};

// Checks an object key against its kind: "root"; "index/<name>"; "checkpoints/<name>" with
// <name> of 1..200 characters from [A-Za-z0-9._-], not "." or "..". kInvalidArgument if not.
Status ValidateEnvelopeName(EnvelopeKind kind, std::string_view object_key);

// Seals `plaintext` (at most kMaxEnvelopeBytes) as the object `object_key`.
Result<std::string> SealEnvelope(const KeyRing& keys, EnvelopeKind kind, const VolumeUuid& uuid,
                                 std::string_view object_key, std::string_view plaintext,
                                 const CompressionOptions& compression,
                                 RandomSource* random = nullptr);

// Opens the bytes of the object `object_key`; its payload may be at most
// `max_plaintext_bytes` long (the caller's bound: small for the root, larger for SSTs).
// Every failure is kCorruption naming `object_key`.
Result<std::string> OpenEnvelope(const KeyRing& keys, EnvelopeKind kind, const VolumeUuid& uuid,
                                 std::string_view object_key, std::string_view bytes,
                                 std::uint64_t max_plaintext_bytes);

}  // namespace zerofs::crypto
