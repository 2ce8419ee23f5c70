// The checks of `zerofs fsck`; see fsck_checks.h.
#include "fsck_checks.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "zerofs/common/coding.h"
#include "zerofs/crypto/envelope.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/engine/volume.h"
#include "zerofs/format.h"
#include "zerofs/index/journal.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/index/root.h"
#include "zerofs/index/snapshot_manifest.h"
#include "zerofs/objstore/open.h"
#include "zerofs/segment/extent_location.h"
#include "zerofs/segment/segment_reader.h"
#include "zerofs/vfs/orphans.h"

namespace zerofs::cli {

std::uint64_t FsckReport::problems() const {
  return static_cast<std::uint64_t>(std::count_if(findings.begin(), findings.end(),
                                                  [](const FsckFinding& f) { return f.problem; }));
}

namespace {

using index::FileType;

constexpr std::uint64_t kExtentBytes = format::kMaxExtentBytes;
// The largest checkpoint payload (docs/format.md §8.3; the segment list dominates it).
constexpr std::uint64_t kMaxCheckpointBytes = 64ULL << 20;

std::string SeqName(std::uint64_t seq) {
  return format::SegmentObjectName(seq);
}

// What one verified segment holds, kept for the index checks.
struct SegmentInfo {
  std::uint64_t seq = 0;
  std::uint64_t size = 0;
  bool verified = false;
  bool vanished = false;
  std::uint64_t epoch = 0;
  std::vector<segment::DirectoryEntry> extents;  // extent entries, in frame order
  std::uint64_t extent_bytes = 0;                // their sealed bytes
};

// An extent-map entry, grouped by segment.
struct ExtentRef {
  std::uint64_t inode = 0;
  std::uint64_t extent_index = 0;
  segment::ExtentLocation location;
};

struct InodeInfo {
  FileType type = FileType::kUnknown;
  std::uint32_t nlink = 0;
  std::uint64_t parent = 0;
  std::uint64_t size = 0;
  std::uint64_t next_dir_cookie = 0;
  std::uint32_t names = 0;     // directory entries naming it
  std::uint32_t subdirs = 0;   // directories: entries that are directories
  std::uint64_t named_in = 0;  // directories: the directory whose entry names it
};

class Checker {
 public:
  Checker(const server::Config& config, const FsckOptions& options)
      : config_(config), options_(options) {}

  Result<FsckReport> Run();

 private:
  void Add(bool problem, std::string kind, std::string object, std::string message) {
    std::lock_guard lock(mu_);
    FsckFinding f{problem, std::move(kind), std::move(object), std::move(message)};
    if (options_.on_finding) options_.on_finding(f);
    report_.findings.push_back(std::move(f));
  }
  void Problem(std::string kind, std::string object, std::string message) {
    Add(true, std::move(kind), std::move(object), std::move(message));
  }
  void Note(std::string kind, std::string object, std::string message) {
    Add(false, std::move(kind), std::move(object), std::move(message));
  }
  // A failure to read or verify `object`: corrupt, vanished or unreadable.
  void ObjectFailure(const std::string& object, const Status& status) {
    if (status.code() == StatusCode::kCorruption) {
      Problem("corrupt", object, status.message());
    } else {
      Problem("unreadable", object, status.ToString());
    }
  }
  void Checked() {
    const std::uint64_t done = ++checked_;
    if (options_.progress) {
      std::lock_guard lock(mu_);
      options_.progress(done, report_.stats.objects);
    }
  }

  Status OpenStore();
  void CheckRoot();
  void CheckIndexObjects(const std::vector<objstore::ObjectInfo>& objects);
  void CheckCheckpoints(const std::vector<objstore::ObjectInfo>& objects);
  void CheckSegments();
  void VerifySegment(SegmentInfo& info);
  Status OpenVolume();
  Status ScanIndex();
  void CheckExtentsAgainstSegments();
  void CheckNamespace();
  void CheckSpace();
  bool KeptByCheckpoint(std::uint64_t seq) const {
    for (const auto& ranges : checkpoint_segments_) {
      for (const auto& [first, last] : ranges) {
        if (seq >= first && seq <= last) return true;
      }
    }
    return false;
  }

  const server::Config& config_;
  const FsckOptions& options_;
  std::mutex mu_;  // guards report_.findings and the progress callback
  FsckReport report_;
  std::atomic<std::uint64_t> checked_{0};

