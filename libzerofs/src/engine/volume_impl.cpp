// The Volume's reads, commits and durability waits; the flush pipeline is in
// volume_flush.cpp and opening in volume_open.cpp.
#include "volume_impl.h"

#include <algorithm>
#include <limits>

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
// What one batch (one segment) may hold, well inside the format's limits so that the
// sealing's own ops and the chain ops always fit.
constexpr std::uint64_t kMaxBatchExtents = format::kMaxSegmentExtents - 1024;
constexpr std::uint64_t kMaxBatchJournalBytes = format::kMaxJournalBytes / 2;
// Transaction::DropData releases a file of at most this many stored extents (32 MiB) in the
// transaction itself; larger ones are left to the collector.
constexpr std::size_t kInlineDropExtents = 1024;

const std::string& Zeros() {
  static const std::string zeros(kExtentBytes, '\0');
  return zeros;
}

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '\0'; });
}

// The extents a data op touches only partly, i.e. that need their old content.
void PartialExtents(const TxnOp& op, std::vector<ExtentId>* out) {
  std::uint64_t begin = op.offset;
  std::uint64_t end = op.offset + op.length;
  if (op.kind == TxnOp::Kind::kTruncate) {
    if (op.offset >= op.length) return;  // growing: nothing to zero
    begin = op.offset;
    end = op.length;
  }
  if (begin >= end) return;
  if (begin % kExtentBytes != 0) out->push_back({op.inode, begin / kExtentBytes});
  if (end % kExtentBytes != 0) out->push_back({op.inode, (end - 1) / kExtentBytes});
}

}  // namespace

VolumeImpl::VolumeImpl(VolumeOptions options) : options_(std::move(options)) {}

VolumeImpl::~VolumeImpl() {
  Status s = Close();
  if (!s.ok()) ZEROFS_LOG(kWarn) << "closing volume: " << s;
}

