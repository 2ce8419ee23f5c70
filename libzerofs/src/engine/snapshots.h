// SnapshotKeeper: the volume's root record and the index snapshots it points at
// (docs/format.md "root", docs/architecture.md "The engine's parts").
//
// Taking a snapshot uploads the index's new SST files and manifest, then replaces `root` by
// compare-and-swap (If-Match on the etag this writer last saw), then deletes index objects
// that neither the new root, the one before it nor any checkpoint needs. A CAS that fails
// means another writer took the volume: Take returns kCancelled "fenced" and the caller
// stops the volume.
//
// Ownership: holds the root and the snapshot upload state; reads the context's index and
// store. Recovery hands it the root it read or wrote (Init) before any thread starts.
//
// Thread-safety: `mu_` serializes snapshots and guards the root. Checkpoint creation takes
// it across a snapshot and the read of the root it produced (Lock + *Locked). Lock order:
// the collector's run lock, then mu_, then the pipeline's lock (next_seq), never reversed.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "volume_context.h"
#include "zerofs/index/root.h"
#include "zerofs/index/snapshot.h"

namespace zerofs::engine {

class SnapshotKeeper {
 public:
  explicit SnapshotKeeper(VolumeContext& ctx) : ctx_(ctx) {}

  // At open: the root as read or written, its etag, and the upload state a restore left.
  void Init(index::RootRecord root, std::string etag, index::SnapshotUploadState state);

  std::unique_lock<std::mutex> Lock() { return std::unique_lock(mu_); }
  // Uploads a snapshot and points root at it; `next_seq` says where the writer's chain
  // continues (asked after the upload). `*fenced` is set when root was replaced by another
  // writer (the result is then kCancelled "fenced"). Requires Lock().
  Result<index::SnapshotRef> TakeLocked(const std::function<std::uint64_t()>& next_seq,
                                        bool* fenced);
  // The root; requires Lock().
  const index::RootRecord& RootLocked() const { return root_; }

  // The seq the root's snapshot covers (0: none).
  std::uint64_t covers_seq() const;
  std::uint64_t snapshots_written() const;

 private:
  VolumeContext& ctx_;
  mutable std::mutex mu_;
  index::RootRecord root_;                   // GUARDED_BY(mu_)
  std::string root_etag_;                    // GUARDED_BY(mu_)
  index::SnapshotUploadState upload_state_;  // GUARDED_BY(mu_)
  std::uint64_t snapshots_written_ = 0;      // GUARDED_BY(mu_)
};

}  // namespace zerofs::engine
