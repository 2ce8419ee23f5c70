// Recovery: opening a volume — the key, the root (a writer bumps its epoch by
// compare-and-swap), the caches, the local index (reused, or restored from the root's
// snapshot), replay of the journal after it, and the writer's fence segment
// (docs/architecture.md "Recovery and the replay seam", docs/format.md "Fencing").
//
// Replay itself is JournalReplayer's, the piece a read replica also runs in a loop. A
// checkpoint opens its frozen snapshot in a directory of its own, without replay.
//
// Ownership: fills the VolumeContext (key, cache directory, reader, caches, index) and
// returns what the other parts start from: the root for the SnapshotKeeper, the chain
// position and next inode for the WritePipeline.
//
// Thread-safety: runs once, on the opening thread, before any part has started a thread.
#pragma once

#include <cstdint>
#include <string>

#include "journal_replayer.h"
#include "volume_context.h"
#include "write_pipeline.h"
#include "zerofs/index/root.h"
#include "zerofs/index/snapshot.h"

namespace zerofs::engine {

struct RecoveryResult {
  index::RootRecord root;
  std::string root_etag;
  index::SnapshotUploadState upload_state;
  ChainPosition chain;
  std::uint64_t next_inode = 2;
  std::uint64_t replayed_segments = 0;
  std::uint64_t segments_written = 0;  // the fence
};

class Recovery {
 public:
  explicit Recovery(VolumeContext& ctx) : ctx_(ctx) {}

  Result<RecoveryResult> Run();

 private:
  Status OpenCacheDir();
  Status OpenRoot();
  Status OpenReaders();
  Status PrepareLocalIndex();
  // Opens options.checkpoint: its index snapshot, in a directory of its own, no replay.
  Status OpenCheckpoint();
  // Replays segments from the index's expected next seq until the chain ends.
  Status Replay();
  Status WriteFence();

  VolumeContext& ctx_;
  RecoveryResult out_;
};

}  // namespace zerofs::engine
