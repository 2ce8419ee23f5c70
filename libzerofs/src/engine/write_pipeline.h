// WritePipeline: the write path of a volume (docs/architecture.md "The engine's parts") —
// the open batch that commits land in, sealing batches into segments in seq order, uploading
// them in parallel, applying them to the index in order once durable, and releasing the
// waiters of Sync (group commit).
//
// "In the chain or in the index": every committed change is, at every moment, either in a
// batch the pipeline holds (open, or sealed and not yet applied) or in the index. Applying a
// durable batch to the index and dropping it from the chain happen under `mu_`, so a reader
// that looks at the chain under `mu_` and then at the index never misses a change.
//
// Ownership: owns the batches, the chain position and its threads; reads the context's
// index, caches and stores. Recovery sets the position (Init) before Start.
//
// Threads: one flusher (cuts the open batch on a request, the interval or a full batch; seals
// in seq order; asks for index snapshots on their cadence through Hooks::snapshot) and
// `max_inflight_segments` uploaders. Commit, Sync and the chain reads run on callers' threads.
//
// Thread-safety: every public method may be called from any thread. `mu_` guards all state;
// sealing and uploads run outside it. Lock order: the callers' locks (collector run,
// snapshot keeper) before `mu_`; under `mu_` the pipeline takes no other lock of the engine
// except Hooks::drop_pending's leaf lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "batch.h"
#include "volume_context.h"

namespace zerofs::engine {

// Where the segment chain stands, as recovery left it.
struct ChainPosition {
  std::uint64_t next_seq = 1;          // the seq the next seal uses
  std::uint64_t durable_seq = 0;       // the last seq applied to the index
  std::uint64_t durable_next_seq = 1;  // where the durable chain continues
  std::uint64_t chain_epoch = 0;       // writer epoch of the last record
};

// A live extent of a segment being compacted, read back for rewriting.
struct Relocation {
  ExtentId id;
  segment::ExtentLocation from;
  ExtentData data;
};
struct RelocateResult {
  BatchNumber batch = 0;  // the batch the relocation joined (0: nothing moved)
  std::uint64_t moved = 0;        // extents whose map entry moved
  std::uint64_t moved_bytes = 0;  // their sealed bytes at the old place
};

// The extent's location in the index, if it has one.
Result<std::optional<segment::ExtentLocation>> IndexLocation(const index::IndexDb& db,
                                                             const ExtentId& id);

class WritePipeline {
 public:
  struct Hooks {
    // An index snapshot is due (segment count or interval); called on the flusher, unlocked.
    std::function<Status()> snapshot;
    // A DropData left committed data for the collector to release; called under `mu_`.
    std::function<void()> drop_pending;
  };

  WritePipeline(VolumeContext& ctx, Hooks hooks);
  ~WritePipeline();

  // At open, before Start: the chain position, the next inode, this writer's epoch and the
  // segments recovery wrote (the fence).
  void Init(const ChainPosition& position, std::uint64_t next_inode, std::uint64_t writer_epoch,
            std::uint64_t segments_written);
  // Starts the flusher and the uploaders (writers only).
  void Start();

  // --- the chain, for reads ---
  // The key's value in the chain: nullopt if the chain does not have it, an empty optional
  // if it deletes it. kCancelled once closed.
  Result<std::optional<std::optional<std::string>>> ChainKey(std::string_view key) const;
  using Overlay = std::map<std::string, std::optional<std::string>, std::less<>>;
  // The chain's keys under `prefix` after `start_after`, newest value winning.
  Result<Overlay> ChainKeys(std::string_view prefix, std::string_view start_after) const;
  // Extent `id` as the chain has it (nullptr: a hole); nullopt: not in the chain.
  std::optional<ExtentData> ChainExtent(const ExtentId& id) const;
  // Extents [first, last] of `inode` in the chain, slot i for extent first + i.
  std::vector<std::optional<ExtentData>> ChainExtents(std::uint64_t inode, std::uint64_t first,
                                                      std::uint64_t last) const;
  std::map<std::uint64_t, bool> PendingExtents(std::uint64_t inode, std::uint64_t first,
                                               std::uint64_t last) const;

