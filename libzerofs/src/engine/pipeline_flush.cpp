// The write pipeline's flush path (write_pipeline.h): cutting and sealing batches into
// segments in seq order, uploading them in parallel, applying them to the index in order
// once durable, releasing the waiters (group commit), and closing.
#include <chrono>
#include <limits>

#include "write_pipeline.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/segment/segment_writer.h"

namespace zerofs::engine {
namespace {

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

WritePipeline::WritePipeline(VolumeContext& ctx, Hooks hooks)
    : ctx_(ctx), hooks_(std::move(hooks)) {}

WritePipeline::~WritePipeline() {
  // Close joins the threads; a pipeline that was never started has none.
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    cv_.notify_all();
  }
  if (flusher_.joinable()) flusher_.join();
  for (std::thread& t : uploaders_) {
    if (t.joinable()) t.join();
  }
}

void WritePipeline::Init(const ChainPosition& position, std::uint64_t next_inode,
                         std::uint64_t writer_epoch, std::uint64_t segments_written) {
  std::lock_guard lock(mu_);
  writer_epoch_ = writer_epoch;
  chain_ = position;
  next_inode_ = next_inode;
  stats_.segments_written += segments_written;
  open_ = std::make_shared<Batch>();
  open_->number = next_batch_number_;
  durable_batch_ = next_batch_number_ - 1;
  last_snapshot_ms_ = SteadyNowMs();
}

void WritePipeline::Start() {
  flusher_ = std::thread([this] { FlusherLoop(); });
  for (std::uint32_t i = 0; i < ctx_.options.max_inflight_segments; ++i) {
    uploaders_.emplace_back([this] { UploadLoop(); });
  }
}

Status WritePipeline::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void WritePipeline::Fail(const Status& status) {
  std::lock_guard lock(mu_);
  FailLocked(status);
}

std::uint64_t WritePipeline::durable_seq() const {
  std::lock_guard lock(mu_);
  return chain_.durable_seq;
}

std::uint64_t WritePipeline::next_seq() const {
  std::lock_guard lock(mu_);
  return chain_.next_seq;
}

Status WritePipeline::WithIndexSteady(
    const std::function<Status(std::uint64_t durable_seq)>& fn) const {
  std::lock_guard lock(mu_);
  return fn(chain_.durable_seq);
}

void WritePipeline::RequestFlushLocked() {
  if (!open_ || open_->empty()) return;
  flush_requested_ = true;
  cv_.notify_all();
}

// Group commit: the open batch is cut only when an upload slot is free, so syncs that
// arrive while every slot is busy share the next segment instead of queueing one each.
void WritePipeline::CutOpenBatchLocked() {
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

void WritePipeline::ObserveFlushLatencyLocked(std::chrono::steady_clock::time_point cut_at) {
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

void WritePipeline::FailLocked(const Status& status) {
  if (!failure_.ok()) return;
  failure_ = status;
  ZEROFS_LOG(kError) << "volume " << ctx_.key.uuid.ToString()
                     << " stops acknowledging writes: " << status;
  cv_.notify_all();
}

Status WritePipeline::SealBatch(const BatchPtr& batch, const std::vector<BatchPtr>& earlier) {
  const std::uint64_t epoch = writer_epoch_;
  segment::SegmentWriterOptions writer_options;
  writer_options.compression = ctx_.options.compression;
  segment::SegmentWriter writer(ctx_.key.keys, ctx_.key.uuid, batch->seq, epoch, writer_options);

  index::JournalRecord record;
  record.ops = batch->ops;
  std::vector<index::IndexOp> derived;  // extent map and usage changes, for the chain's kv
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>>
      released;  // seq -> bytes, extents
  index::SegmentUsage fresh;
  std::vector<std::pair<segment::ExtentLocation, ExtentData>> written;

  for (const auto& [id, data] : batch->extents) {
    const std::string key = index::ExtentKey(id.inode, id.index);
    ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> old_value,
                            LookupBefore(earlier, *ctx_.db, key));
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
    ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value, LookupBefore(earlier, *ctx_.db, key));
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

void WritePipeline::FlusherLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (closing_ && to_seal_.empty()) return;
    if (!failure_.ok()) {
      // Nothing more becomes durable; wake everyone and wait for Close.
      cv_.notify_all();
      cv_.wait(lock, [&] { return closing_; });
      return;
    }
    const std::uint64_t now = SteadyNowMs();
    const auto interval = static_cast<std::uint64_t>(ctx_.options.flush_interval.count());
    if (open_ && !open_->empty() && open_->first_change_ms != 0 &&
        now >= open_->first_change_ms + interval) {
      flush_requested_ = true;
    }
    const std::uint64_t busy = uploads_in_flight_ + to_upload_.size() + to_seal_.size();
    if (flush_requested_ && busy < ctx_.options.max_inflight_segments) CutOpenBatchLocked();
    // Never more than max_inflight segments beyond the chain's durable end: what bounds a
    // fenced writer's late segments (format::kFenceWindowSegments).
    const bool window_open =
        chain_.next_seq < chain_.durable_next_seq + ctx_.options.max_inflight_segments;
    if (!to_seal_.empty() && window_open) {
      BatchPtr batch = to_seal_.front();
      to_seal_.pop_front();
      batch->seq = chain_.next_seq++;
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
    const bool by_count = ctx_.options.snapshot_every_segments > 0 &&
                          segments_since_snapshot_ >= ctx_.options.snapshot_every_segments;
    const auto interval_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.options.snapshot_interval)
            .count());
    const bool by_time =
        interval_ms > 0 && segments_since_snapshot_ > 0 && now >= last_snapshot_ms_ + interval_ms;
    if ((by_count || by_time) && !closing_) {
      segments_since_snapshot_ = 0;
      last_snapshot_ms_ = now;
      lock.unlock();
      Status s = hooks_.snapshot ? hooks_.snapshot() : Status::Ok();
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

void WritePipeline::UploadLoop() {
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
    // Transient failures and lost answers are the retrying store's (VolumeContext).
    Status status;
    auto put = ctx_.upload_store->Put(name, batch->object, objstore::PutOptions::IfNoneMatch());
    if (put.status().IsPreconditionFailed()) {
      // Someone else wrote this seq: a newer writer fenced us.
      auto meta = ctx_.reader->ReadMeta(batch->seq);
      std::string who = meta.ok() ? "epoch " + std::to_string(meta->footer.writer_epoch)
                                  : "an unreadable segment";
      status = Status::Cancelled("fenced: " + name + " was written by " + who +
                                 " while this writer has epoch " + std::to_string(writer_epoch_));
    } else if (!put.ok()) {
      status = put.status().WithContext("uploading " + name);
    }
    OnUploaded(batch, status);
    lock.lock();
  }
}

void WritePipeline::OnUploaded(const BatchPtr& batch, const Status& status) {
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
    Status s = ctx_.db->Apply(front->record, front->seq);
    if (!s.ok()) {
      FailLocked(s.WithContext("applying segment " + std::to_string(front->seq) + " to the index"));
      return;
    }
    for (const auto& [loc, data] : front->written) {
      ctx_.extent_cache->Insert(cache::FrameId{loc.seq, loc.offset}, data);
    }
    front->written.clear();
    ObserveFlushLatencyLocked(front->cut_at);
    chain_.durable_seq = front->seq;
    chain_.durable_next_seq = front->seq + 1;
    durable_batch_ = front->number;
    sealed_.pop_front();
    segments_since_snapshot_++;
  }
  cv_.notify_all();
}

Status WritePipeline::Sync(BatchNumber batch) {
  std::unique_lock lock(mu_);
  if (closed_) return Status::Cancelled("volume is closed");
  BatchNumber target = batch;
  if (open_ && batch >= open_->number) {
    if (open_->empty()) {
      target = open_->number - 1;
    } else {
      RequestFlushLocked();
    }
  }
  cv_.wait(lock, [&] { return durable_batch_ >= target || !failure_.ok() || closed_; });
  if (durable_batch_ >= target) return Status::Ok();
  if (!failure_.ok()) return failure_;
  return Status::Cancelled("volume closed before the write became durable");
}

Status WritePipeline::SyncAll() {
  BatchNumber pos;
  {
    std::lock_guard lock(mu_);
    if (!open_) return Status::Cancelled("volume is closed");
    pos = open_->number;
  }
  return Sync(pos);
}

std::uint64_t WritePipeline::BufferedBytesLocked() const {
  std::uint64_t bytes = open_ ? open_->data_bytes : 0;
  for (const BatchPtr& b : sealed_) bytes += b->data_bytes;
  return bytes;
}

void WritePipeline::FillStats(VolumeStats& out) const {
  std::lock_guard lock(mu_);
  out.segments_written = stats_.segments_written;
  out.flushes = stats_.flushes;
  out.flush_latency_counts = stats_.flush_latency_counts;
  out.flush_latency_count = stats_.flush_latency_count;
  out.flush_latency_sum_s = stats_.flush_latency_sum_s;
  out.durable_seq = chain_.durable_seq;
  out.committed_seq = open_ ? open_->number : 0;
  out.buffered_bytes = BufferedBytesLocked();
  out.fenced = !failure_.ok();
}

Status WritePipeline::Close() {
  std::unique_lock lock(mu_);
  if (closed_) return Status::Ok();
  if (!ctx_.read_only() && failure_.ok() && open_) {
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
  return result;
}

}  // namespace zerofs::engine
