#include "zerofs/cache/cached_extent_reader.h"

#include <algorithm>
#include <utility>

#include "cache/reader_impl.h"
#include "zerofs/segment/extent_location.h"
#include "zerofs/segment/segment_reader.h"

namespace zerofs::cache {

using reader_internal::Describe;
using reader_internal::IdOf;
using reader_internal::SameExtent;

// ---- CachedExtentReader: forwards to the implementation ----

CachedExtentReader::CachedExtentReader(std::shared_ptr<objstore::ObjectStore> store,
                                       std::shared_ptr<const crypto::KeyRing> keys,
                                       const crypto::VolumeUuid& uuid, ExtentCache* memory_cache,
                                       DiskCache* disk_cache, CachedReaderOptions options)
    : impl_(std::make_unique<CachedExtentReaderImpl>(std::move(store), std::move(keys), uuid,
                                                     memory_cache, disk_cache, options)) {}

CachedExtentReader::~CachedExtentReader() = default;

Result<std::shared_ptr<const std::string>> CachedExtentReader::Read(const ExtentRef& ref) {
  ZEROFS_ASSIGN_OR_RETURN(auto data, impl_->Read(std::span(&ref, 1)));
  return std::move(data[0]);
}

Result<std::vector<std::shared_ptr<const std::string>>> CachedExtentReader::ReadMany(
    std::span<const ExtentRef> refs) {
  return impl_->Read(refs);
}

void CachedExtentReader::Prefetch(std::span<const ExtentRef> refs) {
  impl_->Prefetch(refs);
}
void CachedExtentReader::WaitForPrefetches() {
  impl_->WaitForPrefetches();
}
void CachedExtentReader::EraseSegment(std::uint64_t seq) {
  impl_->EraseSegment(seq);
}
CachedReaderStats CachedExtentReader::Stats() const {
  return impl_->Stats();
}
const CachedReaderOptions& CachedExtentReader::options() const {
  return impl_->options();
}

// ---- CachedExtentReaderImpl: planning, waiting, prefetching ----

CachedExtentReaderImpl::CachedExtentReaderImpl(std::shared_ptr<objstore::ObjectStore> store,
                                               std::shared_ptr<const crypto::KeyRing> keys,
                                               const crypto::VolumeUuid& uuid, ExtentCache* memory,
                                               DiskCache* disk, const CachedReaderOptions& options)
    : store_(std::move(store)),
      keys_(std::move(keys)),
      uuid_(uuid),
      memory_(memory),
      disk_(disk),
      options_(options) {
  if (options_.prefetch_threads > 0) {
    pool_ = std::make_unique<PrefetchPool>(options_.prefetch_threads, options_.prefetch_queue_max);
  }
}

CachedExtentReaderImpl::~CachedExtentReaderImpl() {
  // Joins the pool's threads and releases the claims of queued jobs while the table exists.
  pool_.reset();
}

void CachedExtentReaderImpl::Plan(std::span<const ExtentRef> refs,
                                  const std::shared_ptr<PrefetchJob>& job,
                                  std::vector<std::shared_ptr<const std::string>>* out,
                                  Batch& batch) {
  const auto memory_hit = [&](const FrameId& id, const ExtentRef& ref, bool count) {
    std::shared_ptr<const std::string> hit;
    if (memory_ != nullptr) hit = count ? memory_->Lookup(id) : memory_->Peek(id);
    // A size that disagrees with the index is not this extent's plaintext.
    if (hit != nullptr && hit->size() != ref.location.plaintext_length) hit = nullptr;
    if (hit != nullptr && job == nullptr) Count(memory_hits_);
    return hit;
  };

  std::unordered_map<FrameId, std::size_t, FrameIdHash> want_of;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const FrameId id = IdOf(refs[i]);
    if (std::shared_ptr<const std::string> hit = memory_hit(id, refs[i], job == nullptr)) {
      if (out != nullptr) (*out)[i] = std::move(hit);
      continue;
    }
    const auto [it, added] = want_of.emplace(id, batch.wants.size());
    if (added) {
      Want w;
      w.id = id;
      w.ref = &refs[i];
      batch.wants.push_back(std::move(w));
    }
    batch.wants[it->second].slots.push_back(i);
  }
  if (batch.wants.empty()) return;

