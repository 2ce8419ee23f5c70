#include "zerofs/cache/disk_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <random>

#include "cache/disk_cache_entry.h"
#include "cache_test_util.h"

using namespace zerofs;
using cache::DiskCache;
using cache::FrameId;
using testing::TempDir;

namespace {

std::unique_ptr<DiskCache> OpenCache(const std::filesystem::path& dir, std::uint64_t capacity) {
  Result<std::unique_ptr<DiskCache>> cache = DiskCache::Open(dir, capacity);
  INFO(cache.status().ToString());
  REQUIRE(cache.ok());
  return std::move(*cache);
}

std::optional<std::string> Get(DiskCache& cache, const FrameId& id) {
  Result<std::optional<std::string>> got = cache.Lookup(id);
  REQUIRE(got.ok());
  return *got;
}

std::string Frame(const FrameId& id, std::size_t size) {
  return testing::RandomBytes(size, static_cast<std::uint32_t>(id.seq * 7919 + id.offset));
}

// Charge of an entry of `size` bytes: header plus data, in 4 KiB blocks.
std::uint64_t Charge(std::size_t size) {
  return (cache::disk_entry::kHeaderBytes + size + 4095) / 4096 * 4096;
}

}  // namespace

TEST_CASE("DiskCache keeps entries across a reopen") {
  TempDir tmp;
  const auto dir = tmp.path() / "frames";
  {
    auto cache = OpenCache(dir, 1 << 20);
    CHECK_FALSE(Get(*cache, {1, 48}).has_value());
    cache->Insert({1, 48}, Frame({1, 48}, 5000));
    cache->Insert({1, 5048}, Frame({1, 5048}, 32809));
    cache->Insert({2, 48}, "");
    CHECK(Get(*cache, {1, 48}) == Frame({1, 48}, 5000));
    CHECK(Get(*cache, {2, 48}) == std::string());
    const cache::DiskCacheStats s = cache->Stats();
    CHECK(s.entries == 3);
    CHECK(s.bytes == Charge(5000) + Charge(32809) + Charge(0));
    CHECK(s.hits == 2);
    CHECK(s.misses == 1);
  }
  auto cache = OpenCache(dir, 1 << 20);
  const cache::DiskCacheStats s = cache->Stats();
  CHECK(s.entries == 3);
  CHECK(s.bytes == Charge(5000) + Charge(32809) + Charge(0));
  CHECK(Get(*cache, {1, 5048}) == Frame({1, 5048}, 32809));
  CHECK(Get(*cache, {1, 48}) == Frame({1, 48}, 5000));
  CHECK_FALSE(Get(*cache, {1, 49}).has_value());
  // Entries spread over subdirectories.
  CHECK(cache->EntryPath({1, 48}).parent_path().parent_path() == dir);
  CHECK(std::filesystem::exists(cache->EntryPath({1, 48})));
}

TEST_CASE("DiskCache refuses a directory another cache has open") {
  TempDir tmp;
  auto first = OpenCache(tmp.path(), 1 << 20);
  Result<std::unique_ptr<DiskCache>> second = DiskCache::Open(tmp.path(), 1 << 20);
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.status().message(), Catch::Contains("in use"));
  first.reset();
  CHECK(DiskCache::Open(tmp.path(), 1 << 20).ok());
}

