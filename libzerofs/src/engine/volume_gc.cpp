// The collector (docs/engine.md "Space"): dropping deleted files' data in bounded rounds,
// compaction of sparse segments, deletion of segments nothing needs, space accounting, and
// the writer's background loop.
#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <set>
#include <span>
#include <thread>

#include "volume_impl.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

namespace zerofs::engine {
namespace {

constexpr std::uint64_t kExtentBytes = format::kMaxExtentBytes;
// Extents moved by one relocation commit: far inside one segment's frame limit, so a
// relocation group always fits beside what the open batch holds after one flush.
constexpr std::size_t kRelocateGroupExtents = 16384;
static_assert(kRelocateGroupExtents * 2 < format::kMaxSegmentExtents);
// Journal bytes one moved extent costs (extent-map put, usage update), as Commit estimates.
constexpr std::uint64_t kExtentJournalBytes = 96;
constexpr std::uint64_t kMaxBatchJournalBytes = format::kMaxJournalBytes / 2;
// Keys per DeleteMany call.
constexpr std::size_t kDeleteBatch = 1000;

std::uint64_t SteadyMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// Keeps compaction within a bandwidth and a duty-cycle budget (GcRunOptions): after each
// unit of work it sleeps until bytes / elapsed <= the rate and working time / elapsed <= the
// busy share. Sleeps in short slices so that a closing volume is not held up.
class GcPacer {
 public:
  using Clock = std::chrono::steady_clock;
  GcPacer(std::uint64_t bytes_per_second, std::uint32_t busy_percent)
      : bytes_per_second_(bytes_per_second),
        busy_percent_(std::clamp<std::uint32_t>(busy_percent, 1, 100)),
        start_(Clock::now()),
        work_start_(start_) {}

  bool active() const { return bytes_per_second_ != 0 || busy_percent_ < 100; }

  // `bytes` more were rewritten since the last call; `stopping` ends a sleep early.
  void AfterWork(std::uint64_t bytes, const std::function<bool()>& stopping) {
    if (!active()) return;
    const Clock::time_point now = Clock::now();
    busy_ += now - work_start_;
    bytes_ += bytes;
    Clock::duration wanted = now - start_;
    if (bytes_per_second_ != 0) {
      wanted = std::max(wanted,
                        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                            static_cast<double>(bytes_) / static_cast<double>(bytes_per_second_))));
    }
    if (busy_percent_ < 100) {
      wanted = std::max(wanted, busy_ * 100 / busy_percent_);
    }
    const Clock::time_point until = start_ + wanted;
    while (!stopping() && Clock::now() < until) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
    }
    work_start_ = Clock::now();
  }

 private:
  std::uint64_t bytes_per_second_;
  std::uint32_t busy_percent_;
  Clock::time_point start_;
  Clock::time_point work_start_;
  Clock::duration busy_{0};
  std::uint64_t bytes_ = 0;
};

std::uint64_t UnixMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// The seq of a segment object key ("segments/<16 lower-case hex>"), if it is one.
std::optional<std::uint64_t> SegmentSeqOf(std::string_view key) {
  if (!key.starts_with(format::kSegmentPrefix)) return std::nullopt;
  key.remove_prefix(format::kSegmentPrefix.size());
  if (key.size() != 16) return std::nullopt;
  std::uint64_t seq = 0;
  for (char c : key) {
    std::uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    seq = seq * 16 + digit;
  }
  return seq;
}

// The inode of a pending-drop meta key, if it is one.
std::optional<std::uint64_t> DropInodeOf(std::string_view key) {
  auto name = index::DecodeMetaKey(key);
  if (!name.ok() || !name->starts_with(format::kMetaDropPrefix)) return std::nullopt;
  std::string_view hex = name->substr(format::kMetaDropPrefix.size());
  if (hex.size() != 16) return std::nullopt;
  std::uint64_t ino = 0;
  for (char c : hex) {
    if (c >= '0' && c <= '9') {
      ino = ino * 16 + static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      ino = ino * 16 + static_cast<std::uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
  }
  return ino;
}

bool Live(const index::SegmentUsage& usage) {
  return usage.live_bytes > 0 || usage.live_extents > 0;
}

void Report(const GcProgressFn& progress, const char* phase, std::uint64_t done,
            std::uint64_t total, const GcStats& stats) {
  if (!progress) return;
  GcProgress p;
  p.phase = phase;
  p.done = done;
  p.total = total;
  p.stats = stats;
  progress(p);
}

}  // namespace