std::optional<std::optional<std::string>> VolumeImpl::ChainKeyLocked(std::string_view key) const {
  if (open_) {
    auto it = open_->kv.find(std::string(key));
    if (it != open_->kv.end()) return it->second;
  }
  for (auto b = sealed_.rbegin(); b != sealed_.rend(); ++b) {
    auto it = (*b)->kv.find(std::string(key));
    if (it != (*b)->kv.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<ExtentData> VolumeImpl::ChainExtentLocked(const ExtentId& id) const {
  if (open_) {
    auto it = open_->extents.find(id);
    if (it != open_->extents.end()) return it->second;
  }
  for (auto b = sealed_.rbegin(); b != sealed_.rend(); ++b) {
    auto it = (*b)->extents.find(id);
    if (it != (*b)->extents.end()) return it->second;
  }
  return std::nullopt;
}

Result<std::optional<std::string>> VolumeImpl::Get(std::string_view key) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return Status::Cancelled("volume is closed");
    if (auto v = ChainKeyLocked(key)) return *v;
  }
  return db_->Get(key);
}

Status VolumeImpl::Scan(std::string_view prefix, std::string_view start_after,
                        const std::function<bool(std::string_view, std::string_view)>& visit) {
  // The chain's keys under the prefix, newest value winning, merged with the index's.
  std::map<std::string, std::optional<std::string>, std::less<>> overlay;
  {
    std::lock_guard lock(mu_);
    if (closed_) return Status::Cancelled("volume is closed");
    auto take = [&](const Batch& b) {
      for (auto it = b.kv.lower_bound(std::string(prefix)); it != b.kv.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        if (!start_after.empty() && it->first <= start_after) continue;
        overlay[it->first] = it->second;
      }
    };
    for (const BatchPtr& b : sealed_) take(*b);
    if (open_) take(*open_);
  }
  auto pending = overlay.begin();
  bool stopped = false;
  auto emit_overlay_before = [&](std::string_view key) {
    while (!stopped && pending != overlay.end() && pending->first < key) {
      if (pending->second.has_value() && !visit(pending->first, *pending->second)) stopped = true;
      ++pending;
    }
  };
  Status s = db_->Scan(prefix, start_after, [&](std::string_view key, std::string_view value) {
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

Result<std::optional<segment::ExtentLocation>> VolumeImpl::IndexLocation(const ExtentId& id) const {
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> v,
                          db_->Get(index::ExtentKey(id.inode, id.index)));
  if (!v.has_value()) return std::optional<segment::ExtentLocation>();
  ZEROFS_ASSIGN_OR_RETURN(segment::ExtentLocation loc, segment::DecodeExtentLocation(*v));
  return std::optional<segment::ExtentLocation>(loc);
}

Result<ExtentData> VolumeImpl::ReadCommitted(const ExtentId& id,
                                             const segment::ExtentLocation& loc) {
  return cached_reader_->Read(segment::ExtentRef{id.inode, id.index, loc});
}

void VolumeImpl::PrefetchFrom(std::uint64_t inode, std::uint64_t first) {
  const std::uint32_t window = cached_reader_->options().readahead_extents;
  std::vector<segment::ExtentRef> refs;
  const std::string start_after = first == 0 ? std::string() : index::ExtentKey(inode, first - 1);
  (void)db_->Scan(index::ExtentPrefix(inode), start_after,
                  [&](std::string_view key, std::string_view value) {
                    auto parts = index::DecodeExtentKey(key);
                    auto loc = segment::DecodeExtentLocation(value);
                    if (!parts.ok() || !loc.ok() || parts->extent_index >= first + window) {
                      return false;
                    }
                    refs.push_back({inode, parts->extent_index, *loc});
                    return refs.size() < window;
                  });
  if (!refs.empty()) cached_reader_->Prefetch(refs);
}

Result<ExtentData> VolumeImpl::ReadExtent(const ExtentId& id) {
  {
    std::lock_guard lock(mu_);
    if (auto chained = ChainExtentLocked(id)) return *chained;
  }
  ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> loc, IndexLocation(id));
  if (!loc.has_value()) return ExtentData();
  return ReadCommitted(id, *loc);
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
  std::vector<ExtentData> data(last - first + 1);
  std::vector<bool> known(last - first + 1, false);
  {
    std::lock_guard lock(mu_);
    for (std::uint64_t i = first; i <= last; ++i) {
      if (auto chained = ChainExtentLocked({inode, i})) {
        data[i - first] = *chained;
        known[i - first] = true;
      }
    }
  }
  std::vector<segment::ExtentRef> refs;
  std::vector<std::uint64_t> ref_slot;
  for (std::uint64_t i = first; i <= last; ++i) {
    if (known[i - first]) continue;
    ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> loc, IndexLocation({inode, i}));
    if (!loc.has_value()) continue;  // a hole
    refs.push_back({inode, i, *loc});
    ref_slot.push_back(i - first);
  }
  if (!refs.empty()) {
    ZEROFS_ASSIGN_OR_RETURN(auto fetched, cached_reader_->ReadMany(refs));
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

void VolumeImpl::VisitPendingExtentsLocked(
    std::uint64_t inode, std::uint64_t first, std::uint64_t last,
    const std::function<void(std::uint64_t index, const ExtentData& data)>& visit) const {
  auto walk = [&](const Batch& b) {
    for (auto it = b.extents.lower_bound({inode, first});
         it != b.extents.end() && it->first.inode == inode && it->first.index <= last; ++it) {
      visit(it->first.index, it->second);
    }
  };
  for (const BatchPtr& b : sealed_) walk(*b);
  if (open_) walk(*open_);
}

Result<std::vector<std::uint64_t>> VolumeImpl::ExistingExtentsLocked(std::uint64_t inode,
                                                                     std::uint64_t first,
                                                                     std::uint64_t last) {
  std::vector<std::uint64_t> found;
  if (first > last) return found;
  const std::string start_after = first == 0 ? std::string() : index::ExtentKey(inode, first - 1);
  Status s = db_->Scan(index::ExtentPrefix(inode), start_after,
                       [&](std::string_view key, std::string_view) {
                         auto parts = index::DecodeExtentKey(key);
                         if (!parts.ok() || parts->extent_index > last) return false;
                         found.push_back(parts->extent_index);
                         return true;
                       });
  ZEROFS_RETURN_IF_ERROR(s);
  VisitPendingExtentsLocked(
      inode, first, last, [&](std::uint64_t index, const ExtentData&) { found.push_back(index); });
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

Result<std::optional<std::vector<std::uint64_t>>> VolumeImpl::InlineDropExtentsLocked(
    std::uint64_t inode) {
  using Found = std::optional<std::vector<std::uint64_t>>;
  std::vector<std::uint64_t> found;
  bool too_many = false;
  ZEROFS_RETURN_IF_ERROR(
      db_->Scan(index::ExtentPrefix(inode), {}, [&](std::string_view key, std::string_view) {
        auto parts = index::DecodeExtentKey(key);
        if (parts.ok()) found.push_back(parts->extent_index);
        too_many = found.size() > kInlineDropExtents;
        return !too_many;
      }));
  if (too_many) return Found();
  VisitPendingExtentsLocked(
      inode, 0, std::numeric_limits<std::uint64_t>::max(),
      [&](std::uint64_t index, const ExtentData&) { found.push_back(index); });
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  if (found.size() > kInlineDropExtents) return Found();
  return Found(std::move(found));
}

Status VolumeImpl::PatchExtentLocked(const ExtentId& id, std::uint64_t at, std::string_view bytes,
                                     const std::map<ExtentId, Base>& bases, bool* need_retry) {
  ExtentData base;
  if (auto chained = ChainExtentLocked(id)) {
    base = *chained;
  } else {
    auto it = bases.find(id);
    if (it == bases.end()) {
      *need_retry = true;
      return Status::Ok();
    }
    base = it->second.data;
  }
  const bool zeros = AllZero(bytes);
  if (!base && zeros) return Status::Ok();  // zeros over a hole: nothing changes
  std::string merged = base ? *base : std::string();
  if (merged.size() < at + bytes.size()) {
    if (zeros) {
      // Zeroing past the stored data changes nothing there.
      if (at >= merged.size()) return Status::Ok();
      bytes = bytes.substr(0, merged.size() - at);
    } else {
      merged.resize(at + bytes.size(), '\0');
    }
  }
  std::copy(bytes.begin(), bytes.end(), merged.begin() + static_cast<std::ptrdiff_t>(at));
  open_->SetExtent(
      id, AllZero(merged) ? ExtentData() : std::make_shared<const std::string>(std::move(merged)));
  return Status::Ok();
}

Status VolumeImpl::ZeroRangeLocked(std::uint64_t inode, std::uint64_t offset, std::uint64_t length,
                                   const std::map<ExtentId, Base>& bases, bool* need_retry) {
  if (length == 0) return Status::Ok();
  const std::uint64_t end = offset + length;
  const std::uint64_t first_full = (offset + kExtentBytes - 1) / kExtentBytes;
  const std::uint64_t end_full = end / kExtentBytes;  // exclusive
  if (first_full < end_full) {
    ZEROFS_ASSIGN_OR_RETURN(std::vector<std::uint64_t> existing,
                            ExistingExtentsLocked(inode, first_full, end_full - 1));
    for (std::uint64_t idx : existing) open_->SetExtent({inode, idx}, ExtentData());
  }
  // The partial extents at either edge keep their bytes outside the range.
  const std::uint64_t first_idx = offset / kExtentBytes;
  const std::uint64_t last_idx = (end - 1) / kExtentBytes;
  const std::string_view zeros = Zeros();
  if (offset % kExtentBytes != 0) {
    const std::uint64_t at = offset % kExtentBytes;
    const std::uint64_t n = std::min(kExtentBytes - at, length);
    ZEROFS_RETURN_IF_ERROR(
        PatchExtentLocked({inode, first_idx}, at, zeros.substr(0, n), bases, need_retry));
  }
  if (end % kExtentBytes != 0 && (last_idx != first_idx || offset % kExtentBytes == 0)) {
    ZEROFS_RETURN_IF_ERROR(PatchExtentLocked(
        {inode, last_idx}, 0, zeros.substr(0, end % kExtentBytes), bases, need_retry));
  }
  return Status::Ok();
}

Status VolumeImpl::ApplyTxnLocked(const Transaction& txn, const std::map<ExtentId, Base>& bases,
                                  bool* need_retry) {
  // Validate first, so that a retry never leaves half a transaction behind: every extent
  // that needs its old content is either in the chain or was fetched from the index at the
  // location the index still has.
  for (const TxnOp& op : txn.ops()) {
    std::vector<ExtentId> partial;
    if (op.kind == TxnOp::Kind::kWrite || op.kind == TxnOp::Kind::kZeroRange ||
        op.kind == TxnOp::Kind::kTruncate) {
      PartialExtents(op, &partial);
    }
    for (const ExtentId& id : partial) {
      if (ChainExtentLocked(id).has_value()) continue;
      auto it = bases.find(id);
      if (it == bases.end()) {
        *need_retry = true;
        return Status::Ok();
      }
      ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> now, IndexLocation(id));
      if (now != it->second.location) {
        *need_retry = true;
        return Status::Ok();
      }
    }
  }
  for (const TxnOp& op : txn.ops()) {
    switch (op.kind) {
      case TxnOp::Kind::kPut: open_->Put(op.key, op.value); break;
      case TxnOp::Kind::kDelete: open_->Delete(op.key); break;
      case TxnOp::Kind::kWrite: {
        std::uint64_t pos = op.offset;
        std::string_view data = op.value;
        while (!data.empty()) {
          const ExtentId id{op.inode, pos / kExtentBytes};
          const std::uint64_t at = pos % kExtentBytes;
          const std::uint64_t n = std::min<std::uint64_t>(kExtentBytes - at, data.size());
          const std::string_view piece = data.substr(0, n);
          if (at == 0 && n == kExtentBytes) {
            open_->SetExtent(
                id, AllZero(piece) ? ExtentData() : std::make_shared<const std::string>(piece));
          } else {
            ZEROFS_RETURN_IF_ERROR(PatchExtentLocked(id, at, piece, bases, need_retry));
          }
          data.remove_prefix(n);
          pos += n;
        }
        break;
      }
      case TxnOp::Kind::kZeroRange:
        ZEROFS_RETURN_IF_ERROR(ZeroRangeLocked(op.inode, op.offset, op.length, bases, need_retry));
        break;
      case TxnOp::Kind::kTruncate:
        if (op.offset < op.length) {
          ZEROFS_RETURN_IF_ERROR(
              ZeroRangeLocked(op.inode, op.offset, op.length - op.offset, bases, need_retry));
        }
        break;
      case TxnOp::Kind::kDropData: {
        ZEROFS_ASSIGN_OR_RETURN(std::optional<std::vector<std::uint64_t>> few,
                                InlineDropExtentsLocked(op.inode));
        if (few.has_value()) {
          // Small enough to release in this very transaction, as a truncate would.
          for (std::uint64_t idx : *few) open_->SetExtent({op.inode, idx}, ExtentData());
          break;
        }
        // The collector releases what is committed, in rounds; what the open batch holds
        // for the inode need never be written at all.
        for (auto it = open_->extents.lower_bound({op.inode, 0});
             it != open_->extents.end() && it->first.inode == op.inode; ++it) {
          if (it->second) open_->SetExtent(it->first, ExtentData());
        }
        open_->Put(index::MetaKey(format::DropMetaName(op.inode)), {});
        gc_wakeup_ = true;
        cv_.notify_all();
        break;
      }
    }
    if (*need_retry) {
      return Status::Internal("transaction needed an extent it had not validated");
    }
  }
  return Status::Ok();
}

Result<Position> VolumeImpl::Commit(const Transaction& txn) {
  if (read_only()) return Status::Cancelled("the volume is open read-only");
  for (const TxnOp& op : txn.ops()) {
    if ((op.kind == TxnOp::Kind::kPut || op.kind == TxnOp::Kind::kDelete)) {
      ZEROFS_RETURN_IF_ERROR(index::ValidateIndexKey(op.key));
    } else if (op.kind == TxnOp::Kind::kDropData) {
      continue;
    } else if (op.offset + op.length < op.offset) {
      return Status::InvalidArgument("data range overflows");
    }
  }
  for (int attempt = 0; attempt < 64; ++attempt) {
    // Fetch the old content of partly written extents without holding the lock.
    std::map<ExtentId, Base> bases;
    for (const TxnOp& op : txn.ops()) {
      if (op.kind == TxnOp::Kind::kPut || op.kind == TxnOp::Kind::kDelete ||
          op.kind == TxnOp::Kind::kDropData) {
        continue;
      }
      std::vector<ExtentId> partial;
      PartialExtents(op, &partial);
      for (const ExtentId& id : partial) {
        if (bases.contains(id)) continue;
        {
          std::lock_guard lock(mu_);
          if (ChainExtentLocked(id).has_value()) continue;
        }
        ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> loc, IndexLocation(id));
        Base base{loc, nullptr};
        if (loc.has_value()) {
          ZEROFS_ASSIGN_OR_RETURN(base.data, ReadCommitted(id, *loc));
        }
        bases.emplace(id, std::move(base));
      }
    }
    std::unique_lock lock(mu_);
    if (closed_ || closing_) return Status::Cancelled("volume is closed");
    while (failure_.ok() && !closing_ && BufferedBytesLocked() > options_.write_buffer_bytes &&
           !open_->empty()) {
      RequestFlushLocked();
      cv_.wait(lock);
    }
    while (failure_.ok() && !closing_ && BufferedBytesLocked() > options_.write_buffer_bytes) {
      cv_.wait(lock);
    }
    if (!failure_.ok()) return failure_;
    // One segment holds a bounded number of frames and journal bytes: a transaction that
    // does not fit beside what the open batch holds waits for the next batch; one that
    // cannot fit even alone is refused (callers split large truncates and punches).
    ZEROFS_ASSIGN_OR_RETURN(const TxnSize size, TxnSizeLocked(txn));
    if (size.extents > kMaxBatchExtents || size.journal_bytes > kMaxBatchJournalBytes) {
      return Status::InvalidArgument(
          "transaction too large for one segment: " + std::to_string(size.extents) +
          " extents (at most " + std::to_string(kMaxBatchExtents) + "), " +
          std::to_string(size.journal_bytes) + " journal bytes (at most " +
          std::to_string(kMaxBatchJournalBytes) + ")");
    }
    if (open_->extents.size() + size.extents > kMaxBatchExtents ||
        open_->journal_bytes + size.journal_bytes > kMaxBatchJournalBytes) {
      RequestFlushLocked();
      cv_.wait(lock);
      continue;
    }
    bool need_retry = false;
    ZEROFS_RETURN_IF_ERROR(ApplyTxnLocked(txn, bases, &need_retry));
    open_->journal_bytes += size.journal_bytes;
    if (need_retry) continue;
    const Position pos = open_->number;
    if (open_->first_change_ms == 0) {
      open_->first_change_ms =
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now().time_since_epoch())
                                         .count());
      cv_.notify_all();  // the flusher starts its interval
    }
    if (open_->data_bytes >= options_.segment_target_bytes ||
        open_->extents.size() >= kMaxBatchExtents / 2 ||
        open_->journal_bytes >= kMaxBatchJournalBytes / 2) {
      RequestFlushLocked();
    }
    return pos;
  }
  return Status::Unavailable("commit kept racing with concurrent writes to the same extents");
}

