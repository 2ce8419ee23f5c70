#include "zerofs/cache/cached_extent_reader.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <latch>
#include <thread>

#include "cache_test_util.h"
#include "zerofs/objstore/fault_injecting_store.h"
#include "zerofs/objstore/latency_store.h"

using namespace zerofs;
using namespace std::chrono_literals;
using cache::CachedExtentReader;
using cache::DiskCache;
using cache::ExtentCache;
using segment::ExtentRef;
using testing::IdOf;
using testing::TempDir;
using testing::TestVolume;

namespace {

constexpr std::uint64_t kMemoryBytes = 64ULL << 20;
constexpr std::uint64_t kDiskBytes = 64ULL << 20;

std::unique_ptr<DiskCache> OpenDisk(const std::filesystem::path& dir) {
  Result<std::unique_ptr<DiskCache>> disk = DiskCache::Open(dir, kDiskBytes);
  INFO(disk.status().ToString());
  REQUIRE(disk.ok());
  return std::move(*disk);
}

void CheckAll(CachedExtentReader& reader, const std::vector<TestVolume::Extent>& extents) {
  Result<std::vector<std::shared_ptr<const std::string>>> got =
      reader.ReadMany(TestVolume::Refs(extents));
  INFO(got.status().ToString());
  REQUIRE(got.ok());
  REQUIRE(got->size() == extents.size());
  for (std::size_t i = 0; i < extents.size(); ++i) {
    CAPTURE(i);
    REQUIRE(*(*got)[i] == extents[i].data);
  }
}

std::uint64_t Gets(const TestVolume& v) {
  return v.store->Snapshot().get_requests;
}

}  // namespace

TEST_CASE("A warm read makes no object store calls, from memory or from disk") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 16);
  TempDir tmp;
  auto memory = std::make_unique<ExtentCache>(kMemoryBytes);
  auto disk = OpenDisk(tmp.path() / "frames");
  {
    CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, memory.get(), disk.get());
    CheckAll(reader, extents);
    CHECK(Gets(v) == 1);
    v.store->Reset();
    CheckAll(reader, extents);
    for (const auto& e : extents) CHECK(**reader.Read(e.ref) == e.data);
    CHECK(v.store->Snapshot().requests() == 0);
    CHECK(reader.Stats().memory_hits == 32);
  }
  SECTION("after a restart, the disk cache serves what memory lost") {
    memory = std::make_unique<ExtentCache>(kMemoryBytes);
    disk.reset();
    disk = OpenDisk(tmp.path() / "frames");
    CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, memory.get(), disk.get());
    CheckAll(reader, extents);
    CheckAll(reader, extents);
    CHECK(v.store->Snapshot().requests() == 0);
    CHECK(reader.Stats().disk_hits == 16);
    CHECK(reader.Stats().memory_hits == 16);
  }
  SECTION("with the memory cache disabled, the disk cache alone keeps the bucket idle") {
    ExtentCache off(0);
    CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, &off, disk.get());
    CheckAll(reader, extents);
    CHECK(v.store->Snapshot().requests() == 0);
    CHECK(reader.Stats().disk_hits == 16);
  }
}

TEST_CASE("A sequential read of 64 extents of one segment takes few large GETs") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 64);
  const auto refs = TestVolume::Refs(extents);
  ExtentCache memory(kMemoryBytes);
  CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, &memory, nullptr);

  SECTION("in one ReadMany") {
    CheckAll(reader, extents);
    CHECK(Gets(v) == 1);
    CHECK(reader.Stats().fetched_frames == 64);
  }
  SECTION("extent by extent, with read-ahead of the window the options suggest") {
    const std::size_t window = reader.options().readahead_extents;
    for (std::size_t i = 0; i < refs.size(); ++i) {
      const std::size_t from = i + 1;
      const std::size_t to = std::min(refs.size(), from + window);
      if (from < to) reader.Prefetch(std::span(refs).subspan(from, to - from));
      Result<std::shared_ptr<const std::string>> got = reader.Read(refs[i]);
      REQUIRE(got.ok());
      REQUIRE(**got == extents[i].data);
    }
    reader.WaitForPrefetches();
    // The first read's own GET, then the first prefetch's: later windows are covered.
    CHECK(Gets(v) == 2);
    CHECK(reader.Stats().fetched_frames == 64);
  }
  SECTION("with no gap allowed and every other extent wanted, each costs a GET") {
    cache::CachedReaderOptions strict;
    strict.max_gap_bytes = 0;
    CachedExtentReader sparse(v.store, v.keys, testing::kCacheTestUuid, nullptr, nullptr, strict);
    std::vector<ExtentRef> every_other;
    for (std::size_t i = 0; i < refs.size(); i += 2) every_other.push_back(refs[i]);
    REQUIRE(sparse.ReadMany(every_other).ok());
    CHECK(Gets(v) == 32);
    // The default gap reads through the unwanted frames instead.
    v.store->Reset();
    REQUIRE(reader.ReadMany(every_other).ok());
    CHECK(Gets(v) == 1);
  }
}

