#include "zerofs/cache/extent_cache.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <list>
#include <map>
#include <random>
#include <thread>

using namespace zerofs;
using cache::ExtentCache;
using cache::FrameId;

namespace {

constexpr std::uint64_t kOverhead = ExtentCache::kEntryOverheadBytes;

std::shared_ptr<const std::string> Value(std::size_t size, char fill) {
  return std::make_shared<const std::string>(size, fill);
}

// The value a test stores for `id`: its bytes name the frame, so a lookup that returns
// another frame's value is caught.
std::shared_ptr<const std::string> ValueFor(const FrameId& id, std::size_t size) {
  std::string v = std::to_string(id.seq) + ":" + std::to_string(id.offset) + ":";
  v.resize(std::max(size, v.size()), '.');
  return std::make_shared<const std::string>(std::move(v));
}

}  // namespace

TEST_CASE("ExtentCache evicts the least recently used entry and stays within its bytes") {
  // Room for exactly four values of 1000 bytes in one shard.
  ExtentCache cache(4 * (1000 + kOverhead), 1);
  REQUIRE(cache.shard_count() == 1);
  for (std::uint64_t i = 0; i < 4; ++i) cache.Insert({1, i * 1000}, Value(1000, 'a'));
  CHECK(cache.Stats().entries == 4);
  CHECK(cache.Stats().bytes == cache.capacity_bytes());

  // Using frame 0 makes frame 1000 the least recently used.
  REQUIRE(cache.Lookup({1, 0}) != nullptr);
  cache.Insert({1, 4000}, Value(1000, 'b'));
  CHECK(cache.Lookup({1, 1000}) == nullptr);
  CHECK(cache.Lookup({1, 0}) != nullptr);
  CHECK(cache.Lookup({1, 2000}) != nullptr);
  CHECK(cache.Lookup({1, 3000}) != nullptr);
  CHECK(*cache.Lookup({1, 4000}) == std::string(1000, 'b'));

  // A value twice as large pushes out the two least recently used: 0 and 2000.
  cache.Insert({2, 48}, Value(2000 + kOverhead, 'c'));
  CHECK(cache.Lookup({1, 0}) == nullptr);
  CHECK(cache.Lookup({1, 2000}) == nullptr);
  CHECK(cache.Lookup({1, 3000}) != nullptr);

  const cache::ExtentCacheStats s = cache.Stats();
  CHECK(s.evictions == 3);
  CHECK(s.entries == 3);
  CHECK(s.bytes <= cache.capacity_bytes());
  CHECK(s.inserts == 6);
}

TEST_CASE("ExtentCache replaces, erases and drops whole segments") {
  ExtentCache cache(1 << 20, 1);
  cache.Insert({1, 48}, Value(100, 'a'));
  cache.Insert({1, 48}, Value(300, 'b'));
  CHECK(*cache.Lookup({1, 48}) == std::string(300, 'b'));
  CHECK(cache.Stats().bytes == 300 + kOverhead);
  CHECK(cache.Stats().entries == 1);

  for (std::uint64_t seq = 2; seq <= 4; ++seq) {
    for (std::uint64_t off = 0; off < 10; ++off) cache.Insert({seq, off}, Value(10, 'x'));
  }
  cache.EraseSegment(3);
  CHECK(cache.Stats().entries == 21);
  CHECK(cache.Lookup({3, 5}) == nullptr);
  CHECK(cache.Lookup({2, 5}) != nullptr);
  CHECK(cache.Lookup({4, 9}) != nullptr);

  cache.Erase({1, 48});
  CHECK(cache.Lookup({1, 48}) == nullptr);
  CHECK(cache.Stats().bytes == 20 * (10 + kOverhead));

  // A value handed out stays valid after the cache lets go of it.
  std::shared_ptr<const std::string> held = cache.Lookup({2, 0});
  cache.Clear();
  CHECK(cache.Stats().entries == 0);
  CHECK(cache.Stats().bytes == 0);
  CHECK(*held == "xxxxxxxxxx");
}

TEST_CASE("ExtentCache skips values that cannot fit, and capacity 0 disables it") {
  ExtentCache small(1000, 1);
  small.Insert({1, 1}, Value(1000, 'a'));  // 1000 + overhead > 1000
  CHECK(small.Lookup({1, 1}) == nullptr);
  CHECK(small.Stats().entries == 0);

  ExtentCache off(0);
  CHECK_FALSE(off.enabled());
  off.Insert({1, 1}, Value(1, 'a'));
  CHECK(off.Lookup({1, 1}) == nullptr);
  CHECK(off.Stats().bytes == 0);
}

