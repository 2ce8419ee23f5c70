// VolumeImpl (volume_impl.h): wiring the parts, reads, and the calls that span parts.
#include "volume_impl.h"

#include <algorithm>
#include <limits>

#include "checkpoint_record.h"
#include "journal_replayer.h"
#include "recovery.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

namespace zerofs::engine {
namespace {

constexpr std::uint64_t kExtentBytes = format::kMaxExtentBytes;
// One Read may return at most this much; callers split larger reads.
constexpr std::uint64_t kMaxReadBytes = 64ULL << 20;

}  // namespace

Result<std::unique_ptr<Volume>> Volume::Open(VolumeOptions options) {
  return VolumeImpl::Open(std::move(options));
}

Result<std::unique_ptr<Volume>> VolumeImpl::Open(VolumeOptions options) {
  if (!options.store) return Status::InvalidArgument("Volume::Open: no object store");
  if (options.max_inflight_segments == 0 ||
      options.max_inflight_segments > format::kMaxInflightSegments) {
    return Status::InvalidArgument("max_inflight_segments must be between 1 and " +
                                   std::to_string(format::kMaxInflightSegments));
  }
  if (!options.checkpoint.empty()) {
    ZEROFS_RETURN_IF_ERROR(ValidateCheckpointName(options.checkpoint));
    options.mode = OpenMode::kReadOnly;  // a checkpoint is frozen
  }
  std::unique_ptr<VolumeImpl> volume(new VolumeImpl(std::move(options)));
  Status s = volume->OpenInternal();
  if (!s.ok()) {
    (void)volume->Close();
    return s;
  }
  return std::unique_ptr<Volume>(std::move(volume));
}

VolumeImpl::VolumeImpl(VolumeOptions options)
    : ctx_(std::move(options)),
      snapshots_(ctx_),
      pipeline_(ctx_,
                WritePipeline::Hooks{[this] { return Snapshot(); }, [this] { collector_.Wake(); }}),
      collector_(ctx_, *this, pipeline_, snapshots_),
      checkpoints_(ctx_, pipeline_, snapshots_, collector_, [this] { return SnapshotLocked(); }) {}

VolumeImpl::~VolumeImpl() {
  Status s = Close();
  if (!s.ok()) ZEROFS_LOG(kWarn) << "closing volume: " << s;
}

Status VolumeImpl::OpenInternal() {
  ZEROFS_ASSIGN_OR_RETURN(RecoveryResult recovered, Recovery(ctx_).Run());
  // A checkpoint is nobody's writer: it reports epoch 0.
  writer_epoch_ = ctx_.options.checkpoint.empty() ? recovered.root.writer_epoch : 0;
  replayed_segments_ = recovered.replayed_segments;
  const std::uint64_t durable_seq = recovered.chain.durable_seq;
  snapshots_.Init(std::move(recovered.root), std::move(recovered.root_etag),
                  std::move(recovered.upload_state));
  pipeline_.Init(recovered.chain, recovered.next_inode, writer_epoch_, recovered.segments_written);
  if (!read_only()) {
    pipeline_.Start();
    collector_.Start();
  }
  ZEROFS_LOG(kInfo) << "opened volume " << ctx_.key.uuid.ToString() << " at "
                    << ctx_.store().Describe()
                    << (ctx_.options.checkpoint.empty() ? ""
                                                        : " checkpoint " + ctx_.options.checkpoint)
                    << (read_only() ? " read-only" : "") << ", epoch " << writer_epoch_
                    << ", durable through seq " << durable_seq << ", " << replayed_segments_
                    << " segments replayed";
  return Status::Ok();
}

Status VolumeImpl::Snapshot() {
  if (read_only()) return Status::Cancelled("the volume is open read-only");
  const std::unique_lock lock = snapshots_.Lock();
  return SnapshotLocked().status();
}

Result<index::SnapshotRef> VolumeImpl::SnapshotLocked() {
  ZEROFS_RETURN_IF_ERROR(pipeline_.failure());
  bool fenced = false;
  Result<index::SnapshotRef> ref =
      snapshots_.TakeLocked([this] { return pipeline_.next_seq(); }, &fenced);
  if (fenced) {
    pipeline_.Fail(ref.status());
    return pipeline_.failure();
  }
  return ref;
}

Result<std::uint64_t> VolumeImpl::SegmentsBehind(std::uint32_t limit) {
  if (!read_only()) return std::uint64_t{0};
  return SegmentsAfter(ctx_.store(), pipeline_.durable_seq(), limit);
}

Status VolumeImpl::Close() {
  std::lock_guard close_lock(close_mu_);
  if (closed_) return Status::Ok();
  // The collector commits and syncs: stop it while the pipeline still runs.
  collector_.Stop();
  const Status result = pipeline_.Close();
  closed_ = true;
  ctx_.cached_reader.reset();
  ctx_.disk_cache.reset();
  ctx_.db.reset();
  if (ctx_.owns_cache_dir) {
    std::error_code ec;
    std::filesystem::remove_all(ctx_.cache_dir, ec);
  }
  return result;
}

VolumeStats VolumeImpl::stats() const {
  VolumeStats s;
  pipeline_.FillStats(s);
  collector_.FillStats(s);
  s.snapshots_written = snapshots_.snapshots_written();
  s.writer_epoch = writer_epoch_;
  s.replayed_segments = replayed_segments_;
  if (ctx_.cached_reader != nullptr) {
    const cache::CachedReaderStats r = ctx_.cached_reader->Stats();
    s.cache_memory_hits = r.memory_hits;
    s.cache_disk_hits = r.disk_hits;
    s.cache_misses = r.fetched_frames;
    s.cache_gets = r.gets;
  }
  return s;
}

Result<std::optional<std::string>> VolumeImpl::Get(std::string_view key) {
  ZEROFS_ASSIGN_OR_RETURN(auto chained, pipeline_.ChainKey(key));
  if (chained.has_value()) return *chained;
  return ctx_.db->Get(key);
}

Status VolumeImpl::Scan(std::string_view prefix, std::string_view start_after,
                        const std::function<bool(std::string_view, std::string_view)>& visit) {
  // The chain's keys under the prefix, newest value winning, merged with the index's.
  ZEROFS_ASSIGN_OR_RETURN(const WritePipeline::Overlay overlay,
                          pipeline_.ChainKeys(prefix, start_after));
  auto pending = overlay.begin();
  bool stopped = false;
  auto emit_overlay_before = [&](std::string_view key) {
    while (!stopped && pending != overlay.end() && pending->first < key) {
      if (pending->second.has_value() && !visit(pending->first, *pending->second)) stopped = true;
      ++pending;
    }
  };
  Status s = ctx_.db->Scan(prefix, start_after, [&](std::string_view key, std::string_view value) {
    emit_overlay_before(key);
    if (stopped) return false;
    if (pending != overlay.end() && pending->first == key) {
      if (pending->second.has_value() && !visit(key, *pending->second)) stopped = true;
      ++pending;
      return !stopped;
    }
    if (!visit(key, value)) stopped = true;
    return !stopped;
  });
  ZEROFS_RETURN_IF_ERROR(s);
  while (!stopped && pending != overlay.end()) {
    if (pending->second.has_value() && !visit(pending->first, *pending->second)) stopped = true;
    ++pending;
  }
  return Status::Ok();
}

void VolumeImpl::PrefetchFrom(std::uint64_t inode, std::uint64_t first) {
  const std::uint32_t window = ctx_.cached_reader->options().readahead_extents;
  std::vector<segment::ExtentRef> refs;
  const std::string start_after = first == 0 ? std::string() : index::ExtentKey(inode, first - 1);
  (void)ctx_.db->Scan(index::ExtentPrefix(inode), start_after,
                      [&](std::string_view key, std::string_view value) {
                        auto parts = index::DecodeExtentKey(key);
                        auto loc = segment::DecodeExtentLocation(value);
                        if (!parts.ok() || !loc.ok() || parts->extent_index >= first + window) {
                          return false;
                        }
                        refs.push_back({inode, parts->extent_index, *loc});
                        return refs.size() < window;
                      });
  if (!refs.empty()) ctx_.cached_reader->Prefetch(refs);
}

Result<std::string> VolumeImpl::Read(std::uint64_t inode, std::uint64_t offset,
                                     std::uint64_t length) {
  if (length > kMaxReadBytes) {
    return Status::InvalidArgument("read of " + std::to_string(length) + " bytes exceeds " +
                                   std::to_string(kMaxReadBytes));
  }
  if (offset + length < offset) return Status::InvalidArgument("read range overflows");
  std::string out(length, '\0');
  if (length == 0) return out;
  const std::uint64_t first = offset / kExtentBytes;
  const std::uint64_t last = (offset + length - 1) / kExtentBytes;

  // Extents in the chain are in memory; the rest come from the index, fetched together so
  // that neighbouring frames share GETs.
  const std::vector<std::optional<ExtentData>> chained = pipeline_.ChainExtents(inode, first, last);
  std::vector<ExtentData> data(last - first + 1);
  for (std::size_t i = 0; i < chained.size(); ++i) {
    if (chained[i].has_value()) data[i] = *chained[i];
  }
  std::vector<segment::ExtentRef> refs;
  std::vector<std::uint64_t> ref_slot;
  for (std::uint64_t i = first; i <= last; ++i) {
    if (chained[i - first].has_value()) continue;
    ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> loc,
                            IndexLocation(*ctx_.db, {inode, i}));
    if (!loc.has_value()) continue;  // a hole
    refs.push_back({inode, i, *loc});
    ref_slot.push_back(i - first);
  }
  if (!refs.empty()) {
    ZEROFS_ASSIGN_OR_RETURN(auto fetched, ctx_.cached_reader->ReadMany(refs));
    for (std::size_t k = 0; k < fetched.size(); ++k) data[ref_slot[k]] = std::move(fetched[k]);
  }
  for (std::uint64_t i = first; i <= last; ++i) {
    const ExtentData& extent = data[i - first];
    if (!extent) continue;
    const std::uint64_t extent_start = i * kExtentBytes;
    const std::uint64_t from = std::max(offset, extent_start);
    const std::uint64_t to = std::min(offset + length, extent_start + extent->size());
    if (from < to) {
      std::copy_n(extent->data() + (from - extent_start), to - from, out.data() + (from - offset));
    }
  }

  bool sequential = false;
  {
    std::lock_guard lock(readahead_mu_);
    auto it = last_read_end_.find(inode);
    sequential = it != last_read_end_.end() && it->second == offset;
    if (last_read_end_.size() > 4096) last_read_end_.clear();
    last_read_end_[inode] = offset + length;
  }
  if (sequential) PrefetchFrom(inode, last + 1);
  return out;
}

void VolumeImpl::ReadAhead(std::uint64_t inode, std::uint64_t offset, std::uint64_t) {
  PrefetchFrom(inode, offset / kExtentBytes);
}

}  // namespace zerofs::engine