Result<VolumeImpl::RelocateResult> VolumeImpl::CommitRelocations(
    const std::vector<Relocation>& items) {
  if (read_only()) return Status::Cancelled("the volume is open read-only");
  if (items.size() > kRelocateGroupExtents) {
    return Status::InvalidArgument("too many extents in one relocation");
  }
  std::unique_lock lock(mu_);
  for (;;) {
    if (closed_ || closing_) return Status::Cancelled("volume is closed");
    if (!failure_.ok()) return failure_;
    if (BufferedBytesLocked() > options_.write_buffer_bytes) {
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
    ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> now, IndexLocation(item.id));
    if (!now.has_value() || *now != item.from) continue;
    open_->SetExtent(item.id, item.data);
    result.moved++;
    result.moved_bytes += item.from.sealed_length;
  }
  if (result.moved == 0) return result;  // position 0: nothing to wait for
  open_->journal_bytes += result.moved * kExtentJournalBytes;
  result.position = open_->number;
  if (open_->first_change_ms == 0) {
    open_->first_change_ms = SteadyMs();
    cv_.notify_all();
  }
  RequestFlushLocked();
  return result;
}

Status VolumeImpl::DropPendingData(std::uint64_t max_extents, GcStats& stats,
                                   const GcProgressFn& progress) {
  std::vector<std::uint64_t> inodes;
  ZEROFS_RETURN_IF_ERROR(Scan(index::MetaKey(format::kMetaDropPrefix), {},
                              [&](std::string_view key, std::string_view) {
                                if (auto ino = DropInodeOf(key)) inodes.push_back(*ino);
                                return true;
                              }));
  if (inodes.empty()) return Status::Ok();
  // Extents of these inodes still in the chain reach the index, where the rounds find them.
  ZEROFS_RETURN_IF_ERROR(SyncAll());
  const std::uint64_t per_round = std::max<std::uint32_t>(options_.gc.drop_extents_per_round, 1);
  std::uint64_t dropped = 0;
  std::uint64_t done = 0;
  for (const std::uint64_t ino : inodes) {
    for (;;) {
      if (GcStopping()) return Status::Ok();
      if (max_extents > 0 && dropped >= max_extents) return Status::Ok();
      std::vector<std::uint64_t> found;
      ZEROFS_RETURN_IF_ERROR(
          db_->Scan(index::ExtentPrefix(ino), {}, [&](std::string_view key, std::string_view) {
            auto parts = index::DecodeExtentKey(key);
            if (parts.ok()) found.push_back(parts->extent_index);
            return found.size() < per_round;
          }));
      Transaction txn;
      if (found.empty()) {
        txn.Delete(index::MetaKey(format::DropMetaName(ino)));
      } else {
        // Extent-aligned, so no extent needs its old content; only the existing ones in
        // the range count towards the transaction's size.
        txn.ZeroRange(ino, found.front() * kExtentBytes,
                      (found.back() - found.front() + 1) * kExtentBytes);
      }
      ZEROFS_ASSIGN_OR_RETURN(Position pos, Commit(txn));
      ZEROFS_RETURN_IF_ERROR(Sync(pos));
      if (found.empty()) {
        stats.files_dropped++;
        Report(progress, "drop", ++done, inodes.size(), stats);
        break;
      }
      stats.extents_dropped += found.size();
      dropped += found.size();
      Report(progress, "drop", done, inodes.size(), stats);
    }
  }
  return Status::Ok();
}

