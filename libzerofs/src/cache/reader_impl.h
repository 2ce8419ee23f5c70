// The machinery behind CachedExtentReader (zerofs/cache/cached_extent_reader.h): the table
// of frames in flight, the claims in it, and prefetch requests. Internal to libzerofs; the
// read logic is split over cached_extent_reader.cpp (planning, waiting, prefetching) and
// claimed_reads.cpp (reading claimed frames from the disk cache or the bucket).
//
// How a call proceeds: Plan() serves memory hits, groups the other refs by frame, and under
// mu_ claims every frame that nobody reads yet (a Claim in in_flight_); frames that someone
// else claimed are joined instead. The caller then reads its own claims (ReadClaimed),
// completing each as soon as its bytes are in, and only then waits for the claims it
// joined, so two callers can never wait for each other. A claim that is released unread
// (a dropped prefetch, or an exception) is marked abandoned and its waiters read the frame
// themselves.
//
// Thread-safety: CachedExtentReaderImpl is fully thread-safe; Claims are guarded by its
// mu_; a Batch belongs to the call (or prefetch job) that made it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/prefetch_pool.h"
#include "zerofs/cache/cached_extent_reader.h"
#include "zerofs/format.h"
#include "zerofs/segment/segment_format.h"

namespace zerofs::cache {

namespace reader_internal {

using segment::ExtentRef;

inline FrameId IdOf(const ExtentRef& ref) {
  return FrameId{ref.location.seq, ref.location.offset};
}

inline bool SameExtent(const ExtentRef& a, const ExtentRef& b) {
  return a.inode == b.inode && a.extent_index == b.extent_index && a.location == b.location;
}

// "segments/000000000000002a: extent frame 3 (inode 7, extent 0)", for errors.
inline std::string Describe(const ExtentRef& ref) {
  return segment::DescribeFrame(format::SegmentObjectName(ref.location.seq),
                                format::FrameKind::kExtent, ref.location.frame_index, ref.inode,
                                ref.extent_index);
}

struct PrefetchJob;

// A frame being read by the caller that claimed it; others wait until it is done.
// Every mutable member is GUARDED_BY(CachedExtentReaderImpl::mu_).
struct Claim {
  explicit Claim(const ExtentRef& r) : ref(r) {}
  const ExtentRef ref;  // as the claimant opens it
  bool done = false;
  // Released unread (a dropped prefetch): waiters read the frame themselves.
  bool abandoned = false;
  Status status;                            // the failure, if data is null
  std::shared_ptr<const std::string> data;  // plaintext
  // The sealed frame, so that a waiter asking for it as another (inode, extent) can open it
  // itself; null if it was never read.
  std::shared_ptr<const std::string> sealed;
  std::size_t sealed_offset = 0;
  std::weak_ptr<PrefetchJob> job;  // the prefetch that claimed it, if one did
};

// One distinct frame of a call.
struct Want {
  FrameId id;
  const ExtentRef* ref = nullptr;           // the first ref that asks for it
  std::vector<std::size_t> slots;           // every ref that asks for it
  std::shared_ptr<Claim> claim;             // ours or another caller's; null when served at once
  std::shared_ptr<const std::string> data;  // the result, once known
  Status status;
};

struct Outcome {
  Status status;
  std::shared_ptr<const std::string> data;
  std::shared_ptr<const std::string> sealed;
  std::size_t sealed_offset = 0;
};

// The frames of one call: those it reads itself and those others read.
struct Batch {
  std::vector<Want> wants;
  std::vector<Want*> mine;
  std::vector<Want*> theirs;
};

}  // namespace reader_internal

using reader_internal::Batch;
using reader_internal::Claim;
using reader_internal::Outcome;
using reader_internal::PrefetchJob;
using reader_internal::Want;
using segment::ExtentRef;

class CachedExtentReaderImpl {
 public:
  CachedExtentReaderImpl(std::shared_ptr<objstore::ObjectStore> store,
                         std::shared_ptr<const crypto::KeyRing> keys,
                         const crypto::VolumeUuid& uuid, ExtentCache* memory, DiskCache* disk,
                         const CachedReaderOptions& options);
  ~CachedExtentReaderImpl();