Result<VolumeImpl::TxnSize> VolumeImpl::TxnSizeLocked(const Transaction& txn) {
  // Upper bounds: every extent a data op may touch, every key and value it writes, and the
  // extent-map and usage ops sealing adds per extent.
  constexpr std::uint64_t kOpOverhead = 16;
  constexpr std::uint64_t kExtentJournalBytes = 96;
  TxnSize size;
  for (const TxnOp& op : txn.ops()) {
    switch (op.kind) {
      case TxnOp::Kind::kPut:
      case TxnOp::Kind::kDelete:
        size.journal_bytes += op.key.size() + op.value.size() + kOpOverhead;
        break;
      case TxnOp::Kind::kDropData: {
        ZEROFS_ASSIGN_OR_RETURN(std::optional<std::vector<std::uint64_t>> few,
                                InlineDropExtentsLocked(op.inode));
        size.extents += few.has_value() ? few->size() : 0;
        size.journal_bytes += 64 + kOpOverhead;
        break;
      }
      case TxnOp::Kind::kWrite:
        if (op.length > 0) {
          size.extents += (op.offset + op.length - 1) / kExtentBytes - op.offset / kExtentBytes + 1;
        }
        break;
      case TxnOp::Kind::kZeroRange:
      case TxnOp::Kind::kTruncate: {
        const std::uint64_t begin = op.offset;
        const std::uint64_t end =
            op.kind == TxnOp::Kind::kTruncate ? op.length : op.offset + op.length;
        if (end <= begin) break;
        ZEROFS_ASSIGN_OR_RETURN(
            std::vector<std::uint64_t> existing,
            ExistingExtentsLocked(op.inode, begin / kExtentBytes, (end - 1) / kExtentBytes));
        size.extents += existing.size() + 2;
        break;
      }
    }
  }
  size.journal_bytes += size.extents * kExtentJournalBytes;
  return size;
}

