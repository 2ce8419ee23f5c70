// VolumeImpl: the Volume of docs/engine.md — open batch, flush pipeline, recovery.
//
// Locking: `mu_` guards the batch chain (open batch + sealed batches not yet applied), the
// counters and the state flags. Sealing and uploads run outside it on the flusher and
// upload threads; applying a durable batch to the index happens under it, so that "in the
// chain or in the index" is always true of every committed change for a reader holding it.
//
// Threads: one flusher (seals batches in seq order, honours the interval), and
// `max_inflight_segments` upload workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "batch.h"
#include "checkpoint_record.h"
#include "zerofs/cache/cached_extent_reader.h"
#include "zerofs/cache/disk_cache.h"
#include "zerofs/cache/extent_cache.h"
#include "zerofs/crypto/volume_key.h"
#include "zerofs/engine/volume.h"
#include "zerofs/index/index_db.h"
#include "zerofs/index/root.h"
#include "zerofs/index/snapshot.h"
#include "zerofs/objstore/retrying_store.h"
#include "zerofs/segment/segment_reader.h"

namespace zerofs::engine {

class VolumeImpl final : public Volume {
 public:
  static Result<std::unique_ptr<Volume>> Open(VolumeOptions options);
  ~VolumeImpl() override;

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Scan(std::string_view prefix, std::string_view start_after,
              const std::function<bool(std::string_view, std::string_view)>& visit) override;
  Result<std::string> Read(std::uint64_t inode, std::uint64_t offset,
                           std::uint64_t length) override;
  void ReadAhead(std::uint64_t inode, std::uint64_t offset, std::uint64_t length) override;
  Result<Position> Commit(const Transaction& txn) override;
  Result<std::uint64_t> AllocateInode() override;
  Status Sync(Position position) override;
  Status SyncAll() override;
  Status Snapshot() override;
  Status Close() override;
  Result<GcStats> RunGc(const GcRunOptions& options, const GcProgressFn& progress) override;
  Result<SpaceStats> SpaceUsage() override;
  Result<std::uint64_t> SegmentsBehind(std::uint32_t limit) override;
  Result<CheckpointInfo> CreateCheckpoint(std::string_view name) override;
  Result<std::vector<CheckpointInfo>> ListCheckpoints() override;
  Result<CheckpointInfo> GetCheckpoint(std::string_view name) override;
  Status DeleteCheckpoint(std::string_view name) override;
  VolumeStats stats() const override;
  std::map<std::uint64_t, bool> PendingExtents(std::uint64_t inode, std::uint64_t first,
                                               std::uint64_t last) override;
  bool read_only() const override { return options_.mode == OpenMode::kReadOnly; }

  // A live extent of a segment being compacted, read back for rewriting.
  struct Relocation {
    ExtentId id;
    segment::ExtentLocation from;
    ExtentData data;
  };
  struct RelocateResult {
    Position position = 0;
    std::uint64_t moved = 0;        // extents whose map entry moved
    std::uint64_t moved_bytes = 0;  // their sealed bytes at the old place
  };
  // Puts each extent into the open batch, to be rewritten into the next segment, but only if
  // the extent map still points at `from` and no newer change to it is in flight: a
  // concurrent write, truncate or drop always wins over compaction.
  Result<RelocateResult> CommitRelocations(const std::vector<Relocation>& items);

 private:
  explicit VolumeImpl(VolumeOptions options);

  // --- open / recovery (volume_open.cpp) ---
  Status OpenInternal();
  Status PrepareLocalIndex(const index::RootRecord& root);
  // Replays segments from the index's expected next seq until the chain ends.
  Status Replay();
  Status WriteFence();
  // Opens options_.checkpoint: its index snapshot, in a directory of its own, no replay.
  Status OpenCheckpoint();

