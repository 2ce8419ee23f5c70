// VolumeImpl: the Volume of volume.h, as a composition of the engine's parts
// (docs/architecture.md "The engine's parts"):
//   Recovery        opening: key, root, local index, journal replay (JournalReplayer), fence
//   WritePipeline   open batch, sealing, uploads, applying to the index, Sync
//   SnapshotKeeper  the root and index snapshots
//   Collector       drops, compaction, deletion, pacing, space accounting
//   Checkpoints     checkpoint create / list / get / delete
// VolumeImpl wires them, serves reads (the chain first, then the index and the caches) and
// implements the rest of the API by delegation.
//
// Ownership: owns the context and every part; parts refer to each other by reference and
// live as long as the volume. Close stops the collector, then the pipeline, then releases
// the index and the caches.
//
// Thread-safety: as Volume. VolumeImpl's own state is the read-ahead tracker under
// `readahead_mu_`; everything else is a part's, under the part's lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "checkpoints.h"
#include "collector.h"
#include "snapshots.h"
#include "volume_context.h"
#include "write_pipeline.h"

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
  Result<BatchNumber> Commit(const Transaction& txn) override { return pipeline_.Commit(txn); }
  Result<std::uint64_t> AllocateInode() override { return pipeline_.AllocateInode(); }
  Status Sync(BatchNumber batch) override { return pipeline_.Sync(batch); }
  Status SyncAll() override { return pipeline_.SyncAll(); }
  Status Snapshot() override;
  Status Close() override;
  Result<GcStats> RunGc(const GcRunOptions& options, const GcProgressFn& progress) override {
    return collector_.Run(options, progress);
  }
  Result<SpaceStats> SpaceUsage() override { return collector_.SpaceUsage(); }
  Result<std::uint64_t> SegmentsBehind(std::uint32_t limit) override;
  Result<CheckpointInfo> CreateCheckpoint(std::string_view name) override {
    return checkpoints_.Create(name);
  }
  Result<std::vector<CheckpointInfo>> ListCheckpoints() override { return checkpoints_.List(); }
  Result<CheckpointInfo> GetCheckpoint(std::string_view name) override {
    return checkpoints_.Get(name);
  }
  Status DeleteCheckpoint(std::string_view name) override { return checkpoints_.Delete(name); }
  VolumeStats stats() const override;
  std::map<std::uint64_t, bool> PendingExtents(std::uint64_t inode, std::uint64_t first,
                                               std::uint64_t last) override {
    return pipeline_.PendingExtents(inode, first, last);
  }
  bool read_only() const override { return ctx_.read_only(); }

 private:
  explicit VolumeImpl(VolumeOptions options);

  Status OpenInternal();
  // A snapshot with the keeper's lock held; a fenced writer's pipeline is stopped.
  Result<index::SnapshotRef> SnapshotLocked();
  // Prefetches up to the read-ahead window of committed extents of `inode` from `first`.
  void PrefetchFrom(std::uint64_t inode, std::uint64_t first);

  VolumeContext ctx_;
  SnapshotKeeper snapshots_;
  WritePipeline pipeline_;
  Collector collector_;
  Checkpoints checkpoints_;
  // Set at open.
  std::uint64_t writer_epoch_ = 0;
  std::uint64_t replayed_segments_ = 0;
  std::mutex close_mu_;
  bool closed_ = false;  // GUARDED_BY(close_mu_)

  // Where each recently read inode's last read ended: a read starting there is sequential
  // and triggers read-ahead. Bounded; cleared when it grows too large.
  std::mutex readahead_mu_;
  std::map<std::uint64_t, std::uint64_t> last_read_end_;  // GUARDED_BY(readahead_mu_)
};

}  // namespace zerofs::engine