Status VolumeImpl::CompactSegments(const GcRunOptions& options, GcStats& stats,
                                   const GcProgressFn& progress) {
  const GcSettings& settings = options_.gc;
  struct Candidate {
    std::uint64_t seq = 0;
    index::SegmentUsage usage;
    double live_fraction = 0;
  };
  std::vector<Candidate> sparse;
  std::vector<Candidate> small;
  std::vector<Candidate> others;   // partly dead, neither sparse nor small
  std::uint64_t extent_bytes = 0;  // of segments with anything live
  std::uint64_t live_bytes = 0;
  // The index holds the usage of applied (durable) segments only: segments in flight are
  // never candidates.
  ZEROFS_RETURN_IF_ERROR(db_->Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                                   [&](std::string_view key, std::string_view value) {
                                     auto seq = index::DecodeSegmentUsageKey(key);
                                     auto usage = index::DecodeSegmentUsage(value);
                                     if (!seq.ok() || !usage.ok()) {
                                       ZEROFS_LOG(kWarn)
                                           << "skipping a malformed segment usage record";
                                       return true;
                                     }
                                     stats.segments_examined++;
                                     if (!Live(*usage) || usage->total_bytes == 0) return true;
                                     Candidate c{*seq, *usage,
                                                 static_cast<double>(usage->live_bytes) /
                                                     static_cast<double>(usage->total_bytes)};
                                     extent_bytes += usage->total_bytes;
                                     live_bytes += usage->live_bytes;
                                     if (c.live_fraction < settings.compact_below_live_fraction) {
                                       sparse.push_back(c);
                                     } else if (usage->total_bytes < settings.small_segment_bytes) {
                                       small.push_back(c);
                                     } else if (usage->live_bytes < usage->total_bytes) {
                                       others.push_back(c);
                                     }
                                     return true;
                                   }));
  // One small segment alone gains nothing from being rewritten; several merge into one.
  if (small.size() < 2) small.clear();
  std::sort(sparse.begin(), sparse.end(), [](const Candidate& a, const Candidate& b) {
    return a.live_fraction < b.live_fraction ||
           (a.live_fraction == b.live_fraction && a.seq < b.seq);
  });
  // Compacting a segment leaves its live bytes and drops the rest: while what would remain
  // is still above the amplification target, take the sparsest of the others too.
  std::uint64_t projected = extent_bytes;
  for (const Candidate& c : sparse) projected -= c.usage.total_bytes - c.usage.live_bytes;
  std::sort(others.begin(), others.end(), [](const Candidate& a, const Candidate& b) {
    return a.live_fraction < b.live_fraction ||
           (a.live_fraction == b.live_fraction && a.seq < b.seq);
  });
  const double target = std::max(settings.max_amplification, 1.0) * static_cast<double>(live_bytes);
  std::vector<Candidate> candidates = std::move(sparse);
  for (const Candidate& c : others) {
    if (static_cast<double>(projected) <= target) break;
    candidates.push_back(c);
    projected -= c.usage.total_bytes - c.usage.live_bytes;
  }
  candidates.insert(candidates.end(), small.begin(), small.end());
  const std::uint64_t budget = options.max_rewrite_bytes == 0
                                   ? std::numeric_limits<std::uint64_t>::max()
                                   : options.max_rewrite_bytes;

  if (options.dry_run) {
    std::uint64_t bytes = 0;
    for (const Candidate& c : candidates) {
      if (bytes > 0 && bytes + c.usage.live_bytes > budget) break;
      bytes += c.usage.live_bytes;
      stats.segments_compacted++;
      stats.extents_rewritten += c.usage.live_extents;
    }
    stats.bytes_rewritten += bytes;
    return Status::Ok();
  }

  const std::uint64_t group_bytes_max =
      std::max<std::uint64_t>(options_.segment_target_bytes, kExtentBytes);
  std::vector<Relocation> group;
  std::uint64_t group_bytes = 0;
  GcPacer pacer(options.rewrite_bytes_per_second, options.max_busy_percent);
  auto commit_group = [&]() -> Status {
    if (group.empty()) return Status::Ok();
    if (options.before_relocate_commit) options.before_relocate_commit();
    ZEROFS_ASSIGN_OR_RETURN(RelocateResult r, CommitRelocations(group));
    ZEROFS_RETURN_IF_ERROR(Sync(r.position));
    stats.extents_rewritten += r.moved;
    stats.bytes_rewritten += r.moved_bytes;
    {
      std::lock_guard lock(mu_);
      stats_.gc_bytes_rewritten += r.moved_bytes;
    }
    group.clear();
    group_bytes = 0;
    pacer.AfterWork(r.moved_bytes, [this] { return GcStopping(); });
    return Status::Ok();
  };

  std::uint64_t used = 0;
  std::uint64_t done = 0;
  for (const Candidate& c : candidates) {
    if (GcStopping()) break;
    if (used > 0 && used + c.usage.live_bytes > budget) break;
    auto meta = reader_->ReadMeta(c.seq);
    if (meta.status().IsNotFound()) {
      ZEROFS_LOG(kWarn) << "segment " << c.seq << " has a usage record but no object";
      continue;
    }
    ZEROFS_RETURN_IF_ERROR(meta.status());
    // The live extents: those whose extent-map entry still points at this frame.
    std::vector<segment::ExtentRef> refs;
    const std::size_t extents =
        std::min<std::size_t>(meta->footer.extent_count, meta->entries.size());
    for (std::size_t i = 0; i < extents; ++i) {
      const segment::DirectoryEntry& entry = meta->entries[i];
      if (entry.kind != segment::FrameKind::kExtent) continue;
      const ExtentId id{entry.inode, entry.extent_index};
      ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> loc, IndexLocation(id));
      if (!loc.has_value() || loc->seq != c.seq || loc->offset != entry.offset) continue;
      refs.push_back({id.inode, id.index, *loc});
    }
    // Read and move them in groups bounded by bytes and extents.
    std::size_t k = 0;
    while (k < refs.size()) {
      std::size_t n = 0;
      std::uint64_t bytes = 0;
      while (k + n < refs.size() && group.size() + n < kRelocateGroupExtents &&
             (n == 0 || group_bytes + bytes < group_bytes_max)) {
        bytes += refs[k + n].location.plaintext_length;
        ++n;
      }
      ZEROFS_ASSIGN_OR_RETURN(std::vector<std::string> data,
                              reader_->ReadExtents(std::span(refs.data() + k, n)));
      for (std::size_t j = 0; j < n; ++j) {
        const segment::ExtentRef& ref = refs[k + j];
        group.push_back({{ref.inode, ref.extent_index},
                         ref.location,
                         std::make_shared<const std::string>(std::move(data[j]))});
      }
      group_bytes += bytes;
      k += n;
      if (group.size() >= kRelocateGroupExtents || group_bytes >= group_bytes_max) {
        ZEROFS_RETURN_IF_ERROR(commit_group());
      }
    }
    used += c.usage.live_bytes;
    stats.segments_compacted++;
    Report(progress, "compact", ++done, candidates.size(), stats);
  }
  return commit_group();
}