  // --- space (volume_gc.cpp) ---
  // One collector run under gc_mu_; `settings` supply thresholds and budgets.
  Result<GcStats> RunGcLocked(const GcRunOptions& options, std::uint64_t max_drop_extents,
                              std::uint32_t max_deletes, const GcProgressFn& progress);
  Status DropPendingData(std::uint64_t max_extents, GcStats& stats, const GcProgressFn& progress);
  Status CompactSegments(const GcRunOptions& options, GcStats& stats, const GcProgressFn& progress);
  // Deletes what may be deleted now; `*next_due_ms` gets when the next segment held only by
  // the grace period becomes deletable (0: none).
  // Forgets the usage records of dead segments whose objects are gone (seq <= applied, not
  // in `objects`, the segment listing); keeps and logs live ones.
  Status ForgetStaleUsage(const std::vector<objstore::ObjectInfo>& objects, std::uint64_t applied);
  Status DeleteDeadSegments(bool dry_run, std::chrono::milliseconds grace,
                            std::uint32_t max_deletes, GcStats& stats, std::uint64_t* next_due_ms,
                            const GcProgressFn& progress);
  void GcLoop();
  bool GcStopping() const { return gc_stop_.load(); }

  // --- snapshots (volume_flush.cpp) ---
  // Snapshot() with snapshot_mu_ held; returns the new root's snapshot.
  Result<index::SnapshotRef> SnapshotLocked();

  // --- reads ---
  // The extent as the chain or the index knows it: data, or nullptr for a hole.
  Result<ExtentData> ReadExtent(const ExtentId& id);
  // Looks `id` up in the chain only (caller holds mu_). nullopt: not in the chain.
  std::optional<ExtentData> ChainExtentLocked(const ExtentId& id) const;
  std::optional<std::optional<std::string>> ChainKeyLocked(std::string_view key) const;
  Result<std::optional<segment::ExtentLocation>> IndexLocation(const ExtentId& id) const;
  Result<ExtentData> ReadCommitted(const ExtentId& id, const segment::ExtentLocation& loc);
  // Prefetches up to the read-ahead window of committed extents of `inode` from `first`.
  void PrefetchFrom(std::uint64_t inode, std::uint64_t first);

  // --- writes ---
  struct Base {
    std::optional<segment::ExtentLocation> location;  // in the index when fetched
    ExtentData data;
  };
  Status ApplyTxnLocked(const Transaction& txn, const std::map<ExtentId, Base>& bases,
                        bool* need_retry);
  Status ZeroRangeLocked(std::uint64_t inode, std::uint64_t offset, std::uint64_t length,
                         const std::map<ExtentId, Base>& bases, bool* need_retry);
  Status PatchExtentLocked(const ExtentId& id, std::uint64_t at, std::string_view bytes,
                           const std::map<ExtentId, Base>& bases, bool* need_retry);
  struct TxnSize {
    std::uint64_t extents = 0;
    std::uint64_t journal_bytes = 0;
  };
  Result<TxnSize> TxnSizeLocked(const Transaction& txn);
  // The extents a DropData of `inode` releases at once (index and chain), or nullopt when
  // there are too many for one transaction: then the collector drops them in rounds.
  Result<std::optional<std::vector<std::uint64_t>>> InlineDropExtentsLocked(std::uint64_t inode);
  // Calls `visit` for every extent of `inode` with index in [first, last] that the batches
  // not yet applied (sealed ones oldest first, then the open one) set; nullptr is a hole.
  void VisitPendingExtentsLocked(
      std::uint64_t inode, std::uint64_t first, std::uint64_t last,
      const std::function<void(std::uint64_t index, const ExtentData& data)>& visit) const;
  Result<std::vector<std::uint64_t>> ExistingExtentsLocked(std::uint64_t inode, std::uint64_t first,
                                                           std::uint64_t last);

