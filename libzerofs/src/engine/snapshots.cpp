#include "snapshots.h"

#include <vector>

#include "checkpoint_record.h"
#include "zerofs/common/log.h"

namespace zerofs::engine {

void SnapshotKeeper::Init(index::RootRecord root, std::string etag,
                          index::SnapshotUploadState state) {
  std::lock_guard lock(mu_);
  root_ = std::move(root);
  root_etag_ = std::move(etag);
  upload_state_ = std::move(state);
}

std::uint64_t SnapshotKeeper::covers_seq() const {
  std::lock_guard lock(mu_);
  return root_.snapshot.has_value() ? root_.snapshot->covers_seq : 0;
}

std::uint64_t SnapshotKeeper::snapshots_written() const {
  std::lock_guard lock(mu_);
  return snapshots_written_;
}

Result<index::SnapshotRef> SnapshotKeeper::TakeLocked(
    const std::function<std::uint64_t()>& next_seq, bool* fenced) {
  *fenced = false;
  objstore::ObjectStore& store = ctx_.store();
  const crypto::VolumeKey& key = ctx_.key;
  ZEROFS_ASSIGN_OR_RETURN(index::SnapshotRef ref, index::UploadSnapshot(*ctx_.db, store, *key.keys,
                                                                        key.uuid, upload_state_));
  index::RootRecord next = root_;
  const std::optional<index::SnapshotRef> previous = root_.snapshot;
  next.snapshot = ref;
  next.journal_start_seq = ref.covers_seq + 1;
  next.next_seq = next_seq();
  auto written =
      index::WriteRoot(store, *key.keys, key.uuid, next, objstore::PutOptions::IfMatch(root_etag_));
  if (written.status().IsPreconditionFailed()) {
    *fenced = true;
    return Status::Cancelled("fenced: root was replaced by another writer");
  }
  ZEROFS_RETURN_IF_ERROR(written.status());
  root_ = next;
  root_etag_ = *written;
  snapshots_written_++;
  ZEROFS_LOG(kInfo) << "index snapshot through seq " << ref.covers_seq << " at " << ref.manifest;
  if (previous.has_value() && previous->manifest != ref.manifest) {
    // Keep the new snapshot, the one before it (readers may still be loading it) and every
    // checkpoint's; a checkpoint that cannot be read keeps everything for now.
    std::vector<index::SnapshotRef> keep = {ref, *previous};
    auto checkpoints = ReadAllCheckpoints(store, *key.keys, key.uuid);
    if (!checkpoints.ok()) {
      ZEROFS_LOG(kWarn) << "not deleting old index objects: reading checkpoints: "
                        << checkpoints.status();
    } else {
      for (const CheckpointRecord& c : *checkpoints) keep.push_back(*c.root.snapshot);
      auto deleted =
          index::DeleteUnreferencedIndexObjects(store, *key.keys, key.uuid, keep, &upload_state_);
      if (!deleted.ok()) ZEROFS_LOG(kWarn) << "deleting old index objects: " << deleted.status();
    }
  }
  return ref;
}

}  // namespace zerofs::engine