Status VolumeImpl::ForgetStaleUsage(const std::vector<objstore::ObjectInfo>& objects,
                                    std::uint64_t applied) {
  std::set<std::uint64_t> present;
  for (const objstore::ObjectInfo& object : objects) {
    if (auto seq = SegmentSeqOf(object.key); seq.has_value()) present.insert(*seq);
  }
  // Usage records of segments that are gone: left when a run deleted the objects but was
  // stopped before the commit that forgets their records.
  Transaction forget;
  ZEROFS_RETURN_IF_ERROR(Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                              [&](std::string_view key, std::string_view value) {
                                auto seq = index::DecodeSegmentUsageKey(key);
                                if (!seq.ok() || *seq > applied || present.contains(*seq)) {
                                  return true;
                                }
                                auto usage = index::DecodeSegmentUsage(value);
                                if (usage.ok() && Live(*usage)) {
                                  ZEROFS_LOG(kError)
                                      << "segment " << *seq
                                      << " holds live extents but its object is missing";
                                  return true;
                                }
                                forget.Delete(std::string(key));
                                return true;
                              }));
  if (forget.empty()) return Status::Ok();
  return Commit(forget).status();
}

Status VolumeImpl::DeleteDeadSegments(bool dry_run, std::chrono::milliseconds grace_period,
                                      std::uint32_t max_deletes, GcStats& stats,
                                      std::uint64_t* next_due_ms, const GcProgressFn& progress) {
  *next_due_ms = 0;
  std::uint64_t covers = 0;
  {
    std::lock_guard snapshot_lock(snapshot_mu_);
    if (root_.snapshot.has_value()) covers = root_.snapshot->covers_seq;
  }
  ZEROFS_ASSIGN_OR_RETURN(std::vector<CheckpointRecord> checkpoints,
                          ReadAllCheckpoints(*options_.store, *key_.keys, key_.uuid));
  // Every segment applied by now was uploaded before the listing below starts.
  std::uint64_t applied = 0;
  {
    std::lock_guard lock(mu_);
    applied = durable_seq_;
  }
  ZEROFS_ASSIGN_OR_RETURN(std::vector<objstore::ObjectInfo> objects,
                          options_.store->List(format::kSegmentPrefix));
  if (!dry_run) ZEROFS_RETURN_IF_ERROR(ForgetStaleUsage(objects, applied));
  const std::uint64_t now = SteadyMs();
  const auto grace =
      static_cast<std::uint64_t>(std::max<std::chrono::milliseconds::rep>(0, grace_period.count()));

  struct Doomed {
    std::uint64_t seq = 0;
    std::string key;
    std::uint64_t size = 0;
    bool has_usage = false;
  };
  std::vector<Doomed> doomed;
  std::map<std::uint64_t, std::uint64_t> still_deletable;
  for (const objstore::ObjectInfo& object : objects) {
    const std::optional<std::uint64_t> seq = SegmentSeqOf(object.key);
    if (!seq.has_value()) continue;
    ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(index::SegmentUsageKey(*seq)));
    if (value.has_value()) {
      ZEROFS_ASSIGN_OR_RETURN(index::SegmentUsage usage, index::DecodeSegmentUsage(*value));
      if (Live(usage)) continue;
    }
    // Recovery replays the segments after the root's snapshot: the journal stays.
    if (*seq > covers) {
      stats.segments_kept_by_journal++;
      continue;
    }
    if (std::any_of(checkpoints.begin(), checkpoints.end(),
                    [&](const CheckpointRecord& c) { return c.Keeps(*seq); })) {
      stats.segments_kept_by_checkpoints++;
      continue;
    }
    if (!dry_run) {
      auto it = deletable_since_ms_.find(*seq);
      const std::uint64_t since = it == deletable_since_ms_.end() ? now : it->second;
      still_deletable[*seq] = since;
      if (now < since + grace) {
        stats.segments_kept_by_grace++;
        const std::uint64_t due = since + grace;
        *next_due_ms = *next_due_ms == 0 ? due : std::min(*next_due_ms, due);
        continue;
      }
    }
    if (doomed.size() < max_deletes) {
      doomed.push_back({*seq, object.key, object.size, value.has_value()});
    }
  }
  // Forget segments that are gone or no longer deletable.
  if (!dry_run) deletable_since_ms_ = std::move(still_deletable);
  if (dry_run) {
    stats.segments_deleted += doomed.size();
    for (const Doomed& d : doomed) stats.bytes_freed += d.size;
    return Status::Ok();
  }

  std::uint64_t done = 0;
  for (std::size_t first = 0; first < doomed.size(); first += kDeleteBatch) {
    if (GcStopping()) break;
    const std::size_t last = std::min(doomed.size(), first + kDeleteBatch);
    std::vector<std::string> keys;
    std::vector<const Doomed*> batch;
    for (std::size_t i = first; i < last; ++i) {
      // Verify just before deleting: the usage record still says nothing is live.
      ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                              Get(index::SegmentUsageKey(doomed[i].seq)));
      if (value.has_value()) {
        ZEROFS_ASSIGN_OR_RETURN(index::SegmentUsage usage, index::DecodeSegmentUsage(*value));
        if (Live(usage)) {
          ZEROFS_LOG(kError) << "segment " << doomed[i].seq
                             << " became live again; not deleting it";
          continue;
        }
      }
      keys.push_back(doomed[i].key);
      batch.push_back(&doomed[i]);
    }
    ZEROFS_RETURN_IF_ERROR(options_.store->DeleteMany(keys));
    Transaction forget;
    for (const Doomed* d : batch) {
      stats.segments_deleted++;
      stats.bytes_freed += d->size;
      deletable_since_ms_.erase(d->seq);
      if (d->has_usage) forget.Delete(index::SegmentUsageKey(d->seq));
    }
    {
      std::lock_guard lock(mu_);
      stats_.gc_segments_deleted += batch.size();
      for (const Doomed* d : batch) stats_.gc_bytes_freed += d->size;
    }
    // The usage records of deleted segments go with the next segment; if that is lost, the
    // next run deletes the (already missing) objects again and retries.
    if (!forget.empty()) ZEROFS_RETURN_IF_ERROR(Commit(forget).status());
    done += batch.size();
    Report(progress, "delete", done, doomed.size(), stats);
  }
  return Status::Ok();
}