  // --- changes (pipeline_commit.cpp) ---
  Result<BatchNumber> Commit(const Transaction& txn);
  Result<std::uint64_t> AllocateInode();
  // Puts each extent into the open batch, to be rewritten into the next segment, but only if
  // the extent map still points at `from` and no newer change to it is in flight: a
  // concurrent write, truncate or drop always wins over compaction.
  Result<RelocateResult> CommitRelocations(const std::vector<Relocation>& items);
  static constexpr std::size_t kMaxRelocationGroup = 16384;

  // --- durability (pipeline_flush.cpp) ---
  Status Sync(BatchNumber batch);
  Status SyncAll();
  // Flushes what is buffered (writers), stops the threads and closes: later calls fail.
  // Returns the failure that stopped the pipeline, if one did.
  Status Close();

  // OK, or why nothing more becomes durable (fenced, or a flush failed for good).
  Status failure() const;
  // Stops acknowledging writes with `status` (the first failure wins).
  void Fail(const Status& status);
  std::uint64_t durable_seq() const;
  std::uint64_t next_seq() const;
  // Runs `fn(durable_seq)` while no batch is applied to the index.
  Status WithIndexSteady(const std::function<Status(std::uint64_t durable_seq)>& fn) const;
  // The pipeline's counters and position.
  void FillStats(VolumeStats& stats) const;

 private:
  struct Base {
    std::optional<segment::ExtentLocation> location;  // in the index when fetched
    ExtentData data;
  };
  struct TxnSize {
    std::uint64_t extents = 0;
    std::uint64_t journal_bytes = 0;
  };

  // pipeline_commit.cpp
  std::optional<ExtentData> ChainExtentLocked(const ExtentId& id) const;
  Status ApplyTxnLocked(const Transaction& txn, const std::map<ExtentId, Base>& bases,
                        bool* need_retry);
  Status ZeroRangeLocked(std::uint64_t inode, std::uint64_t offset, std::uint64_t length,
                         const std::map<ExtentId, Base>& bases, bool* need_retry);
  Status PatchExtentLocked(const ExtentId& id, std::uint64_t at, std::string_view bytes,
                           const std::map<ExtentId, Base>& bases, bool* need_retry);
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
  void NoteFirstChangeLocked();

  // pipeline_flush.cpp
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

  VolumeContext& ctx_;
  const Hooks hooks_;
  std::uint64_t writer_epoch_ = 0;  // set by Init, before any thread

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;         // any state change
  BatchPtr open_;                              // GUARDED_BY(mu_)
  std::deque<BatchPtr> sealed_;                // GUARDED_BY(mu_) oldest first, not yet applied
  std::deque<BatchPtr> to_seal_;               // GUARDED_BY(mu_) waiting for the flusher
  std::deque<BatchPtr> to_upload_;             // GUARDED_BY(mu_)
  std::uint64_t next_batch_number_ = 1;        // GUARDED_BY(mu_)
  std::uint64_t durable_batch_ = 0;            // GUARDED_BY(mu_) all batches <= are durable
  ChainPosition chain_;                        // GUARDED_BY(mu_)
  std::uint64_t next_inode_ = 2;               // GUARDED_BY(mu_)
  std::uint64_t uploads_in_flight_ = 0;        // GUARDED_BY(mu_)
  Status failure_;                             // GUARDED_BY(mu_) non-OK: fenced or failed
  bool closing_ = false;                       // GUARDED_BY(mu_)
  bool flush_requested_ = false;               // GUARDED_BY(mu_)
  bool closed_ = false;                        // GUARDED_BY(mu_)
  VolumeStats stats_;                          // GUARDED_BY(mu_) the pipeline's counters
  std::uint64_t segments_since_snapshot_ = 0;  // GUARDED_BY(mu_)
  std::uint64_t last_snapshot_ms_ = 0;         // GUARDED_BY(mu_) steady clock

  std::thread flusher_;
  std::vector<std::thread> uploaders_;
};

}  // namespace zerofs::engine