  std::shared_ptr<objstore::ObjectStore> store_;
  crypto::VolumeKey key_;
  std::optional<index::RootRecord> root_;
  std::set<std::string> present_;  // every key of the listing
  // Snapshot manifests the checkpoints name (the root's is root_->snapshot).
  std::set<std::string> checkpoint_manifests_;
  std::map<std::uint64_t, SegmentInfo> segments_;
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> checkpoint_segments_;
  std::unique_ptr<engine::Volume> volume_;

  // From the index.
  std::unordered_map<std::uint64_t, InodeInfo> inodes_;
  std::map<std::uint64_t, std::vector<ExtentRef>> refs_;  // seq -> extents in it
  std::map<std::uint64_t, index::SegmentUsage> usage_;
  std::set<std::uint64_t> orphans_;
  std::set<std::uint64_t> pending_drops_;
  std::optional<index::VolumeCounters> counters_;
  std::optional<std::uint64_t> next_inode_;
  std::optional<std::uint64_t> next_seq_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> edges_;  // directory -> child
};

Status Checker::OpenStore() {
  auto store = objstore::Open(config_.storage.url, config_.s3);
  if (!store.ok()) return store.status().WithContext("opening '" + config_.storage.url + "'");
  store_ = std::move(*store);
  auto key = engine::Volume::OpenKey(*store_, config_.storage.password);
  if (!key.ok()) return key.status();
  key_ = std::move(*key);
  report_.stats.volume_uuid = key_.uuid.ToString();
  return Status::Ok();
}

void Checker::CheckRoot() {
  auto root = index::ReadRoot(*store_, *key_.keys, key_.uuid);
  Checked();
  if (root.status().IsNotFound()) {
    Note("empty", std::string(format::kRootObjectName),
         "no root yet: the volume was never opened (nothing else to check)");
    return;
  }
  if (!root.ok()) return ObjectFailure(std::string(format::kRootObjectName), root.status());
  root_ = root->first;
  report_.stats.writer_epoch = root_->writer_epoch;
  report_.stats.journal_start_seq = root_->journal_start_seq;
  if (root_->snapshot.has_value()) {
    report_.stats.snapshot_covers_seq = root_->snapshot->covers_seq;
    if (!present_.contains(root_->snapshot->manifest)) {
      Problem("missing", root_->snapshot->manifest,
              "the root's index snapshot manifest does not exist: the volume cannot be opened");
    }
  }
}

void Checker::CheckIndexObjects(const std::vector<objstore::ObjectInfo>& objects) {
  std::set<std::string> referenced;
  std::vector<std::pair<std::string, std::string>> wanted;  // (manifest, sst)
  for (const objstore::ObjectInfo& object : objects) {
    if (!object.key.starts_with(format::kIndexPrefix)) continue;
    report_.stats.index_objects++;
    const bool manifest = index::IsManifestObjectName(object.key);
    const bool sst = index::IsSstObjectName(object.key);
    if (!manifest && !sst) {
      Note("unknown-object", object.key, "not a snapshot object; left alone");
      Checked();
      continue;
    }
    auto got = store_->Get(object.key);
    Checked();
    if (!got.ok()) {
      if (!got.status().IsNotFound()) ObjectFailure(object.key, got.status());
      continue;
    }
    auto plain = crypto::OpenEnvelope(
        *key_.keys, crypto::EnvelopeKind::kIndexFile, key_.uuid, object.key, got->data,
        manifest ? format::kMaxIndexManifestBytes : format::kMaxIndexFileBytes);
    if (!plain.ok()) {
      ObjectFailure(object.key, plain.status());
      continue;
    }
    if (sst) {
      const std::string expected = index::SstObjectName(index::ContentHash(*plain));
      if (expected != object.key) {
        Problem("corrupt", object.key,
                "content hash does not match the name (it is " +
                    expected.substr(format::kIndexPrefix.size()) + ")");
      }
      continue;
    }
    auto decoded = index::DecodeSnapshotManifest(*plain, object.key);
    if (!decoded.ok()) {
      ObjectFailure(object.key, decoded.status());
      continue;
    }
    const std::string name = object.key.substr(
        format::kIndexPrefix.size() + format::kIndexManifestNamePrefix.size(), 16);
    if (coding::ParseHexU64(name) != decoded->covers_seq) {
      Problem("corrupt", object.key,
              "covers seq " + std::to_string(decoded->covers_seq) + " does not match the name");
    }
    for (const index::ManifestFile& f : decoded->files) {
      if (f.kind != index::ManifestFile::Kind::kObject) continue;
      const std::string key = index::SstObjectName(f.hash);
      referenced.insert(key);
      wanted.emplace_back(object.key, key);
    }
  }
  // A manifest the root or a checkpoint names must be whole. Any other is an older snapshot
  // the writer deletes at its next snapshot (manifests go first, then their files, so one
  // interrupted there has lost some files): a note.
  auto needed = [&](const std::string& manifest) {
    return (root_.has_value() && root_->snapshot.has_value() &&
            root_->snapshot->manifest == manifest) ||
           checkpoint_manifests_.contains(manifest);
  };
  std::set<std::string> stale_noted;
  for (const auto& [manifest, sst] : wanted) {
    if (present_.contains(sst)) continue;
    if (needed(manifest)) {
      Problem("missing", sst, "named by the snapshot manifest " + manifest + " but absent");
    } else if (stale_noted.insert(manifest).second) {
      Note("stale-snapshot", manifest,
           "an old index snapshot whose files are partly gone (its deletion was "
           "interrupted); the writer deletes it at its next index snapshot");
    }
  }
  for (const objstore::ObjectInfo& object : objects) {
    if (index::IsSstObjectName(object.key) && !referenced.contains(object.key)) {
      Note("unreferenced-index", object.key,
           "no snapshot manifest names this index file (an upload or a deletion was "
           "interrupted); the writer deletes it at its next index snapshot");
    }
  }
}

void Checker::CheckCheckpoints(const std::vector<objstore::ObjectInfo>& objects) {
  for (const objstore::ObjectInfo& object : objects) {
    if (!object.key.starts_with(format::kCheckpointPrefix)) continue;
    report_.stats.checkpoints++;
    auto got = store_->Get(object.key);
    Checked();
    if (!got.ok()) {
      if (!got.status().IsNotFound()) ObjectFailure(object.key, got.status());
      continue;
    }
    auto plain = crypto::OpenEnvelope(*key_.keys, crypto::EnvelopeKind::kCheckpoint, key_.uuid,
                                      object.key, got->data, kMaxCheckpointBytes);
    if (!plain.ok()) {
      ObjectFailure(object.key, plain.status());
      continue;
    }
    // The payload (docs/format.md §8.3): {"version", "name", "created_unix_ms", "root",
    // "segments": [[first, last], ...]}.
    const nlohmann::json doc = nlohmann::json::parse(*plain, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("root") ||
        !doc["root"].is_object()) {
      Problem("corrupt", object.key, "the checkpoint payload is not a checkpoint");
      continue;
    }
    auto root = index::DecodeRootPayload(doc["root"].dump(), key_.uuid, object.key);
    if (!root.ok()) {
      ObjectFailure(object.key, root.status());
      continue;
    }
    if (root->snapshot.has_value()) checkpoint_manifests_.insert(root->snapshot->manifest);
    if (root->snapshot.has_value() && !present_.contains(root->snapshot->manifest)) {
      Problem("missing", root->snapshot->manifest,
              "the index snapshot of " + object.key + " does not exist");
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    if (doc.contains("segments") && doc["segments"].is_array()) {
      for (const nlohmann::json& r : doc["segments"]) {
        if (r.is_array() && r.size() == 2 && r[0].is_number_unsigned() &&
            r[1].is_number_unsigned()) {
          ranges.emplace_back(r[0].get<std::uint64_t>(), r[1].get<std::uint64_t>());
        }
      }
    }
    checkpoint_segments_.push_back(std::move(ranges));
  }
}

void Checker::VerifySegment(SegmentInfo& info) {
  const std::string name = SeqName(info.seq);
  segment::SegmentJournal journal;
  if (options_.deep) {
    auto got = store_->Get(name);
    if (!got.ok()) {
      if (got.status().IsNotFound()) {
        info.vanished = true;
      } else {
        ObjectFailure(name, got.status());
      }
      return;
    }
    auto verified = segment::VerifySegment(*key_.keys, key_.uuid, info.seq, got->data);
    if (!verified.ok()) return ObjectFailure(name, verified.status());
    journal = std::move(*verified);
  } else {
    segment::SegmentReader reader(store_, key_.keys, key_.uuid);
    auto read = reader.ReadJournal(info.seq, info.size);
    if (read.status().IsNotFound()) {
      info.vanished = true;
      return;
    }
    if (!read.ok()) return ObjectFailure(name, read.status());
    journal = std::move(*read);
    // The header repeats the footer (which the MAC authenticates); a full read compares them.
    auto head = store_->Get(name, objstore::ByteRange{0, format::kSegmentHeaderBytes});
    if (!head.ok()) return ObjectFailure(name, head.status());
    auto header = segment::DecodeSegmentHeader(head->data, name);
    if (!header.ok()) return ObjectFailure(name, header.status());
    const segment::SegmentFooter& footer = journal.meta.footer;
    if (!(*header == segment::SegmentHeader{footer.uuid, footer.seq, footer.writer_epoch})) {
      return Problem("corrupt", name, "header does not match the footer");
    }
  }
  auto record = index::DecodeJournalRecord(journal.record, name);
  if (!record.ok()) return ObjectFailure(name, record.status());
  info.epoch = journal.meta.footer.writer_epoch;
  const std::uint32_t extent_count = journal.meta.footer.extent_count;
  info.extents.assign(journal.meta.entries.begin(),
                      journal.meta.entries.begin() + static_cast<std::ptrdiff_t>(extent_count));
  for (const segment::DirectoryEntry& e : info.extents) info.extent_bytes += e.sealed_length;
  info.verified = true;
}

void Checker::CheckSegments() {
  std::vector<SegmentInfo*> work;
  for (auto& [seq, info] : segments_) work.push_back(&info);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next++;
      if (i >= work.size()) return;
      VerifySegment(*work[i]);
      Checked();
    }
  };
  const unsigned jobs = std::max(1U, std::min<unsigned>(options_.jobs, 64));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs && t < work.size(); ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
}

Status Checker::OpenVolume() {
  engine::VolumeOptions options;
  options.store = store_;
  options.password = config_.storage.password;
  options.cache_dir = config_.cache.dir;
  options.mode = engine::OpenMode::kReadOnly;
  options.memory_cache_bytes = 64ULL << 20;
  options.disk_cache_bytes = 0;
  auto volume = engine::Volume::Open(std::move(options));
  if (!volume.ok()) return volume.status();
  volume_ = std::move(*volume);
  return Status::Ok();
}

Status Checker::ScanIndex() {
  engine::Volume& v = *volume_;
  // Inodes.
  ZEROFS_RETURN_IF_ERROR(v.Scan(index::TablePrefix(index::IndexTable::kInode), {},
                                [&](std::string_view k, std::string_view val) {
                                  auto ino = index::DecodeInodeKey(k);
                                  auto rec = index::DecodeInodeRecord(val);
                                  if (!ino.ok() || !rec.ok()) {
                                    Problem("corrupt", "inode table",
                                            !ino.ok() ? ino.status().message()
                                                      : rec.status().message());
                                    return true;
                                  }
                                  if (rec->ino != *ino) {
                                    Problem("namespace", "inode " + std::to_string(*ino),
                                            "its record says inode " + std::to_string(rec->ino));
                                  }
                                  InodeInfo& info = inodes_[*ino];
                                  info.type = rec->type();
                                  info.nlink = rec->nlink;
                                  info.parent = rec->parent;
                                  info.size = rec->size;
                                  info.next_dir_cookie = rec->next_dir_cookie;
                                  return true;
                                }));
  // Meta: counters, next inode, where the chain continues, orphans, pending drops.
  ZEROFS_RETURN_IF_ERROR(v.Scan(index::TablePrefix(index::IndexTable::kMeta), {},
                                [&](std::string_view k, std::string_view val) {
                                  auto name = index::DecodeMetaKey(k);
                                  if (!name.ok()) {
                                    Problem("corrupt", "meta table", name.status().message());
                                    return true;
                                  }
                                  if (*name == format::kMetaVolumeCounters) {
                                    auto c = index::DecodeVolumeCounters(val);
                                    if (c.ok()) {
                                      counters_ = *c;
                                    } else {
                                      Problem("corrupt", "volume counters", c.status().message());
                                    }
                                  } else if (*name == format::kMetaNextInode) {
                                    auto n = index::DecodeU64Value(val);
                                    if (n.ok()) next_inode_ = *n;
                                  } else if (*name == format::kMetaNextSeq) {
                                    auto n = index::DecodeU64Value(val);
                                    if (n.ok()) next_seq_ = *n;
                                  } else if (name->starts_with(vfs::kOrphanMetaPrefix)) {
                                    auto ino = coding::ParseHexU64(
                                        name->substr(vfs::kOrphanMetaPrefix.size()));
                                    if (ino.has_value()) orphans_.insert(*ino);
                                  } else if (name->starts_with(format::kMetaDropPrefix)) {
                                    auto ino = coding::ParseHexU64(
                                        name->substr(format::kMetaDropPrefix.size()));
                                    if (ino.has_value()) pending_drops_.insert(*ino);
                                  }
                                  return true;
                                }));
  report_.stats.pending_drops = pending_drops_.size();
  // Directory entries by name.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::pair<std::uint64_t, std::string>>
      by_cookie;
  ZEROFS_RETURN_IF_ERROR(v.Scan(
      index::TablePrefix(index::IndexTable::kDirent), {},
      [&](std::string_view k, std::string_view val) {
        auto key = index::DecodeDirentKey(k);
        auto rec = index::DecodeDirentRecord(val);
        if (!key.ok() || !rec.ok()) {
          Problem("corrupt", "directory table",
                  !key.ok() ? key.status().message() : rec.status().message());
          return true;
        }
        const std::string what =
            "entry '" + std::string(key->name) + "' of directory " + std::to_string(key->parent);
        auto parent = inodes_.find(key->parent);
        if (parent == inodes_.end() || parent->second.type != FileType::kDirectory) {
          Problem("namespace", what, "its directory does not exist");
          return true;
        }
        by_cookie[{key->parent, rec->cookie}] = {rec->ino, std::string(key->name)};
        if (rec->cookie < format::kFirstDirCookie ||
            rec->cookie >= parent->second.next_dir_cookie) {
          Problem(
              "namespace", what,
              "cookie " + std::to_string(rec->cookie) + " outside what the directory handed out");
        }
        auto child = inodes_.find(rec->ino);
        if (child == inodes_.end()) {
          Problem("namespace", what,
                  "names inode " + std::to_string(rec->ino) + ", which does not exist");
          return true;
        }
        if (child->second.type != rec->type) {
          Problem("namespace", what, "type differs from inode " + std::to_string(rec->ino) + "'s");
        }
        child->second.names++;
        if (child->second.type == FileType::kDirectory) {
          parent->second.subdirs++;
          child->second.named_in = key->parent;
        }
        edges_.emplace_back(key->parent, rec->ino);
        return true;
      }));
  // Directory entries by cookie: the same entries, both ways.
  ZEROFS_RETURN_IF_ERROR(v.Scan(index::TablePrefix(index::IndexTable::kCookie), {},
                                [&](std::string_view k, std::string_view val) {
                                  auto key = index::DecodeDirCookieKey(k);
                                  auto rec = index::DecodeDirCookieRecord(val);
                                  if (!key.ok() || !rec.ok()) {
                                    Problem("corrupt", "directory cookie table",
                                            !key.ok() ? key.status().message()
                                                      : rec.status().message());
                                    return true;
                                  }
                                  auto it = by_cookie.find({key->parent, key->cookie});
                                  if (it == by_cookie.end() || it->second.first != rec->ino ||
                                      it->second.second != rec->name) {
                                    Problem("namespace",
                                            "cookie " + std::to_string(key->cookie) +
                                                " of directory " + std::to_string(key->parent),
                                            "no matching entry named '" + rec->name + "'");
                                    return true;
                                  }
                                  by_cookie.erase(it);
                                  return true;
                                }));
  for (const auto& [where, entry] : by_cookie) {
    Problem("namespace", "entry '" + entry.second + "' of directory " + std::to_string(where.first),
            "has no cookie record (readdir does not show it)");
  }
  // Extended attributes belong to existing inodes.
  ZEROFS_RETURN_IF_ERROR(v.Scan(
      index::TablePrefix(index::IndexTable::kXattr), {}, [&](std::string_view k, std::string_view) {
        auto key = index::DecodeXattrKey(k);
        if (!key.ok()) {
          Problem("corrupt", "xattr table", key.status().message());
        } else if (!inodes_.contains(key->ino)) {
          Problem("namespace", "xattr '" + std::string(key->name) + "'",
                  "belongs to inode " + std::to_string(key->ino) + ", which does not exist");
        }
        return true;
      }));
  // The extent map.
  ZEROFS_RETURN_IF_ERROR(v.Scan(
      index::TablePrefix(index::IndexTable::kExtent), {},
      [&](std::string_view k, std::string_view val) {
        auto key = index::DecodeExtentKey(k);
        auto loc = segment::DecodeExtentLocation(val);
        if (!key.ok() || !loc.ok()) {
          Problem("corrupt", "extent map",
                  !key.ok() ? key.status().message() : loc.status().message());
          return true;
        }
        const std::string what =
            "inode " + std::to_string(key->ino) + " extent " + std::to_string(key->extent_index);
        report_.stats.extents++;
        report_.stats.live_extent_bytes += loc->sealed_length;
        auto inode = inodes_.find(key->ino);
        if (inode == inodes_.end()) {
          if (!pending_drops_.contains(key->ino)) {
            Problem("dangling-extent", what, "the inode does not exist");
          }
        } else if (inode->second.type != FileType::kRegular) {
          Problem("dangling-extent", what, "the inode is not a regular file");
        } else if (key->extent_index >= (inode->second.size + kExtentBytes - 1) / kExtentBytes) {
          Problem(
              "dangling-extent", what,
              "lies past the end of the file (size " + std::to_string(inode->second.size) + ")");
        }
        refs_[loc->seq].push_back({key->ino, key->extent_index, *loc});
        return true;
      }));
  // Segment usage.
  ZEROFS_RETURN_IF_ERROR(v.Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                                [&](std::string_view k, std::string_view val) {
                                  auto seq = index::DecodeSegmentUsageKey(k);
                                  auto usage = index::DecodeSegmentUsage(val);
                                  if (!seq.ok() || !usage.ok()) {
                                    Problem("corrupt", "segment usage table",
                                            !seq.ok() ? seq.status().message()
                                                      : usage.status().message());
                                    return true;
                                  }
                                  usage_[*seq] = *usage;
                                  return true;
                                }));
  report_.stats.index_checked = true;
  return Status::Ok();
}