Result<GcStats> VolumeImpl::RunGc(const GcRunOptions& options, const GcProgressFn& progress) {
  if (read_only() && !options.dry_run) {
    return Status::Cancelled("the volume is open read-only");
  }
  std::lock_guard gc_lock(gc_mu_);
  // Collect what was committed before the call: it must be in the index, where the
  // collector looks (usage records, extent map).
  if (!options.dry_run) ZEROFS_RETURN_IF_ERROR(SyncAll());
  return RunGcLocked(options, 0, std::numeric_limits<std::uint32_t>::max(), progress);
}

Result<GcStats> VolumeImpl::RunGcLocked(const GcRunOptions& options, std::uint64_t max_drop_extents,
                                        std::uint32_t max_deletes, const GcProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  GcStats stats;
  if (options.dry_run) {
    ZEROFS_RETURN_IF_ERROR(Scan(index::MetaKey(format::kMetaDropPrefix), {},
                                [&](std::string_view key, std::string_view) {
                                  if (DropInodeOf(key)) stats.files_dropped++;
                                  return true;
                                }));
  } else {
    ZEROFS_RETURN_IF_ERROR(DropPendingData(max_drop_extents, stats, progress));
  }
  ZEROFS_RETURN_IF_ERROR(CompactSegments(options, stats, progress));
  if (!options.dry_run && options.snapshot && !GcStopping()) {
    // Compacted segments, and those whose last extents were just dropped, leave the journal
    // only once an index snapshot covers them.
    std::uint64_t covers = 0;
    {
      std::lock_guard snapshot_lock(snapshot_mu_);
      if (root_.snapshot.has_value()) covers = root_.snapshot->covers_seq;
    }
    std::uint64_t durable = 0;
    {
      std::lock_guard lock(mu_);
      durable = durable_seq_;
    }
    if (durable > covers) {
      Report(progress, "snapshot", 0, 1, stats);
      ZEROFS_RETURN_IF_ERROR(Snapshot());
      Report(progress, "snapshot", 1, 1, stats);
    }
  }
  std::uint64_t due = 0;
  const std::chrono::milliseconds grace =
      options.deletion_grace.value_or(options_.gc.deletion_grace);
  ZEROFS_RETURN_IF_ERROR(
      DeleteDeadSegments(options.dry_run, grace, max_deletes, stats, &due, progress));
  while (!options.dry_run && options.wait_for_grace && due != 0 && !GcStopping()) {
    // Wait out the grace period of what became deletable in this run, in short steps so
    // that Close is not held up.
    const std::uint64_t now = SteadyMs();
    if (now < due) {
      Report(progress, "grace", 0, (due - now + 999) / 1000, stats);
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min<std::uint64_t>(due - now, 200)));
      continue;
    }
    GcStats more;
    ZEROFS_RETURN_IF_ERROR(DeleteDeadSegments(false, grace, max_deletes, more, &due, progress));
    stats.segments_deleted += more.segments_deleted;
    stats.bytes_freed += more.bytes_freed;
    stats.segments_kept_by_grace = more.segments_kept_by_grace;
    stats.segments_kept_by_checkpoints = more.segments_kept_by_checkpoints;
    stats.segments_kept_by_journal = more.segments_kept_by_journal;
  }
  stats.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  {
    std::lock_guard lock(mu_);
    stats_.gc_rounds++;
  }
  if (stats.segments_deleted > 0 || stats.segments_compacted > 0 || stats.files_dropped > 0) {
    ZEROFS_LOG(kInfo) << (options.dry_run ? "gc (dry run): " : "gc: ") << stats.files_dropped
                      << " files dropped, " << stats.segments_compacted << " segments compacted ("
                      << stats.bytes_rewritten << " bytes), " << stats.segments_deleted
                      << " segments deleted (" << stats.bytes_freed << " bytes) in "
                      << stats.duration.count() << " ms";
  }
  return stats;
}

