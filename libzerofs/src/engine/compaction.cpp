// Compaction (collector.h): rewriting the live extents of sparse and small segments into
// new segments, within a byte budget and paced by bandwidth and duty cycle.
#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <span>
#include <thread>

#include "collector.h"
#include "zerofs/common/log.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

namespace zerofs::engine {
namespace {

constexpr std::uint64_t kExtentBytes = format::kMaxExtentBytes;

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

}  // namespace

Status Collector::CompactSegments(const GcRunOptions& options, GcStats& stats,
                                  const GcProgressFn& progress) {
  const GcSettings& settings = ctx_.options.gc;
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
  ZEROFS_RETURN_IF_ERROR(ctx_.db->Scan(
      index::TablePrefix(index::IndexTable::kSegmentUsage), {},
      [&](std::string_view key, std::string_view value) {
        auto seq = index::DecodeSegmentUsageKey(key);
        auto usage = index::DecodeSegmentUsage(value);
        if (!seq.ok() || !usage.ok()) {
          ZEROFS_LOG(kWarn) << "skipping a malformed segment usage record";
          return true;
        }
        stats.segments_examined++;
        if (!Live(*usage) || usage->total_bytes == 0) return true;
        Candidate c{
            *seq, *usage,
            static_cast<double>(usage->live_bytes) / static_cast<double>(usage->total_bytes)};
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
      std::max<std::uint64_t>(ctx_.options.segment_target_bytes, kExtentBytes);
  std::vector<Relocation> group;
  std::uint64_t group_bytes = 0;
  GcPacer pacer(options.rewrite_bytes_per_second, options.max_busy_percent);
  auto commit_group = [&]() -> Status {
    if (group.empty()) return Status::Ok();
    if (options.before_relocate_commit) options.before_relocate_commit();
    ZEROFS_ASSIGN_OR_RETURN(RelocateResult r, pipeline_.CommitRelocations(group));
    ZEROFS_RETURN_IF_ERROR(volume_.Sync(r.batch));
    stats.extents_rewritten += r.moved;
    stats.bytes_rewritten += r.moved_bytes;
    Count(0, 0, 0, r.moved_bytes);
    group.clear();
    group_bytes = 0;
    pacer.AfterWork(r.moved_bytes, [this] { return Stopping(); });
    return Status::Ok();
  };

  std::uint64_t used = 0;
  std::uint64_t done = 0;
  for (const Candidate& c : candidates) {
    if (Stopping()) break;
    if (used > 0 && used + c.usage.live_bytes > budget) break;
    auto meta = ctx_.reader->ReadMeta(c.seq);
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
      ZEROFS_ASSIGN_OR_RETURN(std::optional<segment::ExtentLocation> loc,
                              IndexLocation(*ctx_.db, id));
      if (!loc.has_value() || loc->seq != c.seq || loc->offset != entry.offset) continue;
      refs.push_back({id.inode, id.index, *loc});
    }
    // Read and move them in groups bounded by bytes and extents.
    std::size_t k = 0;
    while (k < refs.size()) {
      std::size_t n = 0;
      std::uint64_t bytes = 0;
      while (k + n < refs.size() && group.size() + n < WritePipeline::kMaxRelocationGroup &&
             (n == 0 || group_bytes + bytes < group_bytes_max)) {
        bytes += refs[k + n].location.plaintext_length;
        ++n;
      }
      ZEROFS_ASSIGN_OR_RETURN(std::vector<std::string> data,
                              ctx_.reader->ReadExtents(std::span(refs.data() + k, n)));
      for (std::size_t j = 0; j < n; ++j) {
        const segment::ExtentRef& ref = refs[k + j];
        group.push_back({{ref.inode, ref.extent_index},
                         ref.location,
                         std::make_shared<const std::string>(std::move(data[j]))});
      }
      group_bytes += bytes;
      k += n;
      if (group.size() >= WritePipeline::kMaxRelocationGroup || group_bytes >= group_bytes_max) {
        ZEROFS_RETURN_IF_ERROR(commit_group());
      }
    }
    used += c.usage.live_bytes;
    stats.segments_compacted++;
    Report(progress, "compact", ++done, candidates.size(), stats);
  }
  return commit_group();
}

}  // namespace zerofs::engine
