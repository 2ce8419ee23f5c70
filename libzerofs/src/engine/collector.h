// Collector: space reclamation of a volume (docs/architecture.md "The engine's parts",
// docs/format.md "Space") — dropping deleted files' data in bounded rounds, compaction of
// sparse and small segments (paced by bandwidth and duty cycle), deletion of segments that
// nothing needs (after a grace period), and space accounting.
//
// It works through the volume's public API (Scan, Get, Commit, Sync, Snapshot), so its
// changes are ordinary transactions; compaction moves extents with
// WritePipeline::CommitRelocations, which lets any concurrent change win.
//
// Ownership: owns its background thread, the grace-period bookkeeping and its counters;
// uses the context's index, reader and store, the pipeline and the snapshot keeper.
//
// Threads: one background loop on writers with GcSettings::background (a full run every
// interval; a drop round as soon as Wake says a file's data waits), plus RunGc callers.
//
// Thread-safety: `run_mu_` lets one run happen at a time (background or RunGc); checkpoint
// creation holds it through Exclusive() so that no segment a new checkpoint keeps is
// deleted under it. `wake_mu_` guards the wakeup flag and is a leaf lock (Wake is called
// under the pipeline's lock). `stats_mu_` guards the counters. Lock order: run_mu_, then the
// snapshot keeper's, then the pipeline's.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "snapshots.h"
#include "volume_context.h"
#include "write_pipeline.h"
#include "zerofs/index/records.h"

namespace zerofs::engine {

class Collector {
 public:
  Collector(VolumeContext& ctx, Volume& volume, WritePipeline& pipeline, SnapshotKeeper& snapshots)
      : ctx_(ctx), volume_(volume), pipeline_(pipeline), snapshots_(snapshots) {}
  ~Collector() { Stop(); }

  // Starts the background loop (writers with GcSettings::background).
  void Start();
  // Ends runs at their next step and joins the loop; idempotent.
  void Stop();
  // A file's data waits to be dropped: the loop runs a drop round now.
  void Wake();
  // Holds off collector runs while the returned lock lives.
  std::unique_lock<std::mutex> Exclusive() { return std::unique_lock(run_mu_); }

  // Volume::RunGc.
  Result<GcStats> Run(const GcRunOptions& options, const GcProgressFn& progress);
  // Volume::SpaceUsage.
  Result<SpaceStats> SpaceUsage();
  // The gc_* counters.
  void FillStats(VolumeStats& stats) const;

  // Whether a segment's usage record says anything in it is live.
  static bool Live(const index::SegmentUsage& usage);

 private:
  // One run with run_mu_ held; `max_deletes` bounds deletions.
  Result<GcStats> RunLocked(const GcRunOptions& options, std::uint64_t max_drop_extents,
                            std::uint32_t max_deletes, const GcProgressFn& progress);
  Status DropPendingData(std::uint64_t max_extents, GcStats& stats, const GcProgressFn& progress);
  // compaction.cpp
  Status CompactSegments(const GcRunOptions& options, GcStats& stats, const GcProgressFn& progress);
  // Forgets the usage records of dead segments whose objects are gone (seq <= applied, not
  // in `objects`, the segment listing); keeps and logs live ones.
  Status ForgetStaleUsage(const std::vector<objstore::ObjectInfo>& objects, std::uint64_t applied);
  // Deletes what may be deleted now; `*next_due_ms` gets when the next segment held only by
  // the grace period becomes deletable (0: none).
  Status DeleteDeadSegments(bool dry_run, std::chrono::milliseconds grace,
                            std::uint32_t max_deletes, GcStats& stats, std::uint64_t* next_due_ms,
                            const GcProgressFn& progress);
  void Loop();
  bool Stopping() const { return stop_.load(); }
  static void Report(const GcProgressFn& progress, const char* phase, std::uint64_t done,
                     std::uint64_t total, const GcStats& stats);
  void Count(std::uint64_t rounds, std::uint64_t deleted, std::uint64_t freed,
             std::uint64_t rewritten);

  VolumeContext& ctx_;
  Volume& volume_;
  WritePipeline& pipeline_;
  SnapshotKeeper& snapshots_;

  std::mutex run_mu_;
  // When each segment was first seen deletable (steady clock ms), for the grace period.
  std::map<std::uint64_t, std::uint64_t> deletable_since_ms_;  // GUARDED_BY(run_mu_)
  std::atomic<bool> stop_{false};

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wakeup_ = false;  // GUARDED_BY(wake_mu_) a file's data waits to be dropped

  mutable std::mutex stats_mu_;
  std::uint64_t rounds_ = 0;            // GUARDED_BY(stats_mu_)
  std::uint64_t segments_deleted_ = 0;  // GUARDED_BY(stats_mu_)
  std::uint64_t bytes_freed_ = 0;       // GUARDED_BY(stats_mu_)
  std::uint64_t bytes_rewritten_ = 0;   // GUARDED_BY(stats_mu_)

  std::thread thread_;
};

}  // namespace zerofs::engine
