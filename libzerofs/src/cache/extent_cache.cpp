#include "zerofs/cache/extent_cache.h"

#include <algorithm>
#include <utility>

namespace zerofs::cache {

namespace {

std::size_t ShardCountFor(std::uint64_t capacity_bytes, std::size_t max_shards) {
  const std::uint64_t by_size = capacity_bytes / ExtentCache::kMinShardBytes;
  const std::uint64_t wanted = std::min<std::uint64_t>(std::max<std::size_t>(max_shards, 1),
                                                       std::max<std::uint64_t>(by_size, 1));
  return wanted;
}

}  // namespace

void ExtentCache::Shard::Remove(LruList::iterator it) {
  bytes -= it->charge;
  index.erase(it->id);
  lru.erase(it);
}

ExtentCache::ExtentCache(std::uint64_t capacity_bytes, std::size_t shards)
    : capacity_bytes_(capacity_bytes) {
  const std::size_t count = ShardCountFor(capacity_bytes, shards);
  shards_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto shard = std::make_unique<Shard>();
    // Shares add up to the capacity exactly: the first `rest` shards take one byte more.
    const std::uint64_t rest = capacity_bytes % count;
    shard->capacity_bytes = capacity_bytes / count + (i < rest ? 1 : 0);
    shards_.push_back(std::move(shard));
  }
}

ExtentCache::~ExtentCache() = default;

ExtentCache::Shard& ExtentCache::ShardFor(const FrameId& id) const {
  // The high bits: the low ones also pick buckets inside the shard's hash map.
  const std::uint64_t h = MixFrameId(id) >> 32;
  return *shards_[h % shards_.size()];
}

std::shared_ptr<const std::string> ExtentCache::Lookup(const FrameId& id) {
  if (!enabled()) return nullptr;
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  const auto found = shard.index.find(id);
  if (found == shard.index.end()) {
    ++shard.misses;
    return nullptr;
  }
  ++shard.hits;
  shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  return found->second->value;
}

std::shared_ptr<const std::string> ExtentCache::Peek(const FrameId& id) const {
  if (!enabled()) return nullptr;
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  const auto found = shard.index.find(id);
  return found == shard.index.end() ? nullptr : found->second->value;
}

void ExtentCache::Insert(const FrameId& id, std::shared_ptr<const std::string> value) {
  if (!enabled() || value == nullptr) return;
  Shard& shard = ShardFor(id);
  const std::uint64_t charge = value->size() + kEntryOverheadBytes;
  // Dropped values are released after the lock, so a large free never blocks the shard.
  std::vector<std::shared_ptr<const std::string>> dropped;
  std::lock_guard lock(shard.mu);
  if (const auto found = shard.index.find(id); found != shard.index.end()) {
    dropped.push_back(std::move(found->second->value));
    shard.Remove(found->second);
  }
  if (charge > shard.capacity_bytes) return;
  while (shard.bytes + charge > shard.capacity_bytes && !shard.lru.empty()) {
    auto victim = std::prev(shard.lru.end());
    dropped.push_back(std::move(victim->value));
    shard.Remove(victim);
    ++shard.evictions;
  }
  shard.lru.push_front(Entry{id, std::move(value), charge});
  shard.index.emplace(id, shard.lru.begin());
  shard.bytes += charge;
  ++shard.inserts;
}

void ExtentCache::Erase(const FrameId& id) {
  if (!enabled()) return;
  Shard& shard = ShardFor(id);
  std::shared_ptr<const std::string> dropped;
  std::lock_guard lock(shard.mu);
  if (const auto found = shard.index.find(id); found != shard.index.end()) {
    dropped = std::move(found->second->value);
    shard.Remove(found->second);
  }
}

void ExtentCache::EraseSegment(std::uint64_t seq) {
  for (const auto& shard : shards_) {
    std::vector<std::shared_ptr<const std::string>> dropped;
    std::lock_guard lock(shard->mu);
    for (auto it = shard->lru.begin(); it != shard->lru.end();) {
      const auto next = std::next(it);
      if (it->id.seq == seq) {
        dropped.push_back(std::move(it->value));
        shard->Remove(it);
      }
      it = next;
    }
  }
}

void ExtentCache::Clear() {
  for (const auto& shard : shards_) {
    LruList dropped;
    std::lock_guard lock(shard->mu);
    shard->index.clear();
    dropped.swap(shard->lru);
    shard->bytes = 0;
  }
}

ExtentCacheStats ExtentCache::Stats() const {
  ExtentCacheStats out;
  out.capacity_bytes = capacity_bytes_;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    out.hits += shard->hits;
    out.misses += shard->misses;
    out.inserts += shard->inserts;
    out.evictions += shard->evictions;
    out.bytes += shard->bytes;
    out.entries += shard->index.size();
  }
  return out;
}

}  // namespace zerofs::cache