TEST_CASE("ExtentCache uses fewer shards when small, so each holds several extents") {
  CHECK(ExtentCache(1 << 20).shard_count() == 1);
  CHECK(ExtentCache(8 * ExtentCache::kMinShardBytes).shard_count() == 8);
  CHECK(ExtentCache(256ULL << 20).shard_count() == 16);
  CHECK(ExtentCache(256ULL << 20, 4).shard_count() == 4);
  // Shares of the capacity add up to it exactly.
  ExtentCache odd(16 * ExtentCache::kMinShardBytes + 7);
  CHECK(odd.capacity_bytes() == 16 * ExtentCache::kMinShardBytes + 7);
}

TEST_CASE("ExtentCache matches a model LRU under random operations") {
  const auto seed = Catch::rngSeed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const std::uint64_t capacity = 20'000;
  ExtentCache cache(capacity, 1);

  // The model: an LRU list of (id, charge), front most recent.
  std::list<std::pair<FrameId, std::uint64_t>> model;
  std::uint64_t model_bytes = 0;
  const auto model_find = [&](const FrameId& id) {
    return std::find_if(model.begin(), model.end(), [&](const auto& e) { return e.first == id; });
  };
  for (int step = 0; step < 20'000; ++step) {
    CAPTURE(step);
    const FrameId id{rng() % 3, rng() % 40};
    const auto op = rng() % 10;
    if (op < 5) {
      auto it = model_find(id);
      std::shared_ptr<const std::string> got = cache.Lookup(id);
      REQUIRE((got != nullptr) == (it != model.end()));
      if (it != model.end()) {
        REQUIRE(*got == *ValueFor(id, it->second - kOverhead));
        model.splice(model.begin(), model, it);
      }
    } else if (op < 9) {
      const std::size_t size = 20 + rng() % 3000;
      std::shared_ptr<const std::string> value = ValueFor(id, size);
      const std::uint64_t charge = value->size() + kOverhead;
      if (auto it = model_find(id); it != model.end()) {
        model_bytes -= it->second;
        model.erase(it);
      }
      if (charge <= capacity) {
        while (model_bytes + charge > capacity) {
          model_bytes -= model.back().second;
          model.pop_back();
        }
        model.emplace_front(id, charge);
        model_bytes += charge;
      }
      cache.Insert(id, value);
    } else {
      if (auto it = model_find(id); it != model.end()) {
        model_bytes -= it->second;
        model.erase(it);
      }
      cache.Erase(id);
    }
    const cache::ExtentCacheStats s = cache.Stats();
    REQUIRE(s.bytes == model_bytes);
    REQUIRE(s.entries == model.size());
    REQUIRE(s.bytes <= capacity);
  }
}

TEST_CASE("ExtentCache stays consistent and bounded with many threads on its shards") {
  const auto seed = Catch::rngSeed();
  CAPTURE(seed);
  const std::uint64_t capacity = 16 * ExtentCache::kMinShardBytes;
  ExtentCache cache(capacity);
  REQUIRE(cache.shard_count() == 16);
  constexpr int kThreads = 8;
  constexpr int kOps = 20'000;
  std::atomic<bool> wrong{false};
  std::atomic<std::uint64_t> lookups{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(t));
      for (int i = 0; i < kOps; ++i) {
        // 4096 frames of about 32 KiB: twice what fits, so shards evict all the time.
        const FrameId id{rng() % 16, (rng() % 256) * 32768};
        if (rng() % 3 == 0) {
          cache.Insert(id, ValueFor(id, 32 * 1024));
        } else {
          lookups.fetch_add(1);
          std::shared_ptr<const std::string> got = cache.Lookup(id);
          if (got != nullptr && *got != *ValueFor(id, 32 * 1024)) wrong = true;
        }
        if (i % 5000 == 0) cache.EraseSegment(rng() % 16);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK_FALSE(wrong);
  const cache::ExtentCacheStats s = cache.Stats();
  CHECK(s.hits + s.misses == lookups.load());
  CHECK(s.bytes <= capacity);
  CHECK(s.bytes == s.entries * (32 * 1024 + kOverhead));
  CHECK(s.evictions > 0);
  CHECK(s.hits > 0);
}
