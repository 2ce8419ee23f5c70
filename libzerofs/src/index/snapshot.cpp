#include "zerofs/index/snapshot.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <system_error>

#include "file_util.h"
#include "zerofs/common/log.h"
#include "zerofs/crypto/envelope.h"
#include "zerofs/format.h"
#include "zerofs/index/snapshot_manifest.h"

namespace zerofs::index {
namespace {

namespace fs = std::filesystem;
using crypto::EnvelopeKind;

constexpr std::string_view kCheckpointDirPrefix = "snapshot-";
constexpr std::string_view kCheckpointDirSuffix = ".tmp";
constexpr std::string_view kCurrentFile = "CURRENT";

bool IsCheckpointDirName(std::string_view name) {
  return name.starts_with(kCheckpointDirPrefix) && name.ends_with(kCheckpointDirSuffix);
}

std::uint32_t RandomU32(crypto::RandomSource& random) {
  std::array<std::uint8_t, 4> bytes{};
  random.Fill(bytes);
  return static_cast<std::uint32_t>(bytes[0]) | (static_cast<std::uint32_t>(bytes[1]) << 8) |
         (static_cast<std::uint32_t>(bytes[2]) << 16) |
         (static_cast<std::uint32_t>(bytes[3]) << 24);
}

// Removes a directory tree on scope exit (best effort: a leftover is removed by the next
// UploadSnapshot).
class TempDir {
 public:
  explicit TempDir(fs::path path) : path_(std::move(path)) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) {
      ZEROFS_LOG(kWarn) << "removing " << path_.string() << ": " << ec.message();
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Names of the regular files in `dir`, sorted.
Result<std::vector<std::string>> ListRegularFiles(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
  }
  if (ec) return Status::FromErrno(ec.value(), "list " + dir.string());
  std::sort(names.begin(), names.end());
  return names;
}

// Puts `plaintext` sealed as `key` unless it is there already; true if it was uploaded.
Result<bool> PutIndexObjectOnce(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                                const crypto::VolumeUuid& uuid, const std::string& key,
                                std::string_view plaintext,
                                const crypto::CompressionOptions& compression) {
  Result<objstore::ObjectInfo> head = store.Head(key);
  if (head.ok()) return false;
  if (!head.status().IsNotFound()) return head.status();
  ZEROFS_ASSIGN_OR_RETURN(
      const std::string sealed,
      crypto::SealEnvelope(keys, EnvelopeKind::kIndexFile, uuid, key, plaintext, compression));
  Result<objstore::ObjectInfo> put = store.Put(key, sealed, objstore::PutOptions::IfNoneMatch());
  // Content-addressed: an object that appeared meanwhile holds the same bytes.
  if (!put.ok() && !put.status().IsPreconditionFailed()) return put.status();
  return true;
}

Result<std::string> GetIndexObject(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                                   const crypto::VolumeUuid& uuid, const std::string& key,
                                   std::uint64_t max_plaintext_bytes) {
  ZEROFS_ASSIGN_OR_RETURN(objstore::GetResult got, store.Get(key));
  return crypto::OpenEnvelope(keys, EnvelopeKind::kIndexFile, uuid, key, got.data,
                              max_plaintext_bytes);
}

Result<SnapshotManifest> ReadManifest(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                                      const crypto::VolumeUuid& uuid, const SnapshotRef& ref) {
  if (!IsManifestObjectName(ref.manifest)) {
    return Status::InvalidArgument("not a snapshot manifest name: " + ref.manifest);
  }
  ZEROFS_ASSIGN_OR_RETURN(const std::string bytes, GetIndexObject(store, keys, uuid, ref.manifest,
                                                                  format::kMaxIndexManifestBytes));
  ZEROFS_ASSIGN_OR_RETURN(SnapshotManifest manifest, DecodeSnapshotManifest(bytes, ref.manifest));
  if (manifest.covers_seq != ref.covers_seq) {
    return Status::Corruption(ref.manifest + ": covers seq " + std::to_string(manifest.covers_seq) +
                              ", the root says " + std::to_string(ref.covers_seq));
  }
  return manifest;
}

// Whether dir/name exists with exactly this size and content hash.
bool LocalFileMatches(const fs::path& dir, const ManifestFile& file) {
  std::error_code ec;
  const fs::path path = dir / file.name;
  if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) != file.size || ec) return false;
  Result<std::string> data = ReadWholeFile(path, file.size);
  return data.ok() && ContentHash(*data) == file.hash;
}

