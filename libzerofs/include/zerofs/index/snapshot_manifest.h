// The manifest of an index snapshot, and the names of index objects in the bucket.
//
// A snapshot is a RocksDB checkpoint of the IndexDb: its SST files, each stored once as the
// object "index/<BLAKE2b-128 of its bytes, 32 hex>.sst" and shared by every snapshot that
// contains it, plus a manifest object "index/manifest-<covers_seq, 16 hex>-<8 random hex>"
// that lists the SSTs (local file name, size, content hash) and embeds the small metadata
// files (CURRENT, MANIFEST-*, OPTIONS-*, ...) whole. Both kinds are sealed envelopes of kind
// index file (docs/format.md §8); the manifest's encoding is docs/format.md §12.4.
//
// DecodeSnapshotManifest is a function from bytes to Result that rejects anything malformed
// (it is fuzzed): unknown version or kind, names that are not plain file names, duplicate
// names, sizes beyond the bounds, trailing bytes.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/index/index_format.h"

namespace zerofs::index {

struct ManifestFile {
  enum class Kind : std::uint8_t {
    kObject = 1,    // stored as its own object, SstObjectName(hash)
    kEmbedded = 2,  // stored inside the manifest: `contents`
  };
  Kind kind = Kind::kObject;
  std::string name;  // the file's name in the database directory, e.g. "000012.sst"
  std::uint64_t size = 0;
  std::string hash;      // kObject: ContentHash of the file, 16 raw bytes
  std::string contents;  // kEmbedded: the file's bytes (size == contents.size())

  friend bool operator==(const ManifestFile&, const ManifestFile&) = default;
};

struct SnapshotManifest {
  std::uint64_t covers_seq = 0;  // the applied seq of the snapshot's database
  std::vector<ManifestFile> files;

  friend bool operator==(const SnapshotManifest&, const SnapshotManifest&) = default;
};

// BLAKE2b with a 16-byte output (libsodium crypto_generichash, unkeyed) of `bytes`: 16 raw
// bytes.
std::string ContentHash(std::string_view bytes);

// "index/<hex(hash)>.sst" for a 16-byte hash.
std::string SstObjectName(std::string_view hash);
// "index/manifest-<covers_seq as 16 hex>-<nonce as 8 hex>".
std::string ManifestObjectName(std::uint64_t covers_seq, std::uint32_t nonce);
// Whether `key` has exactly the shape of SstObjectName / ManifestObjectName.
bool IsSstObjectName(std::string_view key);
bool IsManifestObjectName(std::string_view key);
// A file name a manifest may carry: 1..255 of [A-Za-z0-9._-], not "." or "..".
bool IsManifestFileName(std::string_view name);

// kInvalidArgument unless `manifest` can be encoded: valid unique names, kObject files
// named *.sst with a 16-byte hash and size <= kMaxIndexFileBytes, kEmbedded files whose
// size matches their contents, and an encoding within kMaxIndexManifestBytes.
Status ValidateSnapshotManifest(const SnapshotManifest& manifest);

std::string EncodeSnapshotManifest(const SnapshotManifest& manifest);
// kCorruption naming `object_name` for anything ValidateSnapshotManifest would refuse.
Result<SnapshotManifest> DecodeSnapshotManifest(std::string_view bytes,
                                                std::string_view object_name);

}  // namespace zerofs::index
