// The flush pipeline: seal batches into segments in seq order, upload them in parallel,
// apply them to the index in order once durable, release the waiters (group commit).
#include <chrono>
#include <limits>

#include "volume_impl.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/segment/segment_writer.h"

namespace zerofs::engine {
namespace {

std::uint64_t NowMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// The value of `key` as of the end of `earlier` (newest last), else the index.
Result<std::optional<std::string>> LookupBefore(const std::vector<BatchPtr>& earlier,
                                                const index::IndexDb& db, const std::string& key) {
  for (auto b = earlier.rbegin(); b != earlier.rend(); ++b) {
    auto it = (*b)->kv.find(key);
    if (it != (*b)->kv.end()) return it->second;
  }
  return db.Get(key);
}

}  // namespace

void VolumeImpl::RequestFlushLocked() {
  if (!open_ || open_->empty()) return;
  flush_requested_ = true;
  cv_.notify_all();
}

// Group commit: the open batch is cut only when an upload slot is free, so syncs that
// arrive while every slot is busy share the next segment instead of queueing one each.
void VolumeImpl::CutOpenBatchLocked() {
  flush_requested_ = false;
  if (!open_ || open_->empty()) return;
  BatchPtr batch = std::move(open_);
  batch->cut_at = std::chrono::steady_clock::now();
  sealed_.push_back(batch);
  to_seal_.push_back(batch);
  open_ = std::make_shared<Batch>();
  open_->number = batch->number + 1;
  next_batch_number_ = open_->number;
  stats_.flushes++;
  cv_.notify_all();
}

void VolumeImpl::ObserveFlushLatencyLocked(std::chrono::steady_clock::time_point cut_at) {
  if (cut_at == std::chrono::steady_clock::time_point{}) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - cut_at).count();
  const auto& bounds = VolumeStats::kFlushLatencyBoundsS;
  std::size_t bucket = 0;
  while (bucket < bounds.size() && seconds > bounds[bucket]) bucket++;
  stats_.flush_latency_counts[bucket]++;
  stats_.flush_latency_count++;
  stats_.flush_latency_sum_s += seconds;
}

void VolumeImpl::FailLocked(const Status& status) {
  if (!failure_.ok()) return;
  failure_ = status;
  ZEROFS_LOG(kError) << "volume " << key_.uuid.ToString()
                     << " stops acknowledging writes: " << status;
  cv_.notify_all();
}

Status VolumeImpl::SealBatch(const BatchPtr& batch, const std::vector<BatchPtr>& earlier) {
  const std::uint64_t epoch = root_.writer_epoch;
  segment::SegmentWriterOptions writer_options;
  writer_options.compression = options_.compression;
  segment::SegmentWriter writer(key_.keys, key_.uuid, batch->seq, epoch, writer_options);

  index::JournalRecord record;
  record.ops = batch->ops;
  std::vector<index::IndexOp> derived;  // extent map and usage changes, for the chain's kv
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>>
      released;  // seq -> bytes, extents
  index::SegmentUsage fresh;
  std::vector<std::pair<segment::ExtentLocation, ExtentData>> written;

  for (const auto& [id, data] : batch->extents) {
    const std::string key = index::ExtentKey(id.inode, id.index);
    ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> old_value, LookupBefore(earlier, *db_, key));
    std::optional<segment::ExtentLocation> old_loc;
    if (old_value.has_value()) {
      ZEROFS_ASSIGN_OR_RETURN(old_loc, segment::DecodeExtentLocation(*old_value));
    }
    std::optional<segment::ExtentLocation> new_loc;
    if (data) {
      ZEROFS_ASSIGN_OR_RETURN(new_loc, writer.AddExtent(id.inode, id.index, *data));
    }
    if (new_loc.has_value()) {
      written.emplace_back(*new_loc, data);
      derived.push_back(index::IndexOp::Put(key, segment::EncodeExtentLocation(*new_loc)));
      fresh.live_bytes += new_loc->sealed_length;
      fresh.total_bytes += new_loc->sealed_length;
      fresh.live_extents++;
      fresh.total_extents++;
    } else if (old_loc.has_value()) {
      derived.push_back(index::IndexOp::Delete(key));
    }
    if (old_loc.has_value()) {
      auto& r = released[old_loc->seq];
      r.first += old_loc->sealed_length;
      r.second += 1;
    }
  }
  for (const auto& [seq, freed] : released) {
    const std::string key = index::SegmentUsageKey(seq);
    ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value, LookupBefore(earlier, *db_, key));
    index::SegmentUsage usage;
    if (value.has_value()) {
      ZEROFS_ASSIGN_OR_RETURN(usage, index::DecodeSegmentUsage(*value));
    }
    if (usage.live_bytes < freed.first || usage.live_extents < freed.second) {
      ZEROFS_LOG(kWarn) << "segment " << seq << " usage below zero; clamping";
    }
    usage.live_bytes -= std::min(usage.live_bytes, freed.first);
    usage.live_extents -= std::min(usage.live_extents, freed.second);
    derived.push_back(index::IndexOp::Put(key, index::EncodeSegmentUsage(usage)));
  }
  if (fresh.total_extents > 0) {
    derived.push_back(
        index::IndexOp::Put(index::SegmentUsageKey(batch->seq), index::EncodeSegmentUsage(fresh)));
  }
  derived.push_back(index::IndexOp::Put(index::MetaKey(format::kMetaNextSeq),
                                        index::EncodeU64Value(batch->seq + 1)));
  derived.push_back(
      index::IndexOp::Put(index::MetaKey(format::kMetaChainEpoch), index::EncodeU64Value(epoch)));
  record.ops.insert(record.ops.end(), derived.begin(), derived.end());
  ZEROFS_ASSIGN_OR_RETURN(std::string object, writer.Finish(index::EncodeJournalRecord(record)));

  std::lock_guard lock(mu_);
  for (const index::IndexOp& op : derived) {
    if (op.kind == index::IndexOp::Kind::kPut) {
      batch->kv[op.key] = op.value;
    } else {
      batch->kv[op.key] = std::nullopt;
    }
  }
  batch->record = std::move(record);
  batch->object = std::move(object);
  batch->written = std::move(written);
  batch->sealed = true;
  return Status::Ok();
}