void Checker::CheckExtentsAgainstSegments() {
  for (const auto& [seq, refs] : refs_) {
    const std::string name = SeqName(seq);
    const ExtentRef& first = refs.front();
    const std::string example = "e.g. inode " + std::to_string(first.inode) + " extent " +
                                std::to_string(first.extent_index);
    auto it = segments_.find(seq);
    if (it == segments_.end() || it->second.vanished) {
      // Not in the listing: it may have been written since; ask once more.
      if (it == segments_.end() && store_->Head(name).ok()) continue;
      Problem("missing", name,
              std::to_string(refs.size()) + " extents of files point into this absent segment (" +
                  example + "): their data is lost");
      continue;
    }
    const SegmentInfo& info = it->second;
    if (!info.verified) {
      Problem("damaged-data", name,
              std::to_string(refs.size()) + " extents of files lie in this damaged segment (" +
                  example + ")");
      continue;
    }
    std::uint64_t mismatches = 0;
    std::string first_mismatch;
    for (const ExtentRef& r : refs) {
      const segment::ExtentLocation& loc = r.location;
      bool ok = loc.frame_index < info.extents.size();
      if (ok) {
        const segment::DirectoryEntry& e = info.extents[loc.frame_index];
        ok = e.offset == loc.offset && e.sealed_length == loc.sealed_length &&
             e.plaintext_length == loc.plaintext_length && e.inode == r.inode &&
             e.extent_index == r.extent_index;
      }
      if (!ok && mismatches++ == 0) {
        first_mismatch = "inode " + std::to_string(r.inode) + " extent " +
                         std::to_string(r.extent_index) + " -> frame " +
                         std::to_string(loc.frame_index);
      }
    }
    if (mismatches > 0) {
      Problem("extent-mismatch", name,
              std::to_string(mismatches) +
                  " extent-map entries do not match the segment's frames (first: " +
                  first_mismatch + ")");
    }
  }
  // Usage records against what the map refers to, and against the segments' directories.
  std::set<std::uint64_t> seqs;
  for (const auto& [seq, u] : usage_) seqs.insert(seq);
  for (const auto& [seq, r] : refs_) seqs.insert(seq);
  for (std::uint64_t seq : seqs) {
    index::SegmentUsage want;
    if (auto r = refs_.find(seq); r != refs_.end()) {
      for (const ExtentRef& ref : r->second) {
        want.live_bytes += ref.location.sealed_length;
        want.live_extents++;
      }
    }
    const auto u = usage_.find(seq);
    const index::SegmentUsage have = u == usage_.end() ? index::SegmentUsage{} : u->second;
    const std::string what = "segment usage " + std::to_string(seq);
    if (have.live_bytes != want.live_bytes || have.live_extents != want.live_extents) {
      Problem("usage-mismatch", what,
              "records " + std::to_string(have.live_extents) + " live extents / " +
                  std::to_string(have.live_bytes) + " bytes; the extent map refers to " +
                  std::to_string(want.live_extents) + " / " + std::to_string(want.live_bytes));
    }
    auto s = segments_.find(seq);
    if (u != usage_.end() && s != segments_.end() && s->second.verified &&
        (have.total_bytes != s->second.extent_bytes ||
         have.total_extents != s->second.extents.size())) {
      Problem("usage-mismatch", what,
              "records " + std::to_string(have.total_extents) + " extents / " +
                  std::to_string(have.total_bytes) + " bytes in all; the segment holds " +
                  std::to_string(s->second.extents.size()) + " / " +
                  std::to_string(s->second.extent_bytes));
    }
    if (u != usage_.end() && s == segments_.end() && want.live_extents == 0) {
      Note("stale-usage", what, "the segment is gone; the collector forgets its record");
    }
  }
}