TEST_CASE("Read-ahead of a long sequential read brings about half a window per GET") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 256, 8 * 1024);
  const auto refs = TestVolume::Refs(extents);
  ExtentCache memory(kMemoryBytes);
  CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, &memory, nullptr);
  const std::size_t window = reader.options().readahead_extents;
  REQUIRE(window == 64);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const std::size_t from = std::min(refs.size(), i + 1);
    reader.Prefetch(std::span(refs).subspan(from, std::min(window, refs.size() - from)));
    REQUIRE(**reader.Read(refs[i]) == extents[i].data);
  }
  reader.WaitForPrefetches();
  // 1 for the first read, 1 for the first window, then one per 32 or 33 extents.
  CHECK(Gets(v) >= 4);
  CHECK(Gets(v) <= 9);
  CHECK(reader.Stats().fetched_frames == 256);
}

TEST_CASE("Sixteen threads missing on one extent make one GET") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 4);
  objstore::LatencyOptions slow;
  slow.round_trip = 200ms;
  auto store = std::make_shared<objstore::LatencyStore>(v.store, slow);
  ExtentCache memory(kMemoryBytes);
  CachedExtentReader reader(store, v.keys, testing::kCacheTestUuid, &memory, nullptr);

  constexpr int kThreads = 16;
  std::latch start(kThreads);
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      Result<std::shared_ptr<const std::string>> got = reader.Read(extents[2].ref);
      if (got.ok() && **got == extents[2].data) ++correct;
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(correct == kThreads);
  CHECK(Gets(v) == 1);
  const cache::CachedReaderStats s = reader.Stats();
  CHECK(s.fetched_frames == 1);
  // Everyone else waited for that GET, or came late enough to find the frame in memory.
  CHECK(s.shared_frames + s.memory_hits == kThreads - 1);
}

TEST_CASE("A read that races a prefetch of the same frames waits for the prefetch's GET") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 64);
  const auto refs = TestVolume::Refs(extents);
  objstore::LatencyOptions slow;
  slow.round_trip = 100ms;
  auto store = std::make_shared<objstore::LatencyStore>(v.store, slow);
  ExtentCache memory(kMemoryBytes);
  CachedExtentReader reader(store, v.keys, testing::kCacheTestUuid, &memory, nullptr);
  reader.Prefetch(refs);
  // Wait until the prefetch's GET is under way (the meter counts it as it starts).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (Gets(v) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(Gets(v) == 1);
  Result<std::vector<std::shared_ptr<const std::string>>> got =
      reader.ReadMany(std::span(refs).first(8));
  REQUIRE(got.ok());
  for (std::size_t i = 0; i < 8; ++i) CHECK(*(*got)[i] == extents[i].data);
  reader.WaitForPrefetches();
  CHECK(Gets(v) == 1);
  CHECK(reader.Stats().shared_frames == 8);
}