Status RemoveStaleEntries(const fs::path& dir, const std::set<std::string, std::less<>>& keep,
                          std::size_t* removed) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (keep.contains(name)) continue;
    std::error_code rm;
    if (it->is_directory(rm)) {
      if (!IsCheckpointDirName(name)) continue;  // not ours to remove
      fs::remove_all(it->path(), rm);
    } else {
      fs::remove(it->path(), rm);
      ++*removed;
    }
    if (rm) return Status::FromErrno(rm.value(), "remove " + it->path().string());
  }
  if (ec) return Status::FromErrno(ec.value(), "list " + dir.string());
  return Status::Ok();
}

}  // namespace

Result<SnapshotRef> UploadSnapshot(IndexDb& db, objstore::ObjectStore& store,
                                   const crypto::KeyRing& keys, const crypto::VolumeUuid& uuid,
                                   SnapshotUploadState& state, const SnapshotOptions& options) {
  crypto::RandomSource& random = crypto::OrSystem(options.random);
  // Leftovers of an upload that crashed.
  std::error_code ec;
  for (fs::directory_iterator it(db.dir(), ec), end; !ec && it != end; it.increment(ec)) {
    if (IsCheckpointDirName(it->path().filename().string())) {
      std::error_code rm;
      fs::remove_all(it->path(), rm);
    }
  }

  char suffix[9];
  std::snprintf(suffix, sizeof(suffix), "%08x", RandomU32(random));
  const TempDir checkpoint(
      db.dir() / (std::string(kCheckpointDirPrefix) + suffix + std::string(kCheckpointDirSuffix)));
  ZEROFS_ASSIGN_OR_RETURN(const std::uint64_t covers_seq, db.CreateCheckpoint(checkpoint.path()));
  ZEROFS_ASSIGN_OR_RETURN(const std::vector<std::string> names,
                          ListRegularFiles(checkpoint.path()));

  state.last_uploaded_files = 0;
  state.last_uploaded_bytes = 0;
  state.last_reused_files = 0;
  SnapshotManifest manifest;
  manifest.covers_seq = covers_seq;
  std::map<std::string, SnapshotUploadState::File, std::less<>> live;
  std::uint64_t embedded_bytes = 0;
  for (const std::string& name : names) {
    const fs::path path = checkpoint.path() / name;
    if (!IsManifestFileName(name)) {
      return Status::Internal("unexpected file in index checkpoint: " + path.string());
    }
    ManifestFile file;
    file.name = name;
    if (!name.ends_with(format::kIndexSstSuffix)) {
      file.kind = ManifestFile::Kind::kEmbedded;
      ZEROFS_ASSIGN_OR_RETURN(file.contents,
                              ReadWholeFile(path, format::kMaxIndexManifestBytes - embedded_bytes));
      file.size = file.contents.size();
      embedded_bytes += file.size;
      manifest.files.push_back(std::move(file));
      continue;
    }
    file.kind = ManifestFile::Kind::kObject;
    file.size = fs::file_size(path, ec);
    if (ec) return Status::FromErrno(ec.value(), "stat " + path.string());
    const auto known = state.files.find(name);
    if (known != state.files.end() && known->second.size == file.size) {
      file.hash = known->second.hash;
      ++state.last_reused_files;
    } else {
      ZEROFS_ASSIGN_OR_RETURN(const std::string data,
                              ReadWholeFile(path, format::kMaxIndexFileBytes));
      file.hash = ContentHash(data);
      ZEROFS_ASSIGN_OR_RETURN(const bool uploaded,
                              PutIndexObjectOnce(store, keys, uuid, SstObjectName(file.hash), data,
                                                 crypto::CompressionOptions::None()));
      if (uploaded) {
        ++state.last_uploaded_files;
        state.last_uploaded_bytes += data.size();
      } else {
        ++state.last_reused_files;
      }
    }
    live[name] = SnapshotUploadState::File{file.size, file.hash};
    manifest.files.push_back(std::move(file));
  }
  if (std::none_of(manifest.files.begin(), manifest.files.end(),
                   [](const ManifestFile& f) { return f.name == kCurrentFile; })) {
    return Status::Internal("index checkpoint without CURRENT in " + checkpoint.path().string());
  }
  // Files compacted away since the last snapshot will not come back under their names.
  state.files = std::move(live);

  ZEROFS_RETURN_IF_ERROR(ValidateSnapshotManifest(manifest));
  const std::string manifest_name = ManifestObjectName(covers_seq, RandomU32(random));
  ZEROFS_ASSIGN_OR_RETURN(
      const std::string sealed,
      crypto::SealEnvelope(keys, EnvelopeKind::kIndexFile, uuid, manifest_name,
                           EncodeSnapshotManifest(manifest), crypto::CompressionOptions{}));
  ZEROFS_RETURN_IF_ERROR(
      store.Put(manifest_name, sealed, objstore::PutOptions::IfNoneMatch()).status());
  ZEROFS_LOG(kInfo) << "index snapshot " << manifest_name << ": seq " << covers_seq << ", "
                    << manifest.files.size() << " files, " << state.last_uploaded_files
                    << " SSTs uploaded (" << state.last_uploaded_bytes << " bytes), "
                    << state.last_reused_files << " already in the bucket";
  return SnapshotRef{manifest_name, covers_seq};
}