void Checker::CheckNamespace() {
  FsckStats& st = report_.stats;
  st.inodes = inodes_.size();
  std::uint64_t used = 0;
  for (const auto& [ino, info] : inodes_) {
    if (info.type == FileType::kRegular) {
      st.files++;
      used += info.size;
    } else if (info.type == FileType::kDirectory) {
      st.directories++;
    } else if (info.type == FileType::kSymlink) {
      st.symlinks++;
    }
  }
  st.used_bytes = used;
  auto root = inodes_.find(1);
  if (root == inodes_.end()) {
    if (!inodes_.empty()) Problem("namespace", "inode 1", "the root directory does not exist");
  } else if (root->second.type != FileType::kDirectory || root->second.parent != 1) {
    Problem("namespace", "inode 1", "the root is not a directory that is its own parent");
  }
  if (counters_.has_value()) {
    if (counters_->inode_count != inodes_.size() || counters_->used_bytes != used) {
      Problem("counters-mismatch", "volume counters",
              "statfs says " + std::to_string(counters_->inode_count) + " inodes / " +
                  std::to_string(counters_->used_bytes) + " bytes; the index holds " +
                  std::to_string(inodes_.size()) + " / " + std::to_string(used));
    }
  } else if (!inodes_.empty()) {
    Problem("counters-mismatch", "volume counters", "missing while the volume has inodes");
  }
  // Reachability from the root, along directory entries.
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> children;
  for (const auto& [parent, child] : edges_) children[parent].push_back(child);
  std::set<std::uint64_t> reached;
  std::vector<std::uint64_t> stack;
  if (root != inodes_.end()) {
    reached.insert(1);
    stack.push_back(1);
  }
  while (!stack.empty()) {
    const std::uint64_t dir = stack.back();
    stack.pop_back();
    for (std::uint64_t child : children[dir]) {
      if (reached.insert(child).second) stack.push_back(child);
    }
  }
  for (const auto& [ino, info] : inodes_) {
    const std::string what = "inode " + std::to_string(ino);
    if (next_inode_.has_value() && ino >= *next_inode_) {
      Problem("namespace", what, "is not below next_inode " + std::to_string(*next_inode_));
    }
    if (info.type == FileType::kDirectory) {
      const std::uint32_t want = 2 + info.subdirs;
      if (info.nlink != want) {
        Problem("nlink", what,
                "directory has nlink " + std::to_string(info.nlink) + ", expected " +
                    std::to_string(want) + " (2 + subdirectories)");
      }
      if (ino != 1 && info.names != 1) {
        Problem("namespace", what,
                "directory has " + std::to_string(info.names) + " names, expected 1");
      }
      if (ino != 1 && info.names == 1 && info.parent != info.named_in) {
        Problem("namespace", what,
                "its '..' is " + std::to_string(info.parent) + " but directory " +
                    std::to_string(info.named_in) + " holds it");
      }
    } else if (info.nlink != info.names) {
      Problem("nlink", what,
              "has nlink " + std::to_string(info.nlink) + " but " + std::to_string(info.names) +
                  " names");
    }
    if (!reached.contains(ino)) {
      if (info.nlink == 0 && orphans_.contains(ino)) {
        st.orphans++;
        Note("orphan", what, "unlinked while open; released when a writer next opens the volume");
      } else if (info.names == 0) {
        Problem("unreachable", what, "no directory entry names it and it is not an orphan");
      } else {
        Problem("unreachable", what, "its directory is not reachable from the root");
      }
    }
  }
  for (std::uint64_t ino : orphans_) {
    auto it = inodes_.find(ino);
    if (it == inodes_.end() || it->second.nlink != 0) {
      Note("stale-orphan", "inode " + std::to_string(ino),
           "an orphan record for an inode that is gone or linked again; dropped on next open");
    }
  }
}

