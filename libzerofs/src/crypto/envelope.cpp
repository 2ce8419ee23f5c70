#include "zerofs/crypto/envelope.h"

#include <algorithm>

#include "zerofs/crypto/frame.h"

namespace zerofs::crypto {
namespace {

using format::kEnvelopeChunkBytes;

KeyPurpose PurposeOf(EnvelopeKind kind) {
  switch (kind) {
    case EnvelopeKind::kRoot: return KeyPurpose::kRoot;
    case EnvelopeKind::kIndexFile: return KeyPurpose::kIndexFile;
    case EnvelopeKind::kCheckpoint: return KeyPurpose::kCheckpoint;
  }
  return KeyPurpose::kRoot;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > format::kMaxObjectNameBytes) return false;
  if (name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::uint32_t ChunkCount(std::uint64_t plaintext_bytes) {
  const std::uint64_t chunks = (plaintext_bytes + kEnvelopeChunkBytes - 1) / kEnvelopeChunkBytes;
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(1, chunks));
}

std::string Header(EnvelopeKind kind, const VolumeUuid& uuid, std::uint32_t chunk_count,
                   std::uint64_t plaintext_bytes) {
  std::string h(format::kEnvelopeMagic);
  format::PutU8(h, static_cast<std::uint8_t>(kind));
  format::PutU8(h, 0);
  format::PutU16(h, format::kFormatVersion);
  format::PutU32(h, chunk_count);
  format::PutU64(h, plaintext_bytes);
  h.append(uuid.raw());
  return h;
}

std::string ChunkAad(EnvelopeKind kind, const VolumeUuid& uuid, std::uint32_t chunk_index,
                     std::uint64_t plaintext_bytes, std::uint32_t chunk_count,
                     std::string_view object_key) {
  std::string aad;
  aad.reserve(format::kEnvelopeAadFixedBytes + object_key.size());
  format::PutU8(aad, static_cast<std::uint8_t>(kind));
  format::PutU8(aad, 0);
  format::PutU16(aad, format::kFormatVersion);
  format::PutU32(aad, chunk_index);
  aad.append(uuid.raw());
  format::PutU64(aad, plaintext_bytes);
  format::PutU32(aad, chunk_count);
  format::PutU32(aad, static_cast<std::uint32_t>(object_key.size()));
  aad.append(object_key);
  return aad;
}

}  // namespace

Status ValidateEnvelopeName(EnvelopeKind kind, std::string_view object_key) {
  switch (kind) {
    case EnvelopeKind::kRoot:
      if (object_key == format::kRootObjectName) return Status::Ok();
      break;
    case EnvelopeKind::kIndexFile:
      if (object_key.starts_with(format::kIndexPrefix) &&
          ValidName(object_key.substr(format::kIndexPrefix.size()))) {
        return Status::Ok();
      }
      break;
    case EnvelopeKind::kCheckpoint:
      if (object_key.starts_with(format::kCheckpointPrefix) &&
          ValidName(object_key.substr(format::kCheckpointPrefix.size()))) {
        return Status::Ok();
      }
      break;
  }
  return Status::InvalidArgument("'" + std::string(object_key.substr(0, 256)) +
                                 "' is not a valid name for this kind of object (root, "
                                 "index/<name>, checkpoints/<name>; names use [A-Za-z0-9._-])");
}

Result<std::string> SealEnvelope(const KeyRing& keys, EnvelopeKind kind, const VolumeUuid& uuid,
                                 std::string_view object_key, std::string_view plaintext,
                                 const CompressionOptions& compression, RandomSource* random) {
  ZEROFS_RETURN_IF_ERROR(ValidateEnvelopeName(kind, object_key));
  if (plaintext.size() > format::kMaxEnvelopeBytes) {
    return Status::InvalidArgument(std::string(object_key) + ": payload of " +
                                   std::to_string(plaintext.size()) + " bytes exceeds the limit");
  }
  const std::uint32_t chunks = ChunkCount(plaintext.size());
  std::string out = Header(kind, uuid, chunks, plaintext.size());
  const KeyView key = keys.Subkey(PurposeOf(kind));
  for (std::uint32_t i = 0; i < chunks; ++i) {
    const std::string_view chunk = plaintext.substr(
        std::min<std::size_t>(plaintext.size(), i * kEnvelopeChunkBytes), kEnvelopeChunkBytes);
    const std::size_t length_at = out.size();
    format::PutU32(out, 0);  // patched below, once the frame's length is known
    const std::size_t sealed =
        SealFrame(key, ChunkAad(kind, uuid, i, plaintext.size(), chunks, object_key), chunk,
                  compression, OrSystem(random), &out);
    std::string length;
    format::PutU32(length, static_cast<std::uint32_t>(sealed));
    out.replace(length_at, length.size(), length);
  }
  return out;
}

Result<std::string> OpenEnvelope(const KeyRing& keys, EnvelopeKind kind, const VolumeUuid& uuid,
                                 std::string_view object_key, std::string_view bytes,
                                 std::uint64_t max_plaintext_bytes) {
  const std::string name(object_key);
  auto corrupt = [&name](const std::string& problem) {
    return Status::Corruption(name + ": " + problem);
  };
  if (bytes.size() < format::kEnvelopeHeaderBytes) return corrupt("shorter than its header");
  if (bytes.substr(0, 8) != format::kEnvelopeMagic)
    return corrupt("bad magic (not a sealed object)");
  const char* h = bytes.data();
  if (format::LoadU8(h + 8) != static_cast<std::uint8_t>(kind)) {
    return corrupt("is a sealed object of kind " + std::to_string(format::LoadU8(h + 8)) +
                   ", expected " + std::to_string(static_cast<unsigned>(kind)));
  }
  if (format::LoadU8(h + 9) != 0) return corrupt("reserved header byte is not zero");
  if (format::LoadU16(h + 10) != format::kFormatVersion) {
    return corrupt("unsupported version " + std::to_string(format::LoadU16(h + 10)));
  }
  const std::uint32_t chunks = format::LoadU32(h + 12);
  const std::uint64_t plaintext_bytes = format::LoadU64(h + 16);
  if (VolumeUuid::FromBytes(h + 24) != uuid) {
    return corrupt("belongs to volume " + VolumeUuid::FromBytes(h + 24).ToString() + ", not " +
                   uuid.ToString());
  }
  const std::uint64_t limit =
      std::min<std::uint64_t>(max_plaintext_bytes, format::kMaxEnvelopeBytes);
  if (plaintext_bytes > limit) {
    return corrupt("claims " + std::to_string(plaintext_bytes) + " bytes, more than the " +
                   std::to_string(limit) + " allowed here");
  }
  if (chunks != ChunkCount(plaintext_bytes))
    return corrupt("chunk count does not match its length");

  std::string plaintext;
  // Reserve no more than the object's own size before anything is authenticated.
  plaintext.reserve(
      static_cast<std::size_t>(std::min<std::uint64_t>(plaintext_bytes, bytes.size())));
  const KeyView key = keys.Subkey(PurposeOf(kind));
  std::size_t pos = format::kEnvelopeHeaderBytes;
  for (std::uint32_t i = 0; i < chunks; ++i) {
    const std::string what = name + ": chunk " + std::to_string(i);
    if (bytes.size() - pos < format::kEnvelopeChunkPrefixBytes) {
      return Status::Corruption(what + ": truncated");
    }
    const std::uint32_t sealed = format::LoadU32(bytes.data() + pos);
    pos += format::kEnvelopeChunkPrefixBytes;
    if (bytes.size() - pos < sealed) return Status::Corruption(what + ": truncated");
    const std::uint64_t expected =
        std::min<std::uint64_t>(kEnvelopeChunkBytes, plaintext_bytes - plaintext.size());
    ZEROFS_ASSIGN_OR_RETURN(
        std::string chunk,
        OpenFrame(key, ChunkAad(kind, uuid, i, plaintext_bytes, chunks, object_key),
                  bytes.substr(pos, sealed), static_cast<std::size_t>(expected), what));
    if (chunk.size() != expected) {
      return Status::Corruption(what + ": holds " + std::to_string(chunk.size()) +
                                " bytes, expected " + std::to_string(expected));
    }
    plaintext += chunk;
    pos += sealed;
  }
  if (pos != bytes.size()) return corrupt("has trailing bytes after its last chunk");
  return plaintext;
}

}  // namespace zerofs::crypto