TEST_CASE("DiskCache detects torn and corrupted entries, deletes them and misses") {
  TempDir tmp;
  auto cache = OpenCache(tmp.path(), 1 << 20);
  const FrameId id{9, 4096};
  const std::string frame = Frame(id, 3000);
  cache->Insert(id, frame);
  const auto path = cache->EntryPath(id);
  const std::size_t header = cache::disk_entry::kHeaderBytes;

  SECTION("truncated") {
    std::filesystem::resize_file(path, header + 1000);
  }
  SECTION("empty, as a crash before the data reached the disk can leave it") {
    std::filesystem::resize_file(path, 0);
  }
  SECTION("a flipped bit in the data") {
    testing::FlipByte(path, header + 1234);
  }
  SECTION("a flipped bit in the checksum") {
    testing::FlipByte(path, cache::disk_entry::kChecksumOffset + 3);
  }
  SECTION("a flipped bit in the length") {
    testing::FlipByte(path, 12);
  }
  SECTION("another frame's entry under this name") {
    cache->Insert({9, 8192}, frame);
    std::filesystem::copy_file(cache->EntryPath({9, 8192}), path,
                               std::filesystem::copy_options::overwrite_existing);
  }
  SECTION("bytes appended") {
    testing::WriteFile(path, testing::ReadFile(path) + "x");
  }
  CHECK_FALSE(Get(*cache, id).has_value());
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(cache->Contains(id));
  CHECK(cache->Stats().dropped_damaged == 1);
  // The next insert (the frame fetched again) repairs it.
  cache->Insert(id, frame);
  CHECK(Get(*cache, id) == frame);
}

TEST_CASE("DiskCache.Open cleans up what a crash left behind") {
  TempDir tmp;
  FrameId torn{3, 48};
  std::filesystem::path torn_path;
  std::filesystem::path temp_path;
  {
    auto cache = OpenCache(tmp.path(), 1 << 20);
    cache->Insert({3, 100}, Frame({3, 100}, 100));
    cache->Insert(torn, Frame(torn, 100));
    torn_path = cache->EntryPath(torn);
    temp_path = torn_path.parent_path() / ".tmp-77";
  }
  std::filesystem::resize_file(torn_path, 10);  // shorter than a header
  testing::WriteFile(temp_path, "half an entry");
  std::filesystem::create_directories(tmp.path() / "ab");
  testing::WriteFile(tmp.path() / "ab" / "not-a-cache-file", "kept");

  auto cache = OpenCache(tmp.path(), 1 << 20);
  CHECK_FALSE(std::filesystem::exists(torn_path));
  CHECK_FALSE(std::filesystem::exists(temp_path));
  CHECK(std::filesystem::exists(tmp.path() / "ab" / "not-a-cache-file"));
  CHECK(cache->Stats().entries == 1);
  CHECK(cache->Stats().dropped_damaged == 1);
  CHECK(Get(*cache, {3, 100}) == Frame({3, 100}, 100));
}