void Checker::CheckSpace() {
  FsckStats& st = report_.stats;
  const std::uint64_t start = root_.has_value() ? root_->journal_start_seq : 1;
  const std::uint64_t end = next_seq_.value_or(start);
  st.chain_end_seq = end;
  std::vector<std::uint64_t> beyond;
  for (const auto& [seq, info] : segments_) {
    if (info.vanished) continue;
    if (seq >= end) {
      beyond.push_back(seq);
      continue;
    }
    if (seq >= start) continue;  // the journal: replayed (or void, or a fence window)
    const auto u = usage_.find(seq);
    const bool live = u != usage_.end() && (u->second.live_bytes > 0 || u->second.live_extents > 0);
    if (!live && !KeptByCheckpoint(seq)) st.reclaimable_segments++;
  }
  if (st.reclaimable_segments > 0) {
    Note("reclaimable", "segments/",
         std::to_string(st.reclaimable_segments) +
             " segments hold nothing live; the collector (zerofs gc) deletes them");
  }
  for (std::uint64_t seq : beyond) {
    Problem("leak", SeqName(seq),
            "lies beyond the end of the journal (seq " + std::to_string(end) +
                ", where the next write goes): the volume does not include it, and a writer "
                "reaching its seq would stop. If segment " +
                std::to_string(end) +
                " was deleted or lost, the changes from there on are lost with it");
  }
}