void VolumeImpl::GcLoop() {
  const GcSettings& settings = options_.gc;
  std::uint64_t last_full_ms = SteadyMs();
  std::unique_lock lock(mu_);
  for (;;) {
    const auto interval = static_cast<std::uint64_t>(
        std::max<std::chrono::milliseconds::rep>(1, settings.interval.count()));
    const std::uint64_t now = SteadyMs();
    const std::uint64_t due = last_full_ms + interval;
    if (!GcStopping() && !closing_ && !gc_wakeup_ && now < due) {
      cv_.wait_for(lock, std::chrono::milliseconds(due - now));
      continue;
    }
    if (GcStopping() || closing_) return;
    const bool full = SteadyMs() >= due;
    gc_wakeup_ = false;
    if (!failure_.ok()) {
      last_full_ms = SteadyMs();
      continue;
    }
    lock.unlock();
    {
      std::lock_guard gc_lock(gc_mu_);
      if (full) {
        GcRunOptions run;
        run.max_rewrite_bytes = std::max<std::uint64_t>(settings.rewrite_bytes_per_round, 1);
        run.rewrite_bytes_per_second = settings.rewrite_bytes_per_second;
        run.max_busy_percent = settings.max_busy_percent;
        run.snapshot = false;  // the snapshot cadence covers compacted segments in time
        run.wait_for_grace = false;
        auto result = RunGcLocked(run, 0, settings.deletes_per_round, nullptr);
        if (!result.ok()) ZEROFS_LOG(kWarn) << "background gc: " << result.status();
      } else {
        // A file was deleted: drop its data now, compaction waits for the interval.
        GcStats stats;
        Status s = DropPendingData(0, stats, nullptr);
        if (!s.ok()) ZEROFS_LOG(kWarn) << "background drop of deleted files' data: " << s;
      }
    }
    lock.lock();
    if (full) last_full_ms = SteadyMs();
  }
}