  std::lock_guard lock(mu_);
  for (Want& w : batch.wants) {
    // It may have arrived since the lookup above.
    if (std::shared_ptr<const std::string> hit = memory_hit(w.id, *w.ref, false)) {
      w.data = std::move(hit);
      continue;
    }
    if (const auto it = in_flight_.find(w.id); it != in_flight_.end()) {
      if (job != nullptr) continue;  // a prefetch leaves it to whoever reads it
      w.claim = it->second;
      batch.theirs.push_back(&w);
      continue;
    }
    w.claim = std::make_shared<Claim>(*w.ref);
    w.claim->job = job;
    in_flight_.emplace(w.id, w.claim);
    batch.mine.push_back(&w);
  }
}

Result<std::vector<std::shared_ptr<const std::string>>> CachedExtentReaderImpl::Read(
    std::span<const ExtentRef> refs) {
  for (const ExtentRef& ref : refs) {
    // The cheap check first: describing every frame would cost more than a warm read.
    if (!segment::ValidateExtentLocation(ref.location, {}).ok()) {
      return segment::ValidateExtentLocation(ref.location, Describe(ref));
    }
  }
  std::vector<std::shared_ptr<const std::string>> out(refs.size());
  Batch batch;
  Plan(refs, nullptr, &out, batch);
  if (batch.wants.empty()) return out;

  // Our own claims first, each completed as soon as its bytes are in.
  if (!batch.mine.empty()) {
    struct Releaser {
      CachedExtentReaderImpl* self;
      const std::vector<Want*>& mine;
      ~Releaser() { self->Abandon(mine); }
    } releaser{this, batch.mine};
    ReadClaimed(batch.mine);
  }

  // Then the frames others read. Prefetches nobody has started yet, we run ourselves
  // rather than wait behind the queue.
  std::vector<std::size_t> retry_slots;
  if (!batch.theirs.empty()) {
    Count(shared_frames_, batch.theirs.size());
    std::vector<std::shared_ptr<PrefetchJob>> jobs;
    {
      std::lock_guard lock(mu_);
      for (const Want* w : batch.theirs) {
        if (auto job = w->claim->job.lock()) jobs.push_back(std::move(job));
      }
    }
    for (const auto& job : jobs) job->Run();
    jobs.clear();
    {
      std::unique_lock lock(mu_);
      claim_done_cv_.wait(lock, [&] {
        return std::all_of(batch.theirs.begin(), batch.theirs.end(),
                           [](const Want* w) { return w->claim->done; });
      });
    }
    for (Want* w : batch.theirs) {
      std::optional<Result<std::shared_ptr<const std::string>>> got = FromOthers(*w);
      if (!got.has_value()) {
        retry_slots.insert(retry_slots.end(), w->slots.begin(), w->slots.end());
      } else if (got->ok()) {
        w->data = std::move(**got);
      } else {
        w->status = got->status();
      }
    }
  }

  // Hand out the results; the first failure in ref order wins.
  std::vector<const Status*> failure_at(refs.size(), nullptr);
  for (const Want& w : batch.wants) {
    for (std::size_t slot : w.slots) {
      if (w.data != nullptr) {
        out[slot] = w.data;
      } else if (w.claim != nullptr) {
        failure_at[slot] = &w.status;
      }
    }
  }
  for (std::size_t slot : retry_slots) failure_at[slot] = nullptr;
  for (const Status* failure : failure_at) {
    if (failure != nullptr) return *failure;
  }
  if (!retry_slots.empty()) {
    // Released unread by their claimant: read them ourselves.
    std::vector<ExtentRef> again;
    for (std::size_t slot : retry_slots) again.push_back(refs[slot]);
    ZEROFS_ASSIGN_OR_RETURN(auto data, Read(again));
    for (std::size_t k = 0; k < retry_slots.size(); ++k) out[retry_slots[k]] = std::move(data[k]);
  }
  return out;
}