  Result<std::vector<std::shared_ptr<const std::string>>> Read(std::span<const ExtentRef> refs);
  void Prefetch(std::span<const ExtentRef> refs);
  void WaitForPrefetches();
  void EraseSegment(std::uint64_t seq);
  CachedReaderStats Stats() const;
  const CachedReaderOptions& options() const { return options_; }

  // Reads the frames of `mine` (claimed by the caller) from the disk cache or the bucket
  // and completes their claims.
  void ReadClaimed(const std::vector<Want*>& mine);
  // Completes every claim of `mine` not completed yet as abandoned, so that no waiter
  // waits forever; for every path out of a read, and for prefetches that never ran.
  void Abandon(const std::vector<Want*>& mine);

 private:
  // Looks `refs` up in memory, groups the rest by frame into `batch` (empty) and claims
  // those nobody reads. `job` is the prefetch making the claims (null for a read); a
  // prefetch skips frames others read, a read joins them. Memory hits go to (*out)[i] when
  // `out` is set.
  void Plan(std::span<const ExtentRef> refs, const std::shared_ptr<PrefetchJob>& job,
            std::vector<std::shared_ptr<const std::string>>* out, Batch& batch);
  // One GET of [offset, offset + length) of segment `seq`, opened into one outcome per
  // member of `wants`.
  std::vector<Outcome> FetchRun(std::uint64_t seq, std::uint64_t offset, std::uint64_t length,
                                const std::vector<Want*>& wants);
  // Publishes outcomes of claimed frames: plaintext to the memory cache, then to the
  // claims, waking their waiters.
  void Complete(std::span<Want* const> wants, std::span<const Outcome> outcomes);
  // The result of a frame another caller read; std::nullopt if it was abandoned.
  std::optional<Result<std::shared_ptr<const std::string>>> FromOthers(const Want& want);

  static void Count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }

  const std::shared_ptr<objstore::ObjectStore> store_;
  const std::shared_ptr<const crypto::KeyRing> keys_;
  const crypto::VolumeUuid uuid_;
  ExtentCache* const memory_;
  DiskCache* const disk_;
  const CachedReaderOptions options_;

  std::mutex mu_;
  std::condition_variable claim_done_cv_;  // some claim completed
  // Frames being read now, by whoever claimed them first.
  std::unordered_map<FrameId, std::shared_ptr<Claim>, FrameIdHash> in_flight_;  // GUARDED_BY(mu_)

  mutable std::atomic<std::uint64_t> memory_hits_{0}, disk_hits_{0}, disk_rejected_{0},
      fetched_frames_{0}, gets_{0}, get_bytes_{0}, shared_frames_{0}, prefetch_requests_{0},
      prefetch_dropped_{0};

  // Destroyed first (see ~CachedExtentReaderImpl): its tasks use everything above.
  std::unique_ptr<PrefetchPool> pool_;
};

namespace reader_internal {

// A Prefetch request: its claims are made when it is queued and released when it is
// destroyed, whether it ran or was dropped from the queue.
struct PrefetchJob {
  PrefetchJob(CachedExtentReaderImpl* r, std::vector<ExtentRef> extents)
      : reader(r), refs(std::move(extents)) {}
  PrefetchJob(const PrefetchJob&) = delete;
  PrefetchJob& operator=(const PrefetchJob&) = delete;
  ~PrefetchJob() { reader->Abandon(batch.mine); }

  // Runs once, on a pool thread or on a reader that needs the frames first.
  void Run() {
    if (!started.exchange(true)) reader->ReadClaimed(batch.mine);
  }

  CachedExtentReaderImpl* const reader;
  const std::vector<ExtentRef> refs;
  Batch batch;  // refers into `refs`; filled by Plan under mu_, then only read
  std::atomic<bool> started{false};
};

}  // namespace reader_internal

}  // namespace zerofs::cache