Result<std::uint64_t> VolumeImpl::AllocateInode() {
  if (read_only()) return Status::Cancelled("the volume is open read-only");
  std::lock_guard lock(mu_);
  if (!failure_.ok()) return failure_;
  if (closed_ || closing_) return Status::Cancelled("volume is closed");
  const std::uint64_t ino = next_inode_++;
  open_->Put(index::MetaKey(format::kMetaNextInode), index::EncodeU64Value(next_inode_));
  return ino;
}

Status VolumeImpl::Sync(Position position) {
  std::unique_lock lock(mu_);
  if (closed_) return Status::Cancelled("volume is closed");
  Position target = position;
  if (open_ && position >= open_->number) {
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

Status VolumeImpl::SyncAll() {
  Position pos;
  {
    std::lock_guard lock(mu_);
    if (!open_) return Status::Cancelled("volume is closed");
    pos = open_->number;
  }
  return Sync(pos);
}

std::uint64_t VolumeImpl::BufferedBytesLocked() const {
  std::uint64_t bytes = open_ ? open_->data_bytes : 0;
  for (const BatchPtr& b : sealed_) bytes += b->data_bytes;
  return bytes;
}

std::map<std::uint64_t, bool> VolumeImpl::PendingExtents(std::uint64_t inode, std::uint64_t first,
                                                         std::uint64_t last) {
  std::map<std::uint64_t, bool> out;
  if (last < first) return out;
  std::lock_guard lock(mu_);
  VisitPendingExtentsLocked(inode, first, last, [&](std::uint64_t index, const ExtentData& data) {
    out[index] = data != nullptr;  // oldest batch first: later ones override
  });
  return out;
}

VolumeStats VolumeImpl::stats() const {
  std::lock_guard lock(mu_);
  VolumeStats s = stats_;
  s.durable_seq = durable_seq_;
  s.committed_seq = open_ ? open_->number : 0;
  s.buffered_bytes = BufferedBytesLocked();
  s.fenced = !failure_.ok();
  if (cached_reader_ != nullptr) {
    const cache::CachedReaderStats r = cached_reader_->Stats();
    s.cache_memory_hits = r.memory_hits;
    s.cache_disk_hits = r.disk_hits;
    s.cache_misses = r.fetched_frames;
    s.cache_gets = r.gets;
  }
  return s;
}

}  // namespace zerofs::engine
