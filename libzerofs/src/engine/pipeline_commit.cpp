// The write pipeline's open batch (write_pipeline.h): commits and their read-modify-writes,
// inode allocation, relocations for the collector, and the reads of the chain.
#include <algorithm>
#include <limits>

#include "write_pipeline.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

namespace zerofs::engine {
namespace {

constexpr std::uint64_t kExtentBytes = format::kMaxExtentBytes;
// What one batch (one segment) may hold, well inside the format's limits so that the
// sealing's own ops and the chain ops always fit.
constexpr std::uint64_t kMaxBatchExtents = format::kMaxSegmentExtents - 1024;
constexpr std::uint64_t kMaxBatchJournalBytes = format::kMaxJournalBytes / 2;
// Transaction::DropData releases a file of at most this many stored extents (32 MiB) in the
// transaction itself; larger ones are left to the collector.
constexpr std::size_t kInlineDropExtents = 1024;
// Journal bytes one moved extent costs (extent-map put, usage update), as Commit estimates.
constexpr std::uint64_t kExtentJournalBytes = 96;
static_assert(WritePipeline::kMaxRelocationGroup * 2 < format::kMaxSegmentExtents);

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

Result<std::optional<segment::ExtentLocation>> IndexLocation(const index::IndexDb& db,
                                                             const ExtentId& id) {
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> v,
                          db.Get(index::ExtentKey(id.inode, id.index)));
  if (!v.has_value()) return std::optional<segment::ExtentLocation>();
  ZEROFS_ASSIGN_OR_RETURN(segment::ExtentLocation loc, segment::DecodeExtentLocation(*v));
  return std::optional<segment::ExtentLocation>(loc);
}

Result<std::optional<std::optional<std::string>>> WritePipeline::ChainKey(
    std::string_view key) const {
  using Found = std::optional<std::optional<std::string>>;
  std::lock_guard lock(mu_);
  if (closed_) return Status::Cancelled("volume is closed");
  if (open_) {
    auto it = open_->kv.find(std::string(key));
    if (it != open_->kv.end()) return Found(it->second);
  }
  for (auto b = sealed_.rbegin(); b != sealed_.rend(); ++b) {
    auto it = (*b)->kv.find(std::string(key));
    if (it != (*b)->kv.end()) return Found(it->second);
  }
  return Found();
}

Result<WritePipeline::Overlay> WritePipeline::ChainKeys(std::string_view prefix,
                                                        std::string_view start_after) const {
  Overlay overlay;
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
  return overlay;
}

std::optional<ExtentData> WritePipeline::ChainExtent(const ExtentId& id) const {
  std::lock_guard lock(mu_);
  return ChainExtentLocked(id);
}

std::vector<std::optional<ExtentData>> WritePipeline::ChainExtents(std::uint64_t inode,
                                                                   std::uint64_t first,
                                                                   std::uint64_t last) const {
  std::vector<std::optional<ExtentData>> out(last - first + 1);
  std::lock_guard lock(mu_);
  for (std::uint64_t i = first; i <= last; ++i) out[i - first] = ChainExtentLocked({inode, i});
  return out;
}

std::optional<ExtentData> WritePipeline::ChainExtentLocked(const ExtentId& id) const {
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

void WritePipeline::VisitPendingExtentsLocked(
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

Result<std::vector<std::uint64_t>> WritePipeline::ExistingExtentsLocked(std::uint64_t inode,
                                                                        std::uint64_t first,
                                                                        std::uint64_t last) {
  std::vector<std::uint64_t> found;
  if (first > last) return found;
  const std::string start_after = first == 0 ? std::string() : index::ExtentKey(inode, first - 1);
  Status s = ctx_.db->Scan(index::ExtentPrefix(inode), start_after,
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

Result<std::optional<std::vector<std::uint64_t>>> WritePipeline::InlineDropExtentsLocked(
    std::uint64_t inode) {
  using Found = std::optional<std::vector<std::uint64_t>>;
  std::vector<std::uint64_t> found;
  bool too_many = false;
  ZEROFS_RETURN_IF_ERROR(
      ctx_.db->Scan(index::ExtentPrefix(inode), {}, [&](std::string_view key, std::string_view) {
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

Status WritePipeline::PatchExtentLocked(const ExtentId& id, std::uint64_t at,
                                        std::string_view bytes,
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

Status WritePipeline::ZeroRangeLocked(std::uint64_t inode, std::uint64_t offset,
                                      std::uint64_t length, const std::map<ExtentId, Base>& bases,
                                      bool* need_retry) {
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

Status WritePipeline::ApplyTxnLocked(const Transaction& txn, const std::map<ExtentId, Base>& bases,
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
      ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> now,
                              IndexLocation(*ctx_.db, id));
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
        if (hooks_.drop_pending) hooks_.drop_pending();
        break;
      }
    }
    if (*need_retry) {
      return Status::Internal("transaction needed an extent it had not validated");
    }
  }
  return Status::Ok();
}

void WritePipeline::NoteFirstChangeLocked() {
  if (open_->first_change_ms != 0) return;
  open_->first_change_ms = SteadyNowMs();
  cv_.notify_all();  // the flusher starts its interval
}

Result<BatchNumber> WritePipeline::Commit(const Transaction& txn) {
  if (ctx_.read_only()) return Status::Cancelled("the volume is open read-only");
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
        ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> loc,
                                IndexLocation(*ctx_.db, id));
        Base base{loc, nullptr};
        if (loc.has_value()) {
          ZEROFS_ASSIGN_OR_RETURN(
              base.data, ctx_.cached_reader->Read(segment::ExtentRef{id.inode, id.index, *loc}));
        }
        bases.emplace(id, std::move(base));
      }
    }
    std::unique_lock lock(mu_);
    if (closed_ || closing_) return Status::Cancelled("volume is closed");
    while (failure_.ok() && !closing_ && BufferedBytesLocked() > ctx_.options.write_buffer_bytes &&
           !open_->empty()) {
      RequestFlushLocked();
      cv_.wait(lock);
    }
    while (failure_.ok() && !closing_ && BufferedBytesLocked() > ctx_.options.write_buffer_bytes) {
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
    const BatchNumber pos = open_->number;
    NoteFirstChangeLocked();
    if (open_->data_bytes >= ctx_.options.segment_target_bytes ||
        open_->extents.size() >= kMaxBatchExtents / 2 ||
        open_->journal_bytes >= kMaxBatchJournalBytes / 2) {
      RequestFlushLocked();
    }
    return pos;
  }
  return Status::Unavailable("commit kept racing with concurrent writes to the same extents");
}

Result<WritePipeline::TxnSize> WritePipeline::TxnSizeLocked(const Transaction& txn) {
  // Upper bounds: every extent a data op may touch, every key and value it writes, and the
  // extent-map and usage ops sealing adds per extent.
  constexpr std::uint64_t kOpOverhead = 16;
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

Result<std::uint64_t> WritePipeline::AllocateInode() {
  if (ctx_.read_only()) return Status::Cancelled("the volume is open read-only");
  std::lock_guard lock(mu_);
  if (!failure_.ok()) return failure_;
  if (closed_ || closing_) return Status::Cancelled("volume is closed");
  const std::uint64_t ino = next_inode_++;
  open_->Put(index::MetaKey(format::kMetaNextInode), index::EncodeU64Value(next_inode_));
  return ino;
}

Result<RelocateResult> WritePipeline::CommitRelocations(const std::vector<Relocation>& items) {
  if (ctx_.read_only()) return Status::Cancelled("the volume is open read-only");
  if (items.size() > kMaxRelocationGroup) {
    return Status::InvalidArgument("too many extents in one relocation");
  }
  std::unique_lock lock(mu_);
  for (;;) {
    if (closed_ || closing_) return Status::Cancelled("volume is closed");
    if (!failure_.ok()) return failure_;
    if (BufferedBytesLocked() > ctx_.options.write_buffer_bytes) {
      RequestFlushLocked();
      cv_.wait(lock);
      continue;
    }
    // Room for every item in the open batch, else wait for the next one.
    if (open_->extents.size() + items.size() > format::kMaxSegmentExtents - 1024 ||
        open_->journal_bytes + items.size() * kExtentJournalBytes > kMaxBatchJournalBytes) {
      RequestFlushLocked();
      cv_.wait(lock);
      continue;
    }
    break;
  }
  RelocateResult result;
  for (const Relocation& item : items) {
    // A newer change in flight (write, truncate, drop) wins; so does any change the index
    // already holds, which moved the extent away from where it was read.
    if (ChainExtentLocked(item.id).has_value()) continue;
    ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> now,
                            IndexLocation(*ctx_.db, item.id));
    if (!now.has_value() || *now != item.from) continue;
    open_->SetExtent(item.id, item.data);
    result.moved++;
    result.moved_bytes += item.from.sealed_length;
  }
  if (result.moved == 0) return result;  // batch 0: nothing to wait for
  open_->journal_bytes += result.moved * kExtentJournalBytes;
  result.batch = open_->number;
  NoteFirstChangeLocked();
  RequestFlushLocked();
  return result;
}

std::map<std::uint64_t, bool> WritePipeline::PendingExtents(std::uint64_t inode,
                                                            std::uint64_t first,
                                                            std::uint64_t last) const {
  std::map<std::uint64_t, bool> out;
  if (last < first) return out;
  std::lock_guard lock(mu_);
  VisitPendingExtentsLocked(inode, first, last, [&](std::uint64_t index, const ExtentData& data) {
    out[index] = data != nullptr;  // oldest batch first: later ones override
  });
  return out;
}

}  // namespace zerofs::engine
