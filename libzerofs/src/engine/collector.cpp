// The collector's runs (collector.h): dropping deleted files' data, deleting segments
// nothing needs, the background loop and space accounting; compaction is compaction.cpp.
#include "collector.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <set>
#include <thread>

#include "checkpoint_record.h"
#include "object_names.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

namespace zerofs::engine {
namespace {

constexpr std::uint64_t kExtentBytes = format::kMaxExtentBytes;
// Keys per DeleteMany call.
constexpr std::size_t kDeleteBatch = 1000;

}  // namespace

bool Collector::Live(const index::SegmentUsage& usage) {
  return usage.live_bytes > 0 || usage.live_extents > 0;
}

void Collector::Report(const GcProgressFn& progress, const char* phase, std::uint64_t done,
                       std::uint64_t total, const GcStats& stats) {
  if (!progress) return;
  GcProgress p;
  p.phase = phase;
  p.done = done;
  p.total = total;
  p.stats = stats;
  progress(p);
}

void Collector::Start() {
  if (ctx_.options.gc.background) thread_ = std::thread([this] { Loop(); });
}

void Collector::Stop() {
  stop_ = true;
  {
    std::lock_guard lock(wake_mu_);
    wake_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Collector::Wake() {
  std::lock_guard lock(wake_mu_);
  wakeup_ = true;
  wake_cv_.notify_all();
}

void Collector::Count(std::uint64_t rounds, std::uint64_t deleted, std::uint64_t freed,
                      std::uint64_t rewritten) {
  std::lock_guard lock(stats_mu_);
  rounds_ += rounds;
  segments_deleted_ += deleted;
  bytes_freed_ += freed;
  bytes_rewritten_ += rewritten;
}

void Collector::FillStats(VolumeStats& stats) const {
  std::lock_guard lock(stats_mu_);
  stats.gc_rounds = rounds_;
  stats.gc_segments_deleted = segments_deleted_;
  stats.gc_bytes_freed = bytes_freed_;
  stats.gc_bytes_rewritten = bytes_rewritten_;
}

Status Collector::DropPendingData(std::uint64_t max_extents, GcStats& stats,
                                  const GcProgressFn& progress) {
  std::vector<std::uint64_t> inodes;
  ZEROFS_RETURN_IF_ERROR(volume_.Scan(index::MetaKey(format::kMetaDropPrefix), {},
                                      [&](std::string_view key, std::string_view) {
                                        if (auto ino = DropInodeOf(key)) inodes.push_back(*ino);
                                        return true;
                                      }));
  if (inodes.empty()) return Status::Ok();
  // Extents of these inodes still in the chain reach the index, where the rounds find them.
  ZEROFS_RETURN_IF_ERROR(volume_.SyncAll());
  const std::uint64_t per_round =
      std::max<std::uint32_t>(ctx_.options.gc.drop_extents_per_round, 1);
  std::uint64_t dropped = 0;
  std::uint64_t done = 0;
  for (const std::uint64_t ino : inodes) {
    for (;;) {
      if (Stopping()) return Status::Ok();
      if (max_extents > 0 && dropped >= max_extents) return Status::Ok();
      std::vector<std::uint64_t> found;
      ZEROFS_RETURN_IF_ERROR(
          ctx_.db->Scan(index::ExtentPrefix(ino), {}, [&](std::string_view key, std::string_view) {
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
      ZEROFS_ASSIGN_OR_RETURN(BatchNumber pos, volume_.Commit(txn));
      ZEROFS_RETURN_IF_ERROR(volume_.Sync(pos));
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

Status Collector::ForgetStaleUsage(const std::vector<objstore::ObjectInfo>& objects,
                                   std::uint64_t applied) {
  std::set<std::uint64_t> present;
  for (const objstore::ObjectInfo& object : objects) {
    if (auto seq = SegmentSeqOf(object.key); seq.has_value()) present.insert(*seq);
  }
  // Usage records of segments that are gone: left when a run deleted the objects but was
  // stopped before the commit that forgets their records.
  Transaction forget;
  ZEROFS_RETURN_IF_ERROR(volume_.Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
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
  return volume_.Commit(forget).status();
}

Status Collector::DeleteDeadSegments(bool dry_run, std::chrono::milliseconds grace_period,
                                     std::uint32_t max_deletes, GcStats& stats,
                                     std::uint64_t* next_due_ms, const GcProgressFn& progress) {
  *next_due_ms = 0;
  const std::uint64_t covers = snapshots_.covers_seq();
  ZEROFS_ASSIGN_OR_RETURN(std::vector<CheckpointRecord> checkpoints,
                          ReadAllCheckpoints(*ctx_.options.store, *ctx_.key.keys, ctx_.key.uuid));
  // Every segment applied by now was uploaded before the listing below starts.
  const std::uint64_t applied = pipeline_.durable_seq();
  ZEROFS_ASSIGN_OR_RETURN(std::vector<objstore::ObjectInfo> objects,
                          ctx_.options.store->List(format::kSegmentPrefix));
  if (!dry_run) ZEROFS_RETURN_IF_ERROR(ForgetStaleUsage(objects, applied));
  const std::uint64_t now = SteadyNowMs();
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
    ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            volume_.Get(index::SegmentUsageKey(*seq)));
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
    if (Stopping()) break;
    const std::size_t last = std::min(doomed.size(), first + kDeleteBatch);
    std::vector<std::string> keys;
    std::vector<const Doomed*> batch;
    for (std::size_t i = first; i < last; ++i) {
      // Verify just before deleting: the usage record still says nothing is live.
      ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                              volume_.Get(index::SegmentUsageKey(doomed[i].seq)));
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
    ZEROFS_RETURN_IF_ERROR(ctx_.options.store->DeleteMany(keys));
    Transaction forget;
    for (const Doomed* d : batch) {
      stats.segments_deleted++;
      stats.bytes_freed += d->size;
      deletable_since_ms_.erase(d->seq);
      if (d->has_usage) forget.Delete(index::SegmentUsageKey(d->seq));
    }
    std::uint64_t freed = 0;
    for (const Doomed* d : batch) freed += d->size;
    Count(0, batch.size(), freed, 0);
    // The usage records of deleted segments go with the next segment; if that is lost, the
    // next run deletes the (already missing) objects again and retries.
    if (!forget.empty()) ZEROFS_RETURN_IF_ERROR(volume_.Commit(forget).status());
    done += batch.size();
    Report(progress, "delete", done, doomed.size(), stats);
  }
  return Status::Ok();
}

Result<GcStats> Collector::Run(const GcRunOptions& options, const GcProgressFn& progress) {
  if (ctx_.read_only() && !options.dry_run) {
    return Status::Cancelled("the volume is open read-only");
  }
  std::lock_guard run_lock(run_mu_);
  // Collect what was committed before the call: it must be in the index, where the
  // collector looks (usage records, extent map).
  if (!options.dry_run) ZEROFS_RETURN_IF_ERROR(volume_.SyncAll());
  return RunLocked(options, 0, std::numeric_limits<std::uint32_t>::max(), progress);
}

Result<GcStats> Collector::RunLocked(const GcRunOptions& options, std::uint64_t max_drop_extents,
                                     std::uint32_t max_deletes, const GcProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  GcStats stats;
  if (options.dry_run) {
    ZEROFS_RETURN_IF_ERROR(volume_.Scan(index::MetaKey(format::kMetaDropPrefix), {},
                                        [&](std::string_view key, std::string_view) {
                                          if (DropInodeOf(key)) stats.files_dropped++;
                                          return true;
                                        }));
  } else {
    ZEROFS_RETURN_IF_ERROR(DropPendingData(max_drop_extents, stats, progress));
  }
  ZEROFS_RETURN_IF_ERROR(CompactSegments(options, stats, progress));
  if (!options.dry_run && options.snapshot && !Stopping()) {
    // Compacted segments, and those whose last extents were just dropped, leave the journal
    // only once an index snapshot covers them.
    const std::uint64_t covers = snapshots_.covers_seq();
    const std::uint64_t durable = pipeline_.durable_seq();
    if (durable > covers) {
      Report(progress, "snapshot", 0, 1, stats);
      ZEROFS_RETURN_IF_ERROR(volume_.Snapshot());
      Report(progress, "snapshot", 1, 1, stats);
    }
  }
  std::uint64_t due = 0;
  const std::chrono::milliseconds grace =
      options.deletion_grace.value_or(ctx_.options.gc.deletion_grace);
  ZEROFS_RETURN_IF_ERROR(
      DeleteDeadSegments(options.dry_run, grace, max_deletes, stats, &due, progress));
  while (!options.dry_run && options.wait_for_grace && due != 0 && !Stopping()) {
    // Wait out the grace period of what became deletable in this run, in short steps so
    // that Close is not held up.
    const std::uint64_t now = SteadyNowMs();
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
  Count(1, 0, 0, 0);
  if (stats.segments_deleted > 0 || stats.segments_compacted > 0 || stats.files_dropped > 0) {
    ZEROFS_LOG(kInfo) << (options.dry_run ? "gc (dry run): " : "gc: ") << stats.files_dropped
                      << " files dropped, " << stats.segments_compacted << " segments compacted ("
                      << stats.bytes_rewritten << " bytes), " << stats.segments_deleted
                      << " segments deleted (" << stats.bytes_freed << " bytes) in "
                      << stats.duration.count() << " ms";
  }
  return stats;
}

void Collector::Loop() {
  const GcSettings& settings = ctx_.options.gc;
  std::uint64_t last_full_ms = SteadyNowMs();
  std::unique_lock lock(wake_mu_);
  for (;;) {
    const auto interval = static_cast<std::uint64_t>(
        std::max<std::chrono::milliseconds::rep>(1, settings.interval.count()));
    const std::uint64_t now = SteadyNowMs();
    const std::uint64_t due = last_full_ms + interval;
    if (!Stopping() && !wakeup_ && now < due) {
      wake_cv_.wait_for(lock, std::chrono::milliseconds(due - now));
      continue;
    }
    if (Stopping()) return;
    const bool full = SteadyNowMs() >= due;
    wakeup_ = false;
    // The pipeline calls Wake under its lock: never ask it anything under wake_mu_.
    lock.unlock();
    if (!pipeline_.failure().ok()) {
      last_full_ms = SteadyNowMs();
      lock.lock();
      continue;
    }
    {
      std::lock_guard run_lock(run_mu_);
      if (full) {
        GcRunOptions run;
        run.max_rewrite_bytes = std::max<std::uint64_t>(settings.rewrite_bytes_per_round, 1);
        run.rewrite_bytes_per_second = settings.rewrite_bytes_per_second;
        run.max_busy_percent = settings.max_busy_percent;
        run.snapshot = false;  // the snapshot cadence covers compacted segments in time
        run.wait_for_grace = false;
        auto result = RunLocked(run, 0, settings.deletes_per_round, nullptr);
        if (!result.ok()) ZEROFS_LOG(kWarn) << "background gc: " << result.status();
      } else {
        // A file was deleted: drop its data now, compaction waits for the interval.
        GcStats stats;
        Status s = DropPendingData(0, stats, nullptr);
        if (!s.ok()) ZEROFS_LOG(kWarn) << "background drop of deleted files' data: " << s;
      }
    }
    lock.lock();
    if (full) last_full_ms = SteadyNowMs();
  }
}

Result<SpaceStats> Collector::SpaceUsage() {
  SpaceStats out;
  ZEROFS_ASSIGN_OR_RETURN(std::vector<objstore::ObjectInfo> objects,
                          ctx_.options.store->List(format::kSegmentPrefix));
  std::map<std::uint64_t, index::SegmentUsage> usage;
  ZEROFS_RETURN_IF_ERROR(volume_.Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                                      [&](std::string_view key, std::string_view value) {
                                        auto seq = index::DecodeSegmentUsageKey(key);
                                        auto u = index::DecodeSegmentUsage(value);
                                        if (seq.ok() && u.ok()) usage[*seq] = *u;
                                        return true;
                                      }));
  for (const auto& [seq, u] : usage) out.live_bytes += u.live_bytes;
  ZEROFS_ASSIGN_OR_RETURN(std::vector<CheckpointRecord> checkpoints,
                          ReadAllCheckpoints(*ctx_.options.store, *ctx_.key.keys, ctx_.key.uuid));
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
                          ctx_.options.store->List(format::kIndexPrefix));
  for (const objstore::ObjectInfo& object : index_objects) {
    out.index_objects++;
    out.index_bytes += object.size;
  }
  ZEROFS_RETURN_IF_ERROR(volume_.Scan(index::MetaKey(format::kMetaDropPrefix), {},
                                      [&](std::string_view key, std::string_view) {
                                        if (DropInodeOf(key)) out.pending_drops++;
                                        return true;
                                      }));
  return out;
}

}  // namespace zerofs::engine