TEST_CASE("Prefetch makes the following reads memory hits") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 64);
  const auto refs = TestVolume::Refs(extents);
  ExtentCache memory(kMemoryBytes);
  CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, &memory, nullptr);
  reader.Prefetch(refs);
  reader.WaitForPrefetches();
  CHECK(Gets(v) == 1);
  v.store->Reset();
  for (const auto& e : extents) REQUIRE(**reader.Read(e.ref) == e.data);
  CHECK(v.store->Snapshot().requests() == 0);
  CHECK(reader.Stats().memory_hits == 64);

  SECTION("a failed prefetch is silent; the read reports the error") {
    ExtentRef missing = refs[0];
    missing.location.seq = 99;
    reader.Prefetch(std::span(&missing, 1));
    reader.WaitForPrefetches();
    CHECK(reader.Read(missing).status().code() == StatusCode::kNotFound);
  }
  SECTION("frames already in memory are not prefetched again") {
    const std::uint64_t requests = reader.Stats().prefetch_requests;
    reader.Prefetch(refs);
    reader.WaitForPrefetches();
    CHECK(reader.Stats().prefetch_requests == requests);
    CHECK(v.store->Snapshot().requests() == 0);
  }
}

TEST_CASE("A damaged segment is kCorruption naming the segment and frame, never wrong data") {
  TestVolume v;
  const auto extents = v.WriteSegment(3, 8);
  TempDir tmp;
  ExtentCache memory(kMemoryBytes);
  auto disk = OpenDisk(tmp.path());
  CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, &memory, disk.get());
  v.DamageSegment(3, extents[5].ref.location.offset + 40);

  Result<std::shared_ptr<const std::string>> got = reader.Read(extents[5].ref);
  REQUIRE(got.status().code() == StatusCode::kCorruption);
  CHECK_THAT(got.status().message(), Catch::Contains("segments/0000000000000003"));
  CHECK_THAT(got.status().message(), Catch::Contains("extent frame 5"));
  // Nothing of it was cached, so a repaired bucket would be read again.
  CHECK(memory.Peek(IdOf(extents[5].ref)) == nullptr);
  CHECK_FALSE(disk->Contains(IdOf(extents[5].ref)));
  // The batch fails; its healthy neighbours read fine.
  CHECK(reader.ReadMany(TestVolume::Refs(extents)).status().code() == StatusCode::kCorruption);
  CHECK(**reader.Read(extents[4].ref) == extents[4].data);
  CHECK(**reader.Read(extents[6].ref) == extents[6].data);

  SECTION("a frame read as another extent fails its AAD check") {
    ExtentRef wrong = extents[4].ref;
    wrong.extent_index = 5;
    memory.Clear();
    disk->EraseSegment(3);
    CHECK(reader.Read(wrong).status().code() == StatusCode::kCorruption);
  }
  SECTION("an index pointing past the end of the segment") {
    ExtentRef past = extents[7].ref;
    past.location.offset += 1 << 20;
    CHECK(reader.Read(past).status().code() == StatusCode::kCorruption);
  }
  SECTION("a missing segment is kNotFound") {
    ExtentRef missing = extents[0].ref;
    missing.location.seq = 4;
    CHECK(reader.Read(missing).status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("A damaged disk cache entry is fetched again and the read is correct") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 4);
  TempDir tmp;
  auto disk = OpenDisk(tmp.path());
  {
    CachedExtentReader warm(v.store, v.keys, testing::kCacheTestUuid, nullptr, disk.get());
    CheckAll(warm, extents);
  }
  const ExtentRef& ref = extents[1].ref;
  CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, nullptr, disk.get());
  v.store->Reset();

  SECTION("a flipped bit in the entry file") {
    testing::FlipByte(disk->EntryPath(IdOf(ref)), 100);
    CHECK(**reader.Read(ref) == extents[1].data);
    CHECK(disk->Stats().dropped_damaged == 1);
  }
  SECTION("an intact entry whose frame does not open (another volume's, say)") {
    disk->Erase(IdOf(ref));
    disk->Insert(IdOf(ref), std::string(ref.location.sealed_length, 'z'));
    CHECK(**reader.Read(ref) == extents[1].data);
    CHECK(reader.Stats().disk_rejected == 1);
  }
  CHECK(Gets(v) == 1);
  // The refetched frame replaced the bad entry.
  CHECK(disk->Contains(IdOf(ref)));
  v.store->Reset();
  CHECK(**reader.Read(ref) == extents[1].data);
  CHECK(v.store->Snapshot().requests() == 0);
}

