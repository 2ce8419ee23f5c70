// DiskCache: sealed frames kept in a local directory, bounded in bytes, across restarts.
//
// The second stop of a read (DESIGN §4), after the memory cache and before a ranged GET.
// It stores frames exactly as they lie in the bucket (still encrypted), so the directory
// holds nothing readable without the volume key, and every hit is authenticated again when
// the reader opens the frame.
//
// Layout: `dir/LOCK` (held with flock while open, so two processes never share a cache) and
// up to 256 subdirectories `dir/00` .. `dir/ff`, each created with its first entry; the
// entry of frame (seq, offset) is the file
// `dir/<xx>/<seq as 16 hex>-<offset as 16 hex>`, where xx comes from a hash of the FrameId,
// so entries spread evenly. An entry file carries a header with a checksum
// (src/cache/disk_cache_entry.h documents the bytes). Entries are written to a temporary
// file and renamed into place, without fsync: a crash may leave an entry torn or empty, and
// a Lookup that finds such an entry deletes it and reports a miss, so the reader fetches
// the frame again. The DiskCache owns its directory; give it one of its own.
//
// Size: each entry is charged its file size rounded up to 4 KiB (what it takes on disk),
// and the charges stay within the capacity: Insert evicts least recently used entries.
// Open() rebuilds the accounting and the LRU order from the files (by modification time; a
// hit touches its file if it is more than a minute old), deletes leftover temporary files,
// and evicts down to the capacity.
//
// Failures never fail a read. A damaged entry is a miss. A write that fails with ENOSPC or
// EDQUOT lowers the cache's limit below what it holds and evicts, so the disk gets room; any
// other write or delete error disables the cache (lookups miss, inserts do nothing). Each
// kind of failure is logged once.
//
// Ownership: the engine opens one DiskCache per volume (cache.dir, cache.disk_gb) and lends
// it to the CachedExtentReader.
// Thread-safety: every method may be called concurrently. One mutex guards the index and
// is held for renames and deletions (quick metadata operations); reading and writing entry
// files happens outside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "zerofs/cache/frame_id.h"
#include "zerofs/common/result.h"

namespace zerofs::cache {

struct DiskCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t inserts = 0;
  std::uint64_t evictions = 0;        // entries deleted to make room
  std::uint64_t dropped_damaged = 0;  // entries found torn or corrupt and deleted
  std::uint64_t io_errors = 0;        // failed writes, renames and deletions
  std::uint64_t bytes = 0;            // charged bytes of the entries held
  std::uint64_t entries = 0;
  std::uint64_t capacity_bytes = 0;  // as configured
  std::uint64_t limit_bytes = 0;     // in force: lower than the capacity after ENOSPC
  bool enabled = true;
};

class DiskCache {
 public:
  // Disk space is allocated in blocks of this size; entries are charged whole blocks.
  static constexpr std::uint64_t kBlockBytes = 4096;
  static constexpr int kSubdirCount = 256;

  // Creates `dir` if needed, locks it, and scans the entries already there. Fails if the
  // directory cannot be created or read, or another process has it open (kIoError naming
  // it). With a capacity of 0 it stores nothing and deletes the entries it finds.
  static Result<std::unique_ptr<DiskCache>> Open(const std::filesystem::path& dir,
                                                 std::uint64_t capacity_bytes);
  ~DiskCache();

  DiskCache(const DiskCache&) = delete;
  DiskCache& operator=(const DiskCache&) = delete;

  // The sealed bytes of `id`, or std::nullopt on a miss (including a damaged entry, which is
  // deleted). Never fails today: local problems degrade to misses. The Result leaves room
  // for errors the caller must see.
  Result<std::optional<std::string>> Lookup(const FrameId& id);

  // Stores `bytes` as the entry of `id`, best effort (see above). An id already present is
  // left alone: frames are immutable.
  void Insert(const FrameId& id, std::string_view bytes);

  void Erase(const FrameId& id);
  // Deletes every entry of segment `seq` (the segment was deleted from the bucket).
  void EraseSegment(std::uint64_t seq);

  DiskCacheStats Stats() const;
  bool Contains(const FrameId& id) const;
  const std::filesystem::path& dir() const { return dir_; }
  // Where the entry of `id` lives (whether or not it exists); for tests and tools.
  std::filesystem::path EntryPath(const FrameId& id) const;

 private:
  struct Entry {
    std::uint64_t charge = 0;
    std::uint64_t generation = 0;  // tells a re-inserted entry from the one a reader saw
    std::list<FrameId>::iterator lru;
  };

  DiskCache(std::filesystem::path dir, int dir_fd, int lock_fd, std::uint64_t capacity_bytes);

  Status Scan();
  // Deletes the entry's file and forgets it. Requires mu_.
  void RemoveLocked(std::map<FrameId, Entry>::iterator it);
  // Evicts least recently used entries while over the limit. Requires mu_.
  void EvictLocked();
  // Reacts to a failed write, rename or deletion (errno `err`). Requires mu_.
  void OnIoErrorLocked(int err, std::string_view what);
  // Forgets `id` if it is still the entry of `generation`, as a damaged entry. Takes mu_.
  void DropDamaged(const FrameId& id, std::uint64_t generation, const Status& why);

  const std::filesystem::path dir_;
  const int dir_fd_;   // the cache directory, for *at() calls
  const int lock_fd_;  // holds the flock
  const std::uint64_t capacity_bytes_;

  mutable std::mutex mu_;
  std::map<FrameId, Entry> index_;     // GUARDED_BY(mu_); ordered, so a segment is one range
  std::list<FrameId> lru_;             // GUARDED_BY(mu_); front: most recently used
  std::uint64_t bytes_ = 0;            // GUARDED_BY(mu_)
  std::uint64_t limit_bytes_;          // GUARDED_BY(mu_)
  bool enabled_ = true;                // GUARDED_BY(mu_)
  bool logged_no_space_ = false;       // GUARDED_BY(mu_)
  bool logged_damage_ = false;         // GUARDED_BY(mu_)
  std::uint64_t next_generation_ = 1;  // GUARDED_BY(mu_)
  std::uint64_t next_temp_ = 0;        // GUARDED_BY(mu_)
  DiskCacheStats counters_;            // GUARDED_BY(mu_); hits .. io_errors
};

}  // namespace zerofs::cache