Result<std::uint64_t> VolumeImpl::SegmentsBehind(std::uint32_t limit) {
  if (!read_only()) return std::uint64_t{0};
  std::uint64_t applied = 0;
  {
    std::lock_guard lock(mu_);
    applied = durable_seq_;
  }
  ZEROFS_ASSIGN_OR_RETURN(
      objstore::ListPageResult page,
      options_.store->ListPage(format::kSegmentPrefix, format::SegmentObjectName(applied),
                               std::clamp<std::uint32_t>(limit, 1, 1000)));
  std::uint64_t behind = 0;
  for (const objstore::ObjectInfo& object : page.objects) {
    if (SegmentSeqOf(object.key).has_value()) behind++;
  }
  return behind;
}

Result<SpaceStats> VolumeImpl::SpaceUsage() {
  SpaceStats out;
  ZEROFS_ASSIGN_OR_RETURN(std::vector<objstore::ObjectInfo> objects,
                          options_.store->List(format::kSegmentPrefix));
  std::map<std::uint64_t, index::SegmentUsage> usage;
  ZEROFS_RETURN_IF_ERROR(Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                              [&](std::string_view key, std::string_view value) {
                                auto seq = index::DecodeSegmentUsageKey(key);
                                auto u = index::DecodeSegmentUsage(value);
                                if (seq.ok() && u.ok()) usage[*seq] = *u;
                                return true;
                              }));
  for (const auto& [seq, u] : usage) out.live_bytes += u.live_bytes;
  ZEROFS_ASSIGN_OR_RETURN(std::vector<CheckpointRecord> checkpoints,
                          ReadAllCheckpoints(*options_.store, *key_.keys, key_.uuid));
  out.checkpoints = checkpoints.size();
  for (const objstore::ObjectInfo& object : objects) {
    const std::optional<std::uint64_t> seq = SegmentSeqOf(object.key);
    if (!seq.has_value()) continue;
    out.segment_count++;
    out.stored_bytes += object.size;
    auto it = usage.find(*seq);
    if (it != usage.end()) out.extent_bytes += it->second.total_bytes;
    if (it == usage.end() || !Live(it->second)) {
      out.dead_segments++;
      out.dead_bytes += object.size;
      if (std::any_of(checkpoints.begin(), checkpoints.end(),
                      [&](const CheckpointRecord& c) { return c.Keeps(*seq); })) {
        out.checkpoint_held_bytes += object.size;
      }
    }
  }
  ZEROFS_ASSIGN_OR_RETURN(std::vector<objstore::ObjectInfo> index_objects,
                          options_.store->List(format::kIndexPrefix));
  for (const objstore::ObjectInfo& object : index_objects) {
    out.index_objects++;
    out.index_bytes += object.size;
  }
  ZEROFS_RETURN_IF_ERROR(Scan(index::MetaKey(format::kMetaDropPrefix), {},
                              [&](std::string_view key, std::string_view) {
                                if (DropInodeOf(key)) out.pending_drops++;
                                return true;
                              }));
  return out;
}

// ---- checkpoints ----

