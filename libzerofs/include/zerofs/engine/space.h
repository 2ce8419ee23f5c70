// Space reclamation and checkpoints: the settings, results and reports of the engine's
// garbage collector, and what a checkpoint looks like from the outside
// (docs/engine.md "Space: dropping, compaction, deletion" and "Checkpoints").
//
// The collector does three things, in this order:
//   1. drops the data of deleted files in bounded rounds (one commit each), so deleting a
//      large file never stalls the caller (Transaction::DropData records the work);
//   2. compacts sparse segments: rewrites their live extents into new segments, moving
//      the extent map only where it still points at the old place;
//   3. deletes segment objects that hold nothing live, that recovery does not need (covered
//      by the root's index snapshot), that no checkpoint refers to, and that have been
//      deletable for the read-replica grace period.
//
// Thread-safety: plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace zerofs::engine {

// How the writer collects garbage (VolumeOptions::gc; a config file's [gc] section fills it).
struct GcSettings {
  // Run the collector in the background on the writer.
  bool background = true;
  // How often a background round starts (sooner when a file's data is waiting to be dropped).
  std::chrono::milliseconds interval{60000};
  // Budget of one background round: sealed bytes of live extents rewritten ...
  std::uint64_t rewrite_bytes_per_round = 64ULL << 20;
  // ... and segment objects deleted.
  std::uint32_t deletes_per_round = 1000;
  // Extents dropped per commit when a deleted file's data is dropped.
  std::uint32_t drop_extents_per_round = 8192;
  // A segment whose live extent bytes are below this fraction of its extent bytes is
  // compacted.
  double compact_below_live_fraction = 0.5;
  // Beyond those, while the extent bytes of segments with anything live exceed the live
  // bytes by this factor, the sparsest of the remaining segments are compacted too, so the
  // bucket tracks the live data however the dead extents are spread.
  double max_amplification = 1.25;
  // Segments with fewer extent bytes than this are merged (when there are at least two).
  std::uint64_t small_segment_bytes = 4ULL << 20;
  // A segment is deleted only after it has been deletable this long, so that read replicas
  // that still follow an older state can finish reading it.
  std::chrono::milliseconds deletion_grace{60000};
  // Budget of background compaction: bytes per second of live extents rewritten (0: no
  // limit), and the share of wall time (percent) it may work; it sleeps the rest.
  std::uint64_t rewrite_bytes_per_second = 0;
  std::uint32_t max_busy_percent = 100;
};

// One on-demand run (Volume::RunGc).
struct GcRunOptions {
  // Report what would be done: count pending drops, sparse and deletable segments; change
  // nothing.
  bool dry_run = false;
  // Budget of sealed bytes rewritten by compaction (0: no limit, compact every candidate).
  std::uint64_t max_rewrite_bytes = 0;
  // Upload an index snapshot after compacting, so that the compacted segments leave the
  // journal and can be deleted in the same run.
  bool snapshot = true;
  // Wait out the deletion grace period (GcSettings::deletion_grace) for segments that
  // became deletable during the run, then delete them. Off: they wait for a later run.
  bool wait_for_grace = true;
  // Overrides GcSettings::deletion_grace for this run (e.g. 0 when no replica runs).
  std::optional<std::chrono::milliseconds> deletion_grace;
  // Pace compaction: at most this many bytes of live extents rewritten per second (0: no
  // limit), working at most this share (percent) of the wall time. The collector sleeps
  // after each group of relocated extents until both hold.
  std::uint64_t rewrite_bytes_per_second = 0;
  std::uint32_t max_busy_percent = 100;
  // Test hook: called after a batch of live extents has been read and before the extent
  // map is moved to their new place.
  std::function<void()> before_relocate_commit;
};

struct GcStats {
  std::uint64_t files_dropped = 0;  // deleted files whose data is now all released
  std::uint64_t extents_dropped = 0;
  std::uint64_t segments_examined = 0;   // usage records looked at
  std::uint64_t segments_compacted = 0;  // whose live extents were rewritten
  std::uint64_t extents_rewritten = 0;
  std::uint64_t bytes_rewritten = 0;  // sealed bytes of the extents moved
  std::uint64_t segments_deleted = 0;
  std::uint64_t bytes_freed = 0;  // object bytes of the deleted segments
  // Segments with nothing live that were kept: by a checkpoint, by the journal (not yet
  // covered by an index snapshot), or by the grace period.
  std::uint64_t segments_kept_by_checkpoints = 0;
  std::uint64_t segments_kept_by_journal = 0;
  std::uint64_t segments_kept_by_grace = 0;
  std::chrono::milliseconds duration{0};
};

// Progress of a run, for a terminal or a control socket.
struct GcProgress {
  const char* phase = "";   // "drop", "compact", "snapshot", "delete", "grace"
  std::uint64_t done = 0;   // units of the phase done so far ...
  std::uint64_t total = 0;  // ... out of (0: unknown)
  GcStats stats;            // so far
};
using GcProgressFn = std::function<void(const GcProgress&)>;

// Where the bucket's bytes go (Volume::SpaceUsage).
struct SpaceStats {
  std::uint64_t live_bytes = 0;    // sealed bytes of extents the current state refers to
  std::uint64_t extent_bytes = 0;  // sealed bytes of all extents in segment objects
  std::uint64_t stored_bytes = 0;  // bytes of all segment objects
  std::uint64_t segment_count = 0;
  std::uint64_t dead_segments = 0;          // segment objects holding nothing live
  std::uint64_t dead_bytes = 0;             // their bytes
  std::uint64_t checkpoint_held_bytes = 0;  // of those, bytes kept only for checkpoints
  std::uint64_t index_bytes = 0;            // index snapshot objects
  std::uint64_t index_objects = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t pending_drops = 0;  // deleted files whose data is still being dropped
  // stored_bytes / live_bytes (1.0 for an empty volume).
  double amplification() const {
    return live_bytes == 0 ? 1.0
                           : static_cast<double>(stored_bytes) / static_cast<double>(live_bytes);
  }
};

// A named checkpoint: a frozen state of the volume (docs/format.md §8.3).
struct CheckpointInfo {
  std::string name;
  std::uint64_t created_unix_ms = 0;
  std::uint64_t covers_seq = 0;     // the journal position it freezes
  std::uint64_t segment_count = 0;  // segments it keeps (those live when it was taken)
};

}  // namespace zerofs::engine