void VolumeImpl::FlusherLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (closing_ && to_seal_.empty()) return;
    if (!failure_.ok()) {
      // Nothing more becomes durable; wake everyone and wait for Close.
      cv_.notify_all();
      cv_.wait(lock, [&] { return closing_; });
      return;
    }
    const std::uint64_t now = NowMs();
    const auto interval = static_cast<std::uint64_t>(options_.flush_interval.count());
    if (open_ && !open_->empty() && open_->first_change_ms != 0 &&
        now >= open_->first_change_ms + interval) {
      flush_requested_ = true;
    }
    const std::uint64_t busy = uploads_in_flight_ + to_upload_.size() + to_seal_.size();
    if (flush_requested_ && busy < options_.max_inflight_segments) CutOpenBatchLocked();
    // Never more than max_inflight segments beyond the chain's durable end: what bounds a
    // fenced writer's late segments (format::kFenceWindowSegments).
    const bool window_open = next_seq_ < durable_next_seq_ + options_.max_inflight_segments;
    if (!to_seal_.empty() && window_open) {
      BatchPtr batch = to_seal_.front();
      to_seal_.pop_front();
      batch->seq = next_seq_++;
      std::vector<BatchPtr> earlier;
      for (const BatchPtr& b : sealed_) {
        if (b == batch) break;
        earlier.push_back(b);
      }
      lock.unlock();
      Status s = SealBatch(batch, earlier);
      lock.lock();
      if (!s.ok()) {
        FailLocked(s.WithContext("sealing segment " + std::to_string(batch->seq)));
        continue;
      }
      to_upload_.push_back(batch);
      cv_.notify_all();
      continue;
    }
    const bool by_count = options_.snapshot_every_segments > 0 &&
                          segments_since_snapshot_ >= options_.snapshot_every_segments;
    const auto interval_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.snapshot_interval).count());
    const bool by_time =
        interval_ms > 0 && segments_since_snapshot_ > 0 && now >= last_snapshot_ms_ + interval_ms;
    if ((by_count || by_time) && !closing_) {
      segments_since_snapshot_ = 0;
      last_snapshot_ms_ = now;
      lock.unlock();
      Status s = Snapshot();
      if (!s.ok()) ZEROFS_LOG(kWarn) << "index snapshot failed (will retry later): " << s;
      lock.lock();
      continue;
    }
    std::uint64_t due = std::numeric_limits<std::uint64_t>::max();
    if (open_ && !open_->empty() && open_->first_change_ms != 0) {
      due = open_->first_change_ms + interval;
    }
    if (interval_ms > 0 && segments_since_snapshot_ > 0) {
      due = std::min(due, last_snapshot_ms_ + interval_ms);
    }
    if (due == std::numeric_limits<std::uint64_t>::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_for(lock, std::chrono::milliseconds(due > now ? due - now : 1));
    }
  }
}

void VolumeImpl::UploadLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] {
      return !to_upload_.empty() || (closing_ && to_seal_.empty()) || !failure_.ok();
    });
    if (to_upload_.empty() || !failure_.ok()) {
      if (closing_ || !failure_.ok()) return;
      continue;
    }
    BatchPtr batch = to_upload_.front();
    to_upload_.pop_front();
    uploads_in_flight_++;
    lock.unlock();

    const std::string name = format::SegmentObjectName(batch->seq);
    // Transient failures and lost answers are the retrying store's (upload_store_).
    Status status;
    auto put = upload_store_->Put(name, batch->object, objstore::PutOptions::IfNoneMatch());
    if (put.status().IsPreconditionFailed()) {
      // Someone else wrote this seq: a newer writer fenced us.
      auto meta = reader_->ReadMeta(batch->seq);
      std::string who = meta.ok() ? "epoch " + std::to_string(meta->footer.writer_epoch)
                                  : "an unreadable segment";
      status = Status::Cancelled("fenced: " + name + " was written by " + who +
                                 " while this writer has epoch " +
                                 std::to_string(root_.writer_epoch));
    } else if (!put.ok()) {
      status = put.status().WithContext("uploading " + name);
    }
    OnUploaded(batch, status);
    lock.lock();
  }
}