namespace {

CheckpointInfo InfoOf(const CheckpointRecord& record) {
  CheckpointInfo info;
  info.name = record.name;
  info.created_unix_ms = record.created_unix_ms;
  info.covers_seq = record.root.snapshot ? record.root.snapshot->covers_seq : 0;
  info.segment_count = record.segment_count();
  return info;
}

}  // namespace

Result<CheckpointInfo> VolumeImpl::CreateCheckpoint(std::string_view name) {
  ZEROFS_RETURN_IF_ERROR(ValidateCheckpointName(name));
  if (read_only()) return Status::Cancelled("the volume is open read-only");
  // Fail early on a taken name; the create-only put below is what guarantees uniqueness.
  auto existing = options_.store->Head(CheckpointObjectName(name));
  if (existing.ok()) {
    return Status::AlreadyExists("a checkpoint named '" + std::string(name) + "' already exists");
  }
  if (!existing.status().IsNotFound()) return existing.status();

  // No collector run meanwhile: a segment the checkpoint keeps must not be deleted between
  // the moment its set is taken and the moment the checkpoint object exists.
  std::lock_guard gc_lock(gc_mu_);
  ZEROFS_RETURN_IF_ERROR(SyncAll());
  std::vector<std::uint64_t> seqs;
  std::uint64_t durable = 0;
  {
    // Under mu_ no record is applied, so the usage records match durable_seq_.
    std::lock_guard lock(mu_);
    durable = durable_seq_;
    ZEROFS_RETURN_IF_ERROR(db_->Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                                     [&](std::string_view key, std::string_view value) {
                                       auto seq = index::DecodeSegmentUsageKey(key);
                                       auto usage = index::DecodeSegmentUsage(value);
                                       if (seq.ok() && usage.ok() && Live(*usage)) {
                                         seqs.push_back(*seq);
                                       }
                                       return true;
                                     }));
  }
  std::lock_guard snapshot_lock(snapshot_mu_);
  ZEROFS_ASSIGN_OR_RETURN(index::SnapshotRef ref, SnapshotLocked());
  // Segments applied between the scan and the snapshot may hold extents the snapshot
  // refers to (live bytes only ever decrease, so the scan covers every older one).
  for (std::uint64_t seq = durable + 1; seq <= ref.covers_seq; ++seq) seqs.push_back(seq);
  CheckpointRecord record;
  record.name = std::string(name);
  record.created_unix_ms = UnixMs();
  record.root = root_;
  record.segments = SeqRanges(std::move(seqs));
  ZEROFS_RETURN_IF_ERROR(WriteCheckpoint(*options_.store, *key_.keys, key_.uuid, record));
  ZEROFS_LOG(kInfo) << "checkpoint '" << record.name << "' at seq " << ref.covers_seq << ", "
                    << record.segment_count() << " segments kept";
  return InfoOf(record);
}

Result<std::vector<CheckpointInfo>> VolumeImpl::ListCheckpoints() {
  ZEROFS_ASSIGN_OR_RETURN(std::vector<CheckpointRecord> records,
                          ReadAllCheckpoints(*options_.store, *key_.keys, key_.uuid));
  std::vector<CheckpointInfo> out;
  out.reserve(records.size());
  for (const CheckpointRecord& r : records) out.push_back(InfoOf(r));
  return out;
}

Result<CheckpointInfo> VolumeImpl::GetCheckpoint(std::string_view name) {
  ZEROFS_ASSIGN_OR_RETURN(CheckpointRecord record,
                          ReadCheckpoint(*options_.store, *key_.keys, key_.uuid, name));
  return InfoOf(record);
}

Status VolumeImpl::DeleteCheckpoint(std::string_view name) {
  ZEROFS_RETURN_IF_ERROR(ValidateCheckpointName(name));
  if (read_only()) return Status::Cancelled("the volume is open read-only");
  auto existing = options_.store->Head(CheckpointObjectName(name));
  if (existing.status().IsNotFound()) {
    return Status::NotFound("no checkpoint named '" + std::string(name) + "'");
  }
  ZEROFS_RETURN_IF_ERROR(existing.status());
  ZEROFS_RETURN_IF_ERROR(options_.store->Delete(CheckpointObjectName(name)));
  ZEROFS_LOG(kInfo) << "deleted checkpoint '" << name << "'";
  return Status::Ok();
}

}  // namespace zerofs::engine