std::optional<Result<std::shared_ptr<const std::string>>> CachedExtentReaderImpl::FromOthers(
    const Want& want) {
  Status status;
  std::shared_ptr<const std::string> data;
  std::shared_ptr<const std::string> sealed;
  std::size_t sealed_offset = 0;
  {
    std::lock_guard lock(mu_);
    if (want.claim->abandoned) return std::nullopt;
    status = want.claim->status;
    data = want.claim->data;
    sealed = want.claim->sealed;
    sealed_offset = want.claim->sealed_offset;
  }
  if (SameExtent(want.claim->ref, *want.ref)) {
    if (data != nullptr) return Result<std::shared_ptr<const std::string>>(std::move(data));
    return Result<std::shared_ptr<const std::string>>(std::move(status));
  }
  // The same frame asked for as another extent: only its AAD can say which one is right.
  if (sealed == nullptr) return Result<std::shared_ptr<const std::string>>(std::move(status));
  Result<std::string> opened = segment::OpenExtent(
      *keys_, uuid_, *want.ref,
      std::string_view(*sealed).substr(sealed_offset, want.ref->location.sealed_length));
  if (!opened.ok()) return Result<std::shared_ptr<const std::string>>(opened.status());
  return Result<std::shared_ptr<const std::string>>(
      std::make_shared<const std::string>(std::move(*opened)));
}

void CachedExtentReaderImpl::Prefetch(std::span<const ExtentRef> refs) {
  const bool memory_on = memory_ != nullptr && memory_->enabled();
  if (pool_ == nullptr || (!memory_on && disk_ == nullptr)) return;
  std::vector<ExtentRef> wanted;
  const std::size_t limit = std::min<std::size_t>(refs.size(), options_.readahead_extents);
  wanted.reserve(limit);
  for (const ExtentRef& ref : refs.first(limit)) {
    // Impossible locations are left for a Read to report.
    if (segment::ValidateExtentLocation(ref.location, {}).ok()) wanted.push_back(ref);
  }
  // Read ahead in batches: while at least half of the window ahead of the reader is cached
  // or being read, wait. A window that slides by one extent per read would otherwise cost
  // one GET per extent; this way each GET brings about half a window.
  std::size_t covered = 0;
  {
    std::lock_guard lock(mu_);
    for (const ExtentRef& ref : wanted) {
      const FrameId id = IdOf(ref);
      const bool ready = in_flight_.count(id) != 0 ||
                         (memory_on ? memory_->Peek(id) != nullptr : disk_->Contains(id));
      if (!ready) break;
      ++covered;
    }
  }
  if (covered > 0 && covered * 2 >= wanted.size()) return;
  if (!memory_on) {
    // Only the disk cache to fill: what it holds needs no reading.
    std::erase_if(wanted, [&](const ExtentRef& ref) { return disk_->Contains(IdOf(ref)); });
  }
  auto job = std::make_shared<PrefetchJob>(this, std::move(wanted));
  // In place: readers that find the job through its claims (under mu_) see it whole.
  Plan(job->refs, job, nullptr, job->batch);
  if (job->batch.mine.empty()) return;
  Count(prefetch_requests_);
  // The pool holds the only other reference: a dropped job releases its claims.
  Count(prefetch_dropped_, pool_->Submit([job] { job->Run(); }));
}

void CachedExtentReaderImpl::WaitForPrefetches() {
  if (pool_ != nullptr) pool_->WaitIdle();
}

void CachedExtentReaderImpl::EraseSegment(std::uint64_t seq) {
  if (memory_ != nullptr) memory_->EraseSegment(seq);
  if (disk_ != nullptr) disk_->EraseSegment(seq);
}

CachedReaderStats CachedExtentReaderImpl::Stats() const {
  const auto get = [](const std::atomic<std::uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
  };
  CachedReaderStats s;
  s.memory_hits = get(memory_hits_);
  s.disk_hits = get(disk_hits_);
  s.disk_rejected = get(disk_rejected_);
  s.fetched_frames = get(fetched_frames_);
  s.gets = get(gets_);
  s.get_bytes = get(get_bytes_);
  s.shared_frames = get(shared_frames_);
  s.prefetch_requests = get(prefetch_requests_);
  s.prefetch_dropped = get(prefetch_dropped_);
  return s;
}

}  // namespace zerofs::cache