TEST_CASE("Reads go on when the disk cache fails") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 16);
  TempDir tmp;
  auto disk = OpenDisk(tmp.path() / "frames");
  std::filesystem::remove_all(tmp.path() / "frames");  // the cache disk vanished
  CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, nullptr, disk.get());
  CheckAll(reader, extents);
  CheckAll(reader, extents);
  CHECK_FALSE(disk->Stats().enabled);
}

TEST_CASE("ReadMany keeps the caller's order across segments and repeated refs") {
  TestVolume v;
  const auto a = v.WriteSegment(1, 8);
  const auto b = v.WriteSegment(2, 8, 5000, 8);
  // No caches: every read goes to the bucket, still one GET per segment.
  CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, nullptr, nullptr);
  const std::vector<ExtentRef> refs = {b[3].ref, a[0].ref, b[3].ref, a[5].ref, b[0].ref};
  Result<std::vector<std::shared_ptr<const std::string>>> got = reader.ReadMany(refs);
  REQUIRE(got.ok());
  CHECK(*(*got)[0] == b[3].data);
  CHECK(*(*got)[1] == a[0].data);
  CHECK(*(*got)[2] == b[3].data);
  CHECK(*(*got)[3] == a[5].data);
  CHECK(*(*got)[4] == b[0].data);
  CHECK(Gets(v) == 2);
  CHECK(reader.ReadMany({}).ok());
}

TEST_CASE("A failed GET is reported to the reader and not remembered") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 4);
  auto faulty = std::make_shared<objstore::FaultInjectingStore>(v.store, Catch::rngSeed());
  faulty->AddRule(objstore::FaultRule::FailNth(1, objstore::StoreOp::kGet));
  ExtentCache memory(kMemoryBytes);
  CachedExtentReader reader(faulty, v.keys, testing::kCacheTestUuid, &memory, nullptr);
  Result<std::shared_ptr<const std::string>> first = reader.Read(extents[0].ref);
  CHECK(first.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(first.status().message(), Catch::Contains("segments/0000000000000001"));
  CHECK(**reader.Read(extents[0].ref) == extents[0].data);
}

TEST_CASE("EraseSegment forgets a deleted segment in both caches") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 4);
  TempDir tmp;
  ExtentCache memory(kMemoryBytes);
  auto disk = OpenDisk(tmp.path());
  CachedExtentReader reader(v.store, v.keys, testing::kCacheTestUuid, &memory, disk.get());
  CheckAll(reader, extents);
  reader.EraseSegment(1);
  CHECK(memory.Stats().entries == 0);
  CHECK(disk->Stats().entries == 0);
  v.store->Reset();
  CheckAll(reader, extents);
  CHECK(Gets(v) == 1);
}

TEST_CASE("Dropped prefetches release their frames, a reader with queued ones shuts down") {
  TestVolume v;
  const auto extents = v.WriteSegment(1, 32);
  const auto refs = TestVolume::Refs(extents);
  objstore::LatencyOptions slow;
  slow.round_trip = 50ms;
  auto store = std::make_shared<objstore::LatencyStore>(v.store, slow);
  ExtentCache memory(kMemoryBytes);
  cache::CachedReaderOptions options;
  options.prefetch_threads = 1;
  options.prefetch_queue_max = 1;
  options.max_gap_bytes = 0;
  {
    CachedExtentReader reader(store, v.keys, testing::kCacheTestUuid, &memory, nullptr, options);
    // The first runs, the second waits in the queue, the third pushes the second out.
    const auto group = [&](std::size_t g) { return std::span(refs).subspan(g * 8, 8); };
    reader.Prefetch(group(0));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (Gets(v) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    reader.Prefetch(group(1));
    reader.Prefetch(group(2));
    CHECK(reader.Stats().prefetch_dropped == 1);
    // The dropped group's frames are nobody's now: a read fetches them itself.
    Result<std::vector<std::shared_ptr<const std::string>>> got = reader.ReadMany(group(1));
    REQUIRE(got.ok());
    for (std::size_t i = 0; i < 8; ++i) CHECK(*(*got)[i] == extents[8 + i].data);
    // Leaves with one prefetch queued or running.
    reader.Prefetch(group(3));
  }
  CHECK(memory.Stats().entries >= 16);
}