Result<FsckReport> Checker::Run() {
  ZEROFS_RETURN_IF_ERROR(OpenStore());
  ZEROFS_ASSIGN_OR_RETURN(std::vector<objstore::ObjectInfo> objects, store_->List(""));
  report_.stats.objects = objects.size();
  for (const objstore::ObjectInfo& o : objects) {
    present_.insert(o.key);
    if (auto seq = format::ParseSegmentObjectName(o.key); seq.has_value()) {
      segments_[*seq] = SegmentInfo{*seq, o.size, false, false, 0, {}, 0};
      report_.stats.segments++;
      report_.stats.segment_bytes += o.size;
    } else if (o.key == format::kKeyObjectName) {
      Checked();  // OpenKey verified it
    } else if (o.key == format::kLeaseObjectName) {
      Checked();  // the writer lease: plaintext, a live writer's business
    } else if (o.key != format::kRootObjectName && !o.key.starts_with(format::kIndexPrefix) &&
               !o.key.starts_with(format::kCheckpointPrefix)) {
      Note("unknown-object", o.key, "not part of the volume format; left alone");
      Checked();
    }
  }
  CheckRoot();
  CheckCheckpoints(objects);  // first: which index snapshots the checkpoints need
  CheckIndexObjects(objects);
  CheckSegments();
  if (root_.has_value()) {
    Status opened = OpenVolume();
    if (opened.code() == StatusCode::kPermissionDenied) return opened;
    if (!opened.ok()) {
      Problem("unopenable", "volume",
              "the volume does not open, so its index cannot be checked: " + opened.ToString());
    } else {
      Status scanned = ScanIndex();
      if (!scanned.ok()) Problem("unreadable", "index", scanned.ToString());
      CheckExtentsAgainstSegments();
      CheckNamespace();
      CheckSpace();
      Status closed = volume_->Close();
      (void)closed;  // read-only: nothing to lose
      volume_.reset();
    }
  }
  report_.stats.objects_checked = checked_;
  return std::move(report_);
}

}  // namespace

Result<FsckReport> RunFsck(const server::Config& config, const FsckOptions& options) {
  Checker checker(config, options);
  return checker.Run();
}

}  // namespace zerofs::cli
