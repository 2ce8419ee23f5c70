// CachedExtentReaderImpl, second half: reading the frames a caller claimed, from the disk
// cache or with ranged GETs, and publishing them to the caches and to waiters.
#include <algorithm>
#include <thread>
#include <utility>

#include "cache/reader_impl.h"
#include "zerofs/common/log.h"
#include "zerofs/segment/segment_reader.h"

namespace zerofs::cache {

using reader_internal::Describe;

namespace {

// Runs fn(0) .. fn(n - 1) on the calling thread and up to `parallel - 1` helper threads.
template <typename Fn>
void ParallelFor(std::size_t n, std::size_t parallel, const Fn& fn) {
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> helpers;
  const std::size_t wanted = n == 0 ? 0 : std::min(n, std::max<std::size_t>(parallel, 1)) - 1;
  for (std::size_t i = 0; i < wanted; ++i) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // out of threads: fewer helpers, same result
    }
  }
  work();
  for (std::thread& t : helpers) t.join();
}

}  // namespace

void CachedExtentReaderImpl::ReadClaimed(const std::vector<Want*>& mine) {
  std::vector<Want*> to_fetch;
  if (disk_ == nullptr) {
    to_fetch = mine;
  } else {
    std::vector<Want*> hits;
    std::vector<Outcome> outcomes;
    for (Want* w : mine) {
      Result<std::optional<std::string>> got = disk_->Lookup(w->id);
      if (!got.ok() || !got->has_value()) {
        to_fetch.push_back(w);
        continue;
      }
      auto sealed = std::make_shared<const std::string>(std::move(**got));
      Result<std::string> opened = segment::OpenExtent(*keys_, uuid_, *w->ref, *sealed);
      if (!opened.ok()) {
        // The cache's damage (or another volume's entry), not the volume's: fetch again.
        Count(disk_rejected_);
        ZEROFS_LOG(kDebug) << "disk cache entry rejected, fetching again: "
                           << opened.status().message();
        disk_->Erase(w->id);
        to_fetch.push_back(w);
        continue;
      }
      Count(disk_hits_);
      hits.push_back(w);
      outcomes.push_back(Outcome{Status::Ok(),
                                 std::make_shared<const std::string>(std::move(*opened)),
                                 std::move(sealed), 0});
    }
    if (!hits.empty()) Complete(hits, outcomes);
  }
  if (to_fetch.empty()) return;

  std::vector<segment::ExtentLocation> locations;
  locations.reserve(to_fetch.size());
  for (const Want* w : to_fetch) locations.push_back(w->ref->location);
  const std::vector<segment::ReadRun> runs =
      segment::PlanReads(locations, options_.max_gap_bytes, options_.max_get_bytes);
  ParallelFor(runs.size(), options_.max_parallel_fetches, [&](std::size_t r) {
    const segment::ReadRun& run = runs[r];
    std::vector<Want*> members;
    members.reserve(run.members.size());
    for (std::size_t i : run.members) members.push_back(to_fetch[i]);
    std::vector<Outcome> outcomes = FetchRun(run.seq, run.offset, run.length, members);
    Complete(members, outcomes);
    // After the waiters are released: the disk cache is for later reads and restarts.
    if (disk_ == nullptr) return;
    for (std::size_t k = 0; k < members.size(); ++k) {
      const Outcome& o = outcomes[k];
      if (o.data == nullptr) continue;
      disk_->Insert(members[k]->id, std::string_view(*o.sealed).substr(
                                        o.sealed_offset, members[k]->ref->location.sealed_length));
    }
  });
}

std::vector<Outcome> CachedExtentReaderImpl::FetchRun(std::uint64_t seq, std::uint64_t offset,
                                                      std::uint64_t length,
                                                      const std::vector<Want*>& wants) {
  std::vector<Outcome> outcomes(wants.size());
  const std::string name = format::SegmentObjectName(seq);
  const std::string range = "bytes " + std::to_string(offset) + "+" + std::to_string(length);
  Count(gets_);
  Result<objstore::GetResult> got = store_->Get(name, objstore::ByteRange{offset, length});
  Status failure;
  if (!got.ok()) {
    // A range past the end means the object is shorter than the index says.
    failure = got.status().code() == StatusCode::kInvalidArgument
                  ? Status::Corruption(name + ": " + range + " lie outside the object (" +
                                       got.status().message() + ")")
                  : got.status().WithContext("reading " + range + " of " + name);
  } else {
    Count(get_bytes_, got->data.size());
    if (got->data.size() != length) {
      failure = Status::Corruption(name + ": object ends before byte " +
                                   std::to_string(offset + length) + " (truncated?)");
    }
  }
  if (!failure.ok()) {
    if (failure.code() == StatusCode::kCorruption) ZEROFS_LOG(kError) << failure.message();
    for (Outcome& o : outcomes) o.status = failure;
    return outcomes;
  }
  auto bytes = std::make_shared<const std::string>(std::move(got->data));
  const std::string_view view = *bytes;
  for (std::size_t k = 0; k < wants.size(); ++k) {
    const segment::ExtentRef& ref = *wants[k]->ref;
    const std::size_t at = ref.location.offset - offset;
    Result<std::string> opened =
        segment::OpenExtent(*keys_, uuid_, ref, view.substr(at, ref.location.sealed_length));
    if (!opened.ok()) {
      ZEROFS_LOG(kError) << opened.status().message();
      outcomes[k].status = opened.status();
      continue;
    }
    Count(fetched_frames_);
    outcomes[k].data = std::make_shared<const std::string>(std::move(*opened));
    outcomes[k].sealed = bytes;
    outcomes[k].sealed_offset = at;
  }
  return outcomes;
}

void CachedExtentReaderImpl::Complete(std::span<Want* const> wants,
                                      std::span<const Outcome> outcomes) {
  // Into the memory cache before the claims go: a caller arriving in between finds it there.
  if (memory_ != nullptr) {
    for (std::size_t k = 0; k < wants.size(); ++k) {
      if (outcomes[k].data != nullptr) memory_->Insert(wants[k]->id, outcomes[k].data);
    }
  }
  {
    std::lock_guard lock(mu_);
    for (std::size_t k = 0; k < wants.size(); ++k) {
      Want& w = *wants[k];
      const Outcome& o = outcomes[k];
      w.data = o.data;
      w.status = o.status;
      Claim& claim = *w.claim;
      // Copies: the caller still writes the sealed bytes to the disk cache.
      claim.status = o.status;
      claim.data = o.data;
      claim.sealed = o.sealed;
      claim.sealed_offset = o.sealed_offset;
      claim.done = true;
      const auto it = in_flight_.find(w.id);
      if (it != in_flight_.end() && it->second == w.claim) in_flight_.erase(it);
    }
  }
  claim_done_cv_.notify_all();
}

void CachedExtentReaderImpl::Abandon(const std::vector<Want*>& mine) {
  bool released = false;
  {
    std::lock_guard lock(mu_);
    for (Want* w : mine) {
      Claim& claim = *w->claim;
      if (claim.done) continue;
      released = true;
      claim.status = Status::Cancelled(Describe(*w->ref) + ": read abandoned");
      claim.abandoned = true;
      claim.done = true;
      const auto it = in_flight_.find(w->id);
      if (it != in_flight_.end() && it->second == w->claim) in_flight_.erase(it);
    }
  }
  if (released) claim_done_cv_.notify_all();
}

}  // namespace zerofs::cache