void VolumeImpl::OnUploaded(const BatchPtr& batch, const Status& status) {
  std::lock_guard lock(mu_);
  uploads_in_flight_--;
  if (!status.ok()) {
    FailLocked(status);
    return;
  }
  batch->durable = true;
  batch->object.clear();
  batch->object.shrink_to_fit();
  stats_.segments_written++;
  while (!sealed_.empty() && sealed_.front()->durable) {
    BatchPtr front = sealed_.front();
    Status s = db_->Apply(front->record, front->seq);
    if (!s.ok()) {
      FailLocked(s.WithContext("applying segment " + std::to_string(front->seq) + " to the index"));
      return;
    }
    for (const auto& [loc, data] : front->written) {
      extent_cache_->Insert(cache::FrameId{loc.seq, loc.offset}, data);
    }
    front->written.clear();
    ObserveFlushLatencyLocked(front->cut_at);
    durable_seq_ = front->seq;
    durable_next_seq_ = front->seq + 1;
    durable_batch_ = front->number;
    sealed_.pop_front();
    segments_since_snapshot_++;
  }
  cv_.notify_all();
}

Status VolumeImpl::Snapshot() {
  if (read_only()) return Status::Cancelled("the volume is open read-only");
  std::lock_guard snapshot_lock(snapshot_mu_);
  return SnapshotLocked().status();
}

Result<index::SnapshotRef> VolumeImpl::SnapshotLocked() {
  {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
  }
  ZEROFS_ASSIGN_OR_RETURN(
      index::SnapshotRef ref,
      index::UploadSnapshot(*db_, *options_.store, *key_.keys, key_.uuid, snapshot_state_));
  index::RootRecord next = root_;
  const std::optional<index::SnapshotRef> previous = root_.snapshot;
  next.snapshot = ref;
  next.journal_start_seq = ref.covers_seq + 1;
  {
    std::lock_guard lock(mu_);
    next.next_seq = next_seq_;
  }
  auto written = index::WriteRoot(*options_.store, *key_.keys, key_.uuid, next,
                                  objstore::PutOptions::IfMatch(root_etag_));
  if (written.status().IsPreconditionFailed()) {
    std::lock_guard lock(mu_);
    FailLocked(Status::Cancelled("fenced: root was replaced by another writer"));
    return failure_;
  }
  ZEROFS_RETURN_IF_ERROR(written.status());
  root_ = next;
  root_etag_ = *written;
  {
    std::lock_guard lock(mu_);
    stats_.snapshots_written++;
  }
  ZEROFS_LOG(kInfo) << "index snapshot through seq " << ref.covers_seq << " at " << ref.manifest;
  if (previous.has_value() && previous->manifest != ref.manifest) {
    // Keep the new snapshot, the one before it (readers may still be loading it) and every
    // checkpoint's; a checkpoint that cannot be read keeps everything for now.
    std::vector<index::SnapshotRef> keep = {ref, *previous};
    auto checkpoints = ReadAllCheckpoints(*options_.store, *key_.keys, key_.uuid);
    if (!checkpoints.ok()) {
      ZEROFS_LOG(kWarn) << "not deleting old index objects: reading checkpoints: "
                        << checkpoints.status();
    } else {
      for (const CheckpointRecord& c : *checkpoints) keep.push_back(*c.root.snapshot);
      auto deleted = index::DeleteUnreferencedIndexObjects(*options_.store, *key_.keys, key_.uuid,
                                                           keep, &snapshot_state_);
      if (!deleted.ok()) ZEROFS_LOG(kWarn) << "deleting old index objects: " << deleted.status();
    }
  }
  return ref;
}

Status VolumeImpl::Close() {
  // The collector commits and syncs: stop it while the flush pipeline still runs.
  gc_stop_ = true;
  {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }
  if (gc_thread_.joinable()) gc_thread_.join();
  std::unique_lock lock(mu_);
  if (closed_) return Status::Ok();
  if (!read_only() && failure_.ok() && open_) {
    RequestFlushLocked();
    cv_.wait(lock,
             [&] { return (sealed_.empty() && (!open_ || open_->empty())) || !failure_.ok(); });
  }
  closing_ = true;
  cv_.notify_all();
  lock.unlock();
  if (flusher_.joinable()) flusher_.join();
  for (std::thread& t : uploaders_) {
    if (t.joinable()) t.join();
  }
  lock.lock();
  closed_ = true;
  const Status result = failure_;
  cv_.notify_all();
  lock.unlock();
  cached_reader_.reset();
  disk_cache_.reset();
  db_.reset();
  if (owns_cache_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(cache_dir_, ec);
  }
  return result;
}

}  // namespace zerofs::engine
