// Checkpoints: named, frozen roots of a volume (docs/format.md "Checkpoints") — create,
// list, get, delete. Opening one read-only is Recovery's.
//
// Creating one flushes, holds off the collector (so that no segment it keeps is deleted
// before the checkpoint object exists), takes the set of live segments while no batch is
// applied, uploads an index snapshot, and writes checkpoints/<name> create-only.
//
// Ownership: no state of its own besides references to the parts it uses: the pipeline
// (flush, a steady index), the snapshot keeper, the collector's exclusion, the store.
//
// Thread-safety: every method may be called from any thread; the parts' locks are taken in
// the engine's order (collector run, snapshot keeper, pipeline).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "collector.h"
#include "snapshots.h"
#include "volume_context.h"
#include "write_pipeline.h"

namespace zerofs::engine {

class Checkpoints {
 public:
  // `snapshot_locked` takes an index snapshot with the keeper's lock held by the caller,
  // stopping the pipeline if it finds the writer fenced.
  using SnapshotFn = std::function<Result<index::SnapshotRef>()>;

  Checkpoints(VolumeContext& ctx, WritePipeline& pipeline, SnapshotKeeper& snapshots,
              Collector& collector, SnapshotFn snapshot_locked)
      : ctx_(ctx),
        pipeline_(pipeline),
        snapshots_(snapshots),
        collector_(collector),
        snapshot_locked_(std::move(snapshot_locked)) {}

  Result<CheckpointInfo> Create(std::string_view name);
  Result<std::vector<CheckpointInfo>> List();
  Result<CheckpointInfo> Get(std::string_view name);
  Status Delete(std::string_view name);

 private:
  VolumeContext& ctx_;
  WritePipeline& pipeline_;
  SnapshotKeeper& snapshots_;
  Collector& collector_;
  const SnapshotFn snapshot_locked_;
};

}  // namespace zerofs::engine
