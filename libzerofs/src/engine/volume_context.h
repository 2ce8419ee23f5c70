// VolumeContext: what every part of an open volume reads and none of them owns alone — the
// options, the volume key, the store, the local index and the readers and caches in front
// of the bucket (docs/architecture.md "The engine's parts").
//
// Ownership: VolumeImpl owns the context; Recovery fills it while the volume opens, before
// any part starts a thread; from then until Close the pointers do not change, so the parts
// read them without a lock. The objects they point at are thread-safe themselves (IndexDb,
// SegmentReader, the caches, the stores). Close resets them only after every thread of
// every part has stopped.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "zerofs/cache/cached_extent_reader.h"
#include "zerofs/cache/disk_cache.h"
#include "zerofs/cache/extent_cache.h"
#include "zerofs/crypto/volume_key.h"
#include "zerofs/engine/volume.h"
#include "zerofs/index/index_db.h"
#include "zerofs/objstore/retrying_store.h"
#include "zerofs/segment/segment_reader.h"

namespace zerofs::engine {

struct VolumeContext {
  explicit VolumeContext(VolumeOptions opts) : options(std::move(opts)) {}

  VolumeOptions options;
  std::filesystem::path cache_dir;
  bool owns_cache_dir = false;
  crypto::VolumeKey key;
  // options.store with the segment uploads' retry budget (upload_attempts).
  std::shared_ptr<objstore::RetryingStore> upload_store;
  std::unique_ptr<index::IndexDb> db;
  std::unique_ptr<segment::SegmentReader> reader;
  std::unique_ptr<cache::ExtentCache> extent_cache;
  std::unique_ptr<cache::DiskCache> disk_cache;
  std::unique_ptr<cache::CachedExtentReader> cached_reader;

  bool read_only() const { return options.mode == OpenMode::kReadOnly; }
  objstore::ObjectStore& store() const { return *options.store; }
};

// The steady clock in milliseconds, for intervals and grace periods.
inline std::uint64_t SteadyNowMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace zerofs::engine