  // --- flush pipeline ---
  // Asks the flusher to cut the open batch as soon as an upload slot is free.
  void RequestFlushLocked();
  void CutOpenBatchLocked();
  void FlusherLoop();
  void UploadLoop();
  Status SealBatch(const BatchPtr& batch, const std::vector<BatchPtr>& earlier);
  void OnUploaded(const BatchPtr& batch, const Status& status);
  void FailLocked(const Status& status);
  // Counts a batch cut at `cut_at` that just became durable (stats_.flush_latency_*).
  void ObserveFlushLatencyLocked(std::chrono::steady_clock::time_point cut_at);
  std::uint64_t BufferedBytesLocked() const;

  VolumeOptions options_;
  std::filesystem::path cache_dir_;
  bool owns_cache_dir_ = false;
  crypto::VolumeKey key_;
  std::string root_etag_;
  index::RootRecord root_;
  std::unique_ptr<index::IndexDb> db_;
  std::unique_ptr<segment::SegmentReader> reader_;
  // options_.store with the segment uploads' retry budget (upload_attempts).
  std::shared_ptr<objstore::RetryingStore> upload_store_;
  std::unique_ptr<cache::ExtentCache> extent_cache_;
  std::unique_ptr<cache::DiskCache> disk_cache_;
  std::unique_ptr<cache::CachedExtentReader> cached_reader_;
  // Where each recently read inode's last read ended: a read starting there is sequential
  // and triggers read-ahead. Bounded; cleared when it grows too large.
  std::mutex readahead_mu_;
  std::map<std::uint64_t, std::uint64_t> last_read_end_;  // GUARDED_BY(readahead_mu_)
  index::SnapshotUploadState snapshot_state_;
  std::mutex snapshot_mu_;  // held by snapshots (and checkpoints); guards root_ changes

  // The collector: one run at a time (background or RunGc), and checkpoint creation waits
  // for it, so that no segment a new checkpoint keeps is deleted under it.
  std::mutex gc_mu_;
  // When each segment was first seen deletable (steady clock ms), for the grace period.
  std::map<std::uint64_t, std::uint64_t> deletable_since_ms_;  // GUARDED_BY(gc_mu_)
  std::atomic<bool> gc_stop_{false};
  bool gc_wakeup_ = false;  // GUARDED_BY(mu_) a file's data waits to be dropped
  std::thread gc_thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;                 // any state change
  BatchPtr open_;                              // GUARDED_BY(mu_)
  std::deque<BatchPtr> sealed_;                // GUARDED_BY(mu_) oldest first, not yet applied
  std::deque<BatchPtr> to_seal_;               // GUARDED_BY(mu_) waiting for the flusher
  std::deque<BatchPtr> to_upload_;             // GUARDED_BY(mu_)
  std::uint64_t next_batch_number_ = 1;        // GUARDED_BY(mu_)
  std::uint64_t durable_batch_ = 0;            // GUARDED_BY(mu_) all batches <= are durable
  std::uint64_t next_seq_ = 1;                 // GUARDED_BY(mu_) the seq the next seal uses
  std::uint64_t durable_seq_ = 0;              // GUARDED_BY(mu_)
  std::uint64_t durable_next_seq_ = 1;         // GUARDED_BY(mu_) where the chain continues
  std::uint64_t next_inode_ = 2;               // GUARDED_BY(mu_)
  std::uint64_t chain_epoch_ = 0;              // GUARDED_BY(mu_)
  std::uint64_t uploads_in_flight_ = 0;        // GUARDED_BY(mu_)
  Status failure_;                             // GUARDED_BY(mu_) non-OK: fenced or failed
  bool closing_ = false;                       // GUARDED_BY(mu_)
  bool flush_requested_ = false;               // GUARDED_BY(mu_)
  bool closed_ = false;                        // GUARDED_BY(mu_)
  VolumeStats stats_;                          // GUARDED_BY(mu_)
  std::uint64_t segments_since_snapshot_ = 0;  // GUARDED_BY(mu_)
  std::uint64_t last_snapshot_ms_ = 0;         // GUARDED_BY(mu_) steady clock

  std::thread flusher_;
  std::vector<std::thread> uploaders_;
};

}  // namespace zerofs::engine
