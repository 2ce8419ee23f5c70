// CachedExtentReader: the read path of committed extents, through both caches to the bucket.
//
// For each ExtentRef (an extent's (inode, extent index) and where its frame lies), in order:
//   1. the memory cache of plaintext (ExtentCache): a hit costs no I/O and no decryption;
//   2. the disk cache of sealed frames (DiskCache): the frame is opened with
//      segment::OpenExtent, which authenticates it against the AAD of (segment, frame,
//      inode, extent index). An entry that fails to open is the cache's damage, not the
//      volume's: it is deleted and the frame fetched again;
//   3. ranged GETs of segments/<seq>, planned with segment::PlanReads so that the wanted
//      frames of one segment that lie close together come in one GET (bounded by
//      max_gap_bytes and max_get_bytes); several GETs of one call run in parallel, up to
//      max_parallel_fetches.
// Fetched frames go to the disk cache (sealed) and their plaintext to the memory cache.
// A frame from the bucket that fails to open is kCorruption naming the segment and the
// frame; wrong data is never returned. A missing segment is kNotFound; store errors are
// passed on with the segment named. Warm reads (either cache) never touch the store.
//
// Single flight: a frame being read (from the disk cache or the bucket) by one caller is
// registered until its bytes are in; other callers that want it meanwhile wait for that
// read instead of starting their own, whatever else each of them asks for. So 16 threads
// missing on one extent make one GET, and a Read that races a Prefetch of the same frames
// waits for the prefetch's GET rather than issuing another. (This is finer than sharing
// by GET range, which would miss overlapping ranges.)
//
// Read-ahead: Prefetch(refs) takes the next extents of a sequential reader, in file order
// (at most readahead_extents of them). While at least half of them, from the first on, are
// cached or being read, it does nothing, so that a window sliding by one extent per read
// is fetched in batches of about half a window rather than one GET per extent. Otherwise
// it claims, at once, the frames that are neither cached nor being read; a pool of
// prefetch_threads threads then reads them into the caches and drops the results and
// errors (a later Read finds the frames in the caches, or reports the error). A Read that
// wants a claimed frame before the pool got to it performs that prefetch itself, so it
// never waits behind a queue. When the queue (prefetch_queue_max) is full, the oldest
// request is dropped and its claims released. The engine calls Prefetch for sequential
// readers with the next extents of the file; options().readahead_extents is the window.
//
// Ownership: the engine owns the caches and the reader; the caches (either may be null)
// must outlive the reader. The store and key ring are shared.
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "zerofs/cache/disk_cache.h"
#include "zerofs/cache/extent_cache.h"
#include "zerofs/common/result.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/volume_uuid.h"
#include "zerofs/objstore/object_store.h"
#include "zerofs/segment/extent_location.h"

namespace zerofs::cache {

class CachedExtentReaderImpl;

struct CachedReaderOptions {
  // Two wanted frames of one segment share a GET if at most this many unwanted bytes lie
  // between them: a few wasted KiB cost less than another round trip.
  std::uint64_t max_gap_bytes = 64 * 1024;
  // ... and as long as the GET stays within this many bytes.
  std::uint64_t max_get_bytes = 8 * 1024 * 1024;
  // How many extents ahead of a sequential reader to prefetch (the engine's window); also
  // the most one Prefetch call considers.
  std::uint32_t readahead_extents = 64;
  // GETs one ReadMany runs at once.
  std::uint32_t max_parallel_fetches = 4;
  // Threads that run Prefetch requests (0: Prefetch does nothing), and how many requests
  // may wait for them before the oldest is dropped.
  std::uint32_t prefetch_threads = 2;
  std::uint32_t prefetch_queue_max = 16;
};

struct CachedReaderStats {
  std::uint64_t memory_hits = 0;     // frames served by the memory cache
  std::uint64_t disk_hits = 0;       // frames served by the disk cache
  std::uint64_t disk_rejected = 0;   // disk cache entries that failed to open; refetched
  std::uint64_t fetched_frames = 0;  // frames fetched from the bucket
  std::uint64_t gets = 0;            // GET requests made
  std::uint64_t get_bytes = 0;       // bytes those GETs returned
  std::uint64_t shared_frames = 0;   // frames awaited from another caller's read
  std::uint64_t prefetch_requests = 0;
  std::uint64_t prefetch_dropped = 0;  // requests dropped because the queue was full
};

class CachedExtentReader {
 public:
  CachedExtentReader(std::shared_ptr<objstore::ObjectStore> store,
                     std::shared_ptr<const crypto::KeyRing> keys, const crypto::VolumeUuid& uuid,
                     ExtentCache* memory_cache, DiskCache* disk_cache,
                     CachedReaderOptions options = {});
  // Drops queued prefetches and waits for running ones.
  ~CachedExtentReader();

  CachedExtentReader(const CachedExtentReader&) = delete;
  CachedExtentReader& operator=(const CachedExtentReader&) = delete;

  // The plaintext of one extent (exactly location.plaintext_length bytes).
  Result<std::shared_ptr<const std::string>> Read(const segment::ExtentRef& ref);

  // The plaintext of every ref, in the order given (refs may repeat). The first failure,
  // in ref order, fails the call; frames that were read are cached all the same.
  Result<std::vector<std::shared_ptr<const std::string>>> ReadMany(
      std::span<const segment::ExtentRef> refs);

  // Reads `refs` into the caches in the background (see above). Never blocks on I/O.
  void Prefetch(std::span<const segment::ExtentRef> refs);

  // Waits until no prefetch is queued or running; for tests and orderly shutdown.
  void WaitForPrefetches();

  // Forgets every frame of segment `seq` in both caches (the segment was deleted).
  void EraseSegment(std::uint64_t seq);

  CachedReaderStats Stats() const;
  const CachedReaderOptions& options() const;

 private:
  // The in-flight table, the prefetch pool and the read logic (cached_extent_reader.cpp).
  const std::unique_ptr<CachedExtentReaderImpl> impl_;
};

}  // namespace zerofs::cache
