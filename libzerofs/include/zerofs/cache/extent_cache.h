// ExtentCache: the memory cache of plaintext extents, least-recently-used, bounded in bytes.
//
// The first stop of every read of a committed extent (DESIGN §4): a hit costs a hash lookup
// and a shared_ptr copy, no decryption and no I/O. Keys are FrameIds (frame_id.h); values
// are immutable plaintext strings shared with readers, so a value handed out stays valid
// after it is evicted (the reader holds a reference; that memory is the reader's, not the
// cache's).
//
// Memory bound: each entry is charged its value's size plus kEntryOverheadBytes (list node,
// hash node, control block), and the charges never exceed the capacity. The cache is split
// into shards, each with its own mutex, LRU list and an equal share of the capacity, so that
// readers on many threads rarely contend; a frame's shard is chosen by hashing its FrameId.
// LRU order is kept per shard (as LevelDB's ShardedLRUCache does), which approximates a
// global order. Small caches use fewer shards, so that each shard holds at least
// kMinShardBytes and eviction stays close to global LRU. A value larger than a shard's
// capacity is not cached. A capacity of 0 disables the cache: Insert does nothing and
// Lookup always misses.
//
// Ownership: the engine owns one ExtentCache per volume (capacity from cache.memory_mb) and
// lends it to the CachedExtentReader.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "zerofs/cache/frame_id.h"

namespace zerofs::cache {

struct ExtentCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t inserts = 0;    // values stored (a replaced value counts again)
  std::uint64_t evictions = 0;  // entries pushed out to make room (not Erase/EraseSegment)
  std::uint64_t bytes = 0;      // charged bytes now held, overhead included
  std::uint64_t entries = 0;
  std::uint64_t capacity_bytes = 0;
};

class ExtentCache {
 public:
  // Charged per entry on top of the value's bytes.
  static constexpr std::uint64_t kEntryOverheadBytes = 128;
  static constexpr std::size_t kDefaultShards = 16;
  static constexpr std::uint64_t kMinShardBytes = 4ULL << 20;

  // `shards` is an upper bound (at least 1); see above for small capacities.
  explicit ExtentCache(std::uint64_t capacity_bytes, std::size_t shards = kDefaultShards);
  ~ExtentCache();

  ExtentCache(const ExtentCache&) = delete;
  ExtentCache& operator=(const ExtentCache&) = delete;

  // The value of `id`, made most recently used; null on a miss.
  std::shared_ptr<const std::string> Lookup(const FrameId& id);
  // As Lookup, but neither counts in the stats nor changes the LRU order.
  std::shared_ptr<const std::string> Peek(const FrameId& id) const;

  // Stores `value` (not null) as the most recently used entry, replacing any value of
  // `id`, then evicts least recently used entries of the shard until it fits.
  void Insert(const FrameId& id, std::shared_ptr<const std::string> value);

  void Erase(const FrameId& id);
  // Drops every frame of segment `seq` (the segment was deleted). Visits every shard.
  void EraseSegment(std::uint64_t seq);
  void Clear();

  ExtentCacheStats Stats() const;
  std::uint64_t capacity_bytes() const { return capacity_bytes_; }
  std::size_t shard_count() const { return shards_.size(); }
  bool enabled() const { return capacity_bytes_ > 0; }

 private:
  struct Entry {
    FrameId id;
    std::shared_ptr<const std::string> value;
    std::uint64_t charge = 0;
  };
  using LruList = std::list<Entry>;  // front: most recently used

  struct Shard {
    std::uint64_t capacity_bytes = 0;
    mutable std::mutex mu;
    LruList lru;                                                        // GUARDED_BY(mu)
    std::unordered_map<FrameId, LruList::iterator, FrameIdHash> index;  // GUARDED_BY(mu)
    std::uint64_t bytes = 0;                                            // GUARDED_BY(mu)
    std::uint64_t hits = 0;                                             // GUARDED_BY(mu)
    std::uint64_t misses = 0;                                           // GUARDED_BY(mu)
    std::uint64_t inserts = 0;                                          // GUARDED_BY(mu)
    std::uint64_t evictions = 0;                                        // GUARDED_BY(mu)

    // Unlinks `it`; requires mu.
    void Remove(LruList::iterator it);
  };

  Shard& ShardFor(const FrameId& id) const;

  const std::uint64_t capacity_bytes_;
  // Fixed at construction; each Shard guards itself.
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace zerofs::cache
