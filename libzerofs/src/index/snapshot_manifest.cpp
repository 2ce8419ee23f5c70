#include "zerofs/index/snapshot_manifest.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <set>

#include "byte_reader.h"
#include "zerofs/common/coding.h"
#include "zerofs/format.h"

namespace zerofs::index {
namespace {

constexpr std::size_t kFileHeaderBytes = 1 + 1;  // kind, name length
constexpr std::size_t kHexHashBytes = 2 * format::kContentHashBytes;

// Why `manifest` is not well-formed, or an empty string. The encoded size is checked by
// the callers (the decoder knows it, the validator computes it).
std::string ManifestProblem(const SnapshotManifest& manifest) {
  if (manifest.files.size() > format::kMaxIndexManifestFiles) return "too many files";
  std::set<std::string_view> names;
  for (const ManifestFile& f : manifest.files) {
    if (!IsManifestFileName(f.name)) return "invalid file name";
    if (!names.insert(f.name).second) return "duplicate file " + f.name;
    switch (f.kind) {
      case ManifestFile::Kind::kObject:
        if (!f.name.ends_with(format::kIndexSstSuffix)) return f.name + ": object is not an SST";
        if (f.hash.size() != format::kContentHashBytes) return f.name + ": bad hash length";
        if (f.size > format::kMaxIndexFileBytes) return f.name + ": too large";
        if (!f.contents.empty()) return f.name + ": object with embedded contents";
        break;
      case ManifestFile::Kind::kEmbedded:
        if (f.size != f.contents.size()) return f.name + ": size differs from contents";
        if (!f.hash.empty()) return f.name + ": embedded file with a hash";
        break;
      default: return f.name + ": unknown kind";
    }
  }
  return {};
}

std::uint64_t EncodedSize(const SnapshotManifest& manifest) {
  std::uint64_t size = format::kIndexManifestHeaderBytes;
  for (const ManifestFile& f : manifest.files) {
    size += kFileHeaderBytes + f.name.size() + 8 +
            (f.kind == ManifestFile::Kind::kObject ? format::kContentHashBytes : f.contents.size());
  }
  return size;
}

}  // namespace

std::string ContentHash(std::string_view bytes) {
  std::array<unsigned char, format::kContentHashBytes> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return {reinterpret_cast<const char*>(out.data()), out.size()};
}

std::string SstObjectName(std::string_view hash) {
  return std::string(format::kIndexPrefix) + coding::HexEncode(hash) +
         std::string(format::kIndexSstSuffix);
}

std::string ManifestObjectName(std::uint64_t covers_seq, std::uint32_t nonce) {
  return std::string(format::kIndexPrefix) + std::string(format::kIndexManifestNamePrefix) +
         coding::HexU64(covers_seq) + "-" + coding::HexU64(nonce, 8);
}

bool IsSstObjectName(std::string_view key) {
  if (!key.starts_with(format::kIndexPrefix)) return false;
  key.remove_prefix(format::kIndexPrefix.size());
  if (!key.ends_with(format::kIndexSstSuffix)) return false;
  key.remove_suffix(format::kIndexSstSuffix.size());
  return key.size() == kHexHashBytes && coding::IsLowerHex(key);
}

bool IsManifestObjectName(std::string_view key) {
  if (!key.starts_with(format::kIndexPrefix)) return false;
  key.remove_prefix(format::kIndexPrefix.size());
  if (!key.starts_with(format::kIndexManifestNamePrefix)) return false;
  key.remove_prefix(format::kIndexManifestNamePrefix.size());
  return key.size() == 16 + 1 + 8 && key[16] == '-' && coding::IsLowerHex(key.substr(0, 16)) &&
         coding::IsLowerHex(key.substr(17));
}

bool IsManifestFileName(std::string_view name) {
  if (name.empty() || name.size() > format::kMaxIndexFileNameBytes) return false;
  if (name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Status ValidateSnapshotManifest(const SnapshotManifest& manifest) {
  const std::string problem = ManifestProblem(manifest);
  if (!problem.empty()) return Status::InvalidArgument("snapshot manifest: " + problem);
  if (EncodedSize(manifest) > format::kMaxIndexManifestBytes) {
    return Status::InvalidArgument("snapshot manifest larger than its bound");
  }
  return Status::Ok();
}

std::string EncodeSnapshotManifest(const SnapshotManifest& manifest) {
  std::string out;
  out.reserve(EncodedSize(manifest));
  out.append(format::kIndexManifestMagic);
  format::PutU16(out, format::kIndexManifestVersion);
  format::PutU16(out, 0);
  format::PutU32(out, static_cast<std::uint32_t>(manifest.files.size()));
  format::PutU64(out, manifest.covers_seq);
  for (const ManifestFile& f : manifest.files) {
    format::PutU8(out, static_cast<std::uint8_t>(f.kind));
    format::PutU8(out, static_cast<std::uint8_t>(f.name.size()));
    out.append(f.name);
    format::PutU64(out, f.size);
    out.append(f.kind == ManifestFile::Kind::kObject ? f.hash : f.contents);
  }
  return out;
}

Result<SnapshotManifest> DecodeSnapshotManifest(std::string_view bytes,
                                                std::string_view object_name) {
  const auto bad = [&](const std::string& why) {
    return Status::Corruption(std::string(object_name) + ": snapshot manifest: " + why);
  };
  if (bytes.size() > format::kMaxIndexManifestBytes) return bad("too large");
  ByteReader in(bytes);
  const std::string_view magic = in.Bytes(format::kIndexManifestMagic.size());
  const std::uint16_t version = in.U16();
  const std::uint16_t reserved = in.U16();
  const std::uint32_t file_count = in.U32();
  SnapshotManifest manifest;
  manifest.covers_seq = in.U64();
  if (!in.ok()) return bad("truncated header");
  if (magic != format::kIndexManifestMagic) return bad("bad magic");
  if (version != format::kIndexManifestVersion) {
    return bad("unknown version " + std::to_string(version));
  }
  if (reserved != 0) return bad("reserved bits set");
  // Each file takes at least its header, a 1-byte name and a size; check before allocating.
  if (file_count > in.remaining() / (kFileHeaderBytes + 1 + 8)) return bad("file count too large");

  manifest.files.reserve(file_count);
  for (std::uint32_t i = 0; i < file_count; ++i) {
    ManifestFile f;
    f.kind = static_cast<ManifestFile::Kind>(in.U8());
    const std::uint8_t name_bytes = in.U8();
    f.name = std::string(in.Bytes(name_bytes));
    f.size = in.U64();
    if (!in.ok()) return bad("file " + std::to_string(i) + " truncated");
    if (f.kind == ManifestFile::Kind::kObject) {
      f.hash = std::string(in.Bytes(format::kContentHashBytes));
    } else if (f.kind == ManifestFile::Kind::kEmbedded) {
      if (f.size > in.remaining()) return bad("file " + std::to_string(i) + " truncated");
      f.contents = std::string(in.Bytes(f.size));
    } else {
      return bad("file " + std::to_string(i) + ": unknown kind");
    }
    if (!in.ok()) return bad("file " + std::to_string(i) + " truncated");
    manifest.files.push_back(std::move(f));
  }
  if (!in.AtEnd()) return bad("trailing bytes");
  const std::string problem = ManifestProblem(manifest);
  if (!problem.empty()) return bad(problem);
  return manifest;
}

}  // namespace zerofs::index