Result<RestoreStats> RestoreSnapshot(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                                     const crypto::VolumeUuid& uuid, const SnapshotRef& ref,
                                     const std::filesystem::path& dir) {
  ZEROFS_ASSIGN_OR_RETURN(const SnapshotManifest manifest, ReadManifest(store, keys, uuid, ref));
  const auto current =
      std::find_if(manifest.files.begin(), manifest.files.end(), [](const ManifestFile& f) {
        return f.name == kCurrentFile && f.kind == ManifestFile::Kind::kEmbedded;
      });
  if (current == manifest.files.end()) {
    return Status::Corruption(ref.manifest + ": snapshot manifest without CURRENT");
  }

  RestoreStats stats;
  stats.covers_seq = manifest.covers_seq;
  stats.files = manifest.files.size();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::FromErrno(ec.value(), "create " + dir.string());

  // Without CURRENT the directory is not a database: a crash from here on leaves nothing
  // that IndexDb::Open would take for a consistent state.
  fs::remove(dir / kCurrentFile, ec);
  if (ec) return Status::FromErrno(ec.value(), "remove " + (dir / kCurrentFile).string());
  ZEROFS_RETURN_IF_ERROR(SyncDirectory(dir));

  std::set<std::string, std::less<>> keep;
  for (const ManifestFile& f : manifest.files) keep.insert(f.name);
  ZEROFS_RETURN_IF_ERROR(RemoveStaleEntries(dir, keep, &stats.removed_files));

  for (const ManifestFile& f : manifest.files) {
    if (f.kind != ManifestFile::Kind::kObject) continue;
    stats.upload_state.files[f.name] = SnapshotUploadState::File{f.size, f.hash};
    if (LocalFileMatches(dir, f)) {
      ++stats.reused_files;
      continue;
    }
    const std::string object = SstObjectName(f.hash);
    ZEROFS_ASSIGN_OR_RETURN(const std::string data,
                            GetIndexObject(store, keys, uuid, object, f.size));
    if (data.size() != f.size || ContentHash(data) != f.hash) {
      return Status::Corruption(object + ": contents do not match the hash and size in " +
                                ref.manifest);
    }
    ZEROFS_RETURN_IF_ERROR(WriteFileDurably(dir, f.name, data));
    ++stats.downloaded_files;
    stats.downloaded_bytes += data.size();
  }
  for (const ManifestFile& f : manifest.files) {
    if (f.kind == ManifestFile::Kind::kEmbedded && f.name != kCurrentFile) {
      ZEROFS_RETURN_IF_ERROR(WriteFileDurably(dir, f.name, f.contents));
    }
  }
  ZEROFS_RETURN_IF_ERROR(SyncDirectory(dir));
  ZEROFS_RETURN_IF_ERROR(WriteFileDurably(dir, kCurrentFile, current->contents));
  ZEROFS_RETURN_IF_ERROR(SyncDirectory(dir));
  ZEROFS_LOG(kInfo) << "index restored from " << ref.manifest << " into " << dir.string()
                    << ": seq " << stats.covers_seq << ", " << stats.downloaded_files
                    << " SSTs downloaded (" << stats.downloaded_bytes << " bytes), "
                    << stats.reused_files << " reused";
  return stats;
}