TEST_CASE("DiskCache stays within its capacity on disk and evicts least recently used") {
  const auto seed = Catch::rngSeed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  TempDir tmp;
  const std::uint64_t capacity = 64 * 4096;
  auto cache = OpenCache(tmp.path(), capacity);
  const FrameId hot{1, 0};
  cache->Insert(hot, Frame(hot, 2000));
  for (std::uint64_t i = 1; i <= 300; ++i) {
    const FrameId id{1 + rng() % 4, i * 100'000};
    cache->Insert(id, Frame(id, 100 + rng() % 9000));
    // A frame in use stays.
    REQUIRE(Get(*cache, hot) == Frame(hot, 2000));
    const cache::DiskCacheStats s = cache->Stats();
    REQUIRE(s.bytes <= capacity);
    const testing::DirUsage usage = testing::Usage(tmp.path());
    REQUIRE(usage.block_bytes == s.bytes);
    REQUIRE(usage.files == s.entries);
  }
  CHECK(cache->Stats().evictions > 200);
  // An entry larger than the whole cache is not stored.
  cache->Insert({7, 7}, std::string(capacity, 'x'));
  CHECK_FALSE(cache->Contains({7, 7}));
}

TEST_CASE("DiskCache reopened with a smaller capacity keeps the most recently used") {
  TempDir tmp;
  std::vector<FrameId> ids;
  {
    auto cache = OpenCache(tmp.path(), 1 << 20);
    for (std::uint64_t i = 0; i < 10; ++i) {
      ids.push_back({5, i * 5000});
      cache->Insert(ids.back(), Frame(ids.back(), 4000));
    }
    // Give the files distinct ages: entry i was last used i minutes after the first.
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const timespec times[2] = {{0, UTIME_OMIT}, {1'700'000'000 + static_cast<time_t>(i) * 60, 0}};
      REQUIRE(::utimensat(AT_FDCWD, cache->EntryPath(ids[i]).c_str(), times, 0) == 0);
    }
  }
  {
    auto cache = OpenCache(tmp.path(), 1 << 20);
    // A hit makes entry 2 the most recent, across the next restart too.
    REQUIRE(Get(*cache, ids[2]).has_value());
  }
  auto cache = OpenCache(tmp.path(), 4 * 4096);
  CHECK(cache->Stats().entries == 4);
  for (int i : {2, 7, 8, 9}) CHECK(cache->Contains(ids[static_cast<std::size_t>(i)]));
  CHECK(testing::Usage(tmp.path()).files == 4);
}

TEST_CASE("DiskCache.EraseSegment deletes the entries of one segment only") {
  TempDir tmp;
  auto cache = OpenCache(tmp.path(), 1 << 20);
  for (std::uint64_t seq = 10; seq <= 12; ++seq) {
    for (std::uint64_t off = 0; off < 5; ++off) cache->Insert({seq, off}, "frame");
  }
  cache->EraseSegment(11);
  CHECK(cache->Stats().entries == 10);
  CHECK(testing::Usage(tmp.path()).files == 10);
  CHECK_FALSE(Get(*cache, {11, 3}).has_value());
  CHECK(Get(*cache, {12, 4}) == "frame");
  cache->Erase({10, 0});
  CHECK_FALSE(cache->Contains({10, 0}));
  CHECK(testing::Usage(tmp.path()).files == 9);
}

TEST_CASE("DiskCache disables itself on a write error instead of failing") {
  TempDir tmp;
  auto cache = OpenCache(tmp.path(), 1 << 20);
  cache->Insert({1, 1}, "kept");
  // Make the subdirectory of the next entry unusable: a file where the directory was.
  const FrameId victim{2, 2};
  const auto sub = cache->EntryPath(victim).parent_path();
  std::filesystem::remove_all(sub);
  testing::WriteFile(sub, "in the way");
  cache->Insert(victim, "lost");
  const cache::DiskCacheStats s = cache->Stats();
  CHECK_FALSE(s.enabled);
  CHECK(s.io_errors == 1);
  CHECK_FALSE(Get(*cache, victim).has_value());
  // Disabled: even a present entry misses, and inserts do nothing.
  CHECK_FALSE(Get(*cache, {1, 1}).has_value());
  cache->Insert({3, 3}, "ignored");
  CHECK_FALSE(cache->Contains({3, 3}));
}

TEST_CASE("DiskCache with capacity 0 stores nothing and clears old entries") {
  TempDir tmp;
  OpenCache(tmp.path(), 1 << 20)->Insert({1, 1}, "old");
  auto cache = OpenCache(tmp.path(), 0);
  CHECK(cache->Stats().entries == 0);
  CHECK(testing::Usage(tmp.path()).files == 0);
  cache->Insert({1, 2}, "new");
  CHECK_FALSE(Get(*cache, {1, 2}).has_value());
}

TEST_CASE("Disk cache entries: any damage to an encoded entry is caught") {
  const auto seed = Catch::rngSeed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const FrameId id{0x2a, 1234};
  const std::string data = Frame(id, 700);
  const std::string entry = cache::disk_entry::Encode(id, data);
  REQUIRE(entry.size() == cache::disk_entry::kHeaderBytes + data.size());
  Result<std::string_view> ok = cache::disk_entry::Decode(entry, id);
  REQUIRE(ok.ok());
  CHECK(*ok == data);
  CHECK(cache::disk_entry::Decode(entry, {0x2a, 1235}).status().code() == StatusCode::kCorruption);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = entry;
    switch (rng() % 3) {
      case 0: {
        const std::size_t at = rng() % bad.size();
        bad[at] = static_cast<char>(bad[at] ^ (1 << (rng() % 8)));
        break;
      }
      case 1: bad.resize(rng() % bad.size()); break;
      default: bad.insert(rng() % bad.size(), 1, static_cast<char>(rng())); break;
    }
    CAPTURE(i);
    REQUIRE(cache::disk_entry::Decode(bad, id).status().code() == StatusCode::kCorruption);
  }
}