Result<std::vector<std::string>> ListSnapshotObjects(objstore::ObjectStore& store,
                                                     const crypto::KeyRing& keys,
                                                     const crypto::VolumeUuid& uuid,
                                                     const SnapshotRef& ref) {
  ZEROFS_ASSIGN_OR_RETURN(const SnapshotManifest manifest, ReadManifest(store, keys, uuid, ref));
  std::vector<std::string> objects{ref.manifest};
  for (const ManifestFile& f : manifest.files) {
    if (f.kind == ManifestFile::Kind::kObject) objects.push_back(SstObjectName(f.hash));
  }
  return objects;
}

Result<std::vector<std::string>> DeleteUnreferencedIndexObjects(
    objstore::ObjectStore& store, const crypto::KeyRing& keys, const crypto::VolumeUuid& uuid,
    const std::vector<SnapshotRef>& keep, SnapshotUploadState* state) {
  std::set<std::string, std::less<>> referenced;
  for (const SnapshotRef& ref : keep) {
    ZEROFS_ASSIGN_OR_RETURN(const std::vector<std::string> objects,
                            ListSnapshotObjects(store, keys, uuid, ref));
    referenced.insert(objects.begin(), objects.end());
  }
  ZEROFS_ASSIGN_OR_RETURN(const std::vector<objstore::ObjectInfo> listed,
                          store.List(format::kIndexPrefix));
  // Manifests first, then the files: interrupted in between, what is left is unreferenced
  // files (deleted next time), never a manifest naming files that are gone.
  std::vector<std::string> doomed_manifests;
  std::vector<std::string> doomed_files;
  for (const objstore::ObjectInfo& info : listed) {
    if (referenced.contains(info.key)) continue;
    if (IsManifestObjectName(info.key)) doomed_manifests.push_back(info.key);
    if (IsSstObjectName(info.key)) doomed_files.push_back(info.key);
  }
  ZEROFS_RETURN_IF_ERROR(store.DeleteMany(doomed_manifests));
  ZEROFS_RETURN_IF_ERROR(store.DeleteMany(doomed_files));
  std::vector<std::string> doomed = std::move(doomed_manifests);
  doomed.insert(doomed.end(), doomed_files.begin(), doomed_files.end());
  if (state != nullptr) {
    const std::set<std::string, std::less<>> gone(doomed.begin(), doomed.end());
    std::erase_if(state->files, [&](const auto& entry) {
      return gone.contains(SstObjectName(entry.second.hash));
    });
  }
  return doomed;
}

}  // namespace zerofs::index
