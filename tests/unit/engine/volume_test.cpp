#include <atomic>
#include <cstring>
#include <thread>

#include "engine_test_support.h"
#include "zerofs/index/keys.h"
#include "zerofs/objstore/metered_store.h"

using namespace zerofs;
using engine::Transaction;
using testing::OpenVolume;
using testing::TempDir;
using testing::TestOptions;

namespace {

std::string Pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + static_cast<char>(i % 251));
  return s;
}

}  // namespace

TEST_CASE("a volume keeps metadata and data across close and reopen") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  const std::string data = Pattern(100000, 'a');
  {
    auto v = OpenVolume(TestOptions(store, cache.path()));
    Transaction txn;
    txn.Put(index::MetaKey("greeting"), "hello");
    txn.Write(7, 5, data);
    auto pos = v->Commit(txn);
    REQUIRE(pos.ok());
    // Reads see the commit before it is durable.
    CHECK(*v->Get(index::MetaKey("greeting")) == std::optional<std::string>("hello"));
    CHECK(*v->Read(7, 0, 100005) == std::string(5, '\0') + data);
    REQUIRE(v->Sync(*pos).ok());
    REQUIRE(v->Close().ok());
  }
  for (bool same_cache : {true, false}) {
    INFO("same cache dir: " << same_cache);
    TempDir other;
    auto v = OpenVolume(TestOptions(store, same_cache ? cache.path() : other.path()));
    CHECK(*v->Get(index::MetaKey("greeting")) == std::optional<std::string>("hello"));
    CHECK(*v->Read(7, 5, data.size()) == data);
    CHECK(*v->Read(7, 0, 5) == std::string(5, '\0'));
    CHECK(*v->Read(7, 200000, 10) == std::string(10, '\0'));
    if (!same_cache) CHECK(v->stats().replayed_segments >= 1);
  }
}

TEST_CASE("partial writes merge with what is there, zero ranges and truncation make holes") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto v = OpenVolume(TestOptions(store, cache.path()));
  std::string model = Pattern(200000, 'x');
  Transaction w;
  w.Write(3, 0, model);
  REQUIRE(v->Commit(w).ok());
  REQUIRE(v->SyncAll().ok());  // make the extents committed, so merges read them back

  Transaction patch;
  patch.Write(3, 40000, "PATCH");
  patch.ZeroRange(3, 70000, 70000);  // spans whole extents and two partial ones
  REQUIRE(v->Commit(patch).ok());
  model.replace(40000, 5, "PATCH");
  std::fill(model.begin() + 70000, model.begin() + 140000, '\0');
  CHECK(*v->Read(3, 0, model.size()) == model);

  Transaction shrink;
  shrink.Truncate(3, model.size(), 50001);
  REQUIRE(v->Commit(shrink).ok());
  REQUIRE(v->SyncAll().ok());
  model.resize(50001);
  CHECK(*v->Read(3, 0, 50001) == model);
  // After growing again, the old tail reads as zeros.
  CHECK(*v->Read(3, 50001, 100000) == std::string(100000, '\0'));

  REQUIRE(v->Close().ok());
  TempDir fresh;
  auto again = OpenVolume(TestOptions(store, fresh.path()));
  CHECK(*again->Read(3, 0, 50001) == model);
  CHECK(*again->Read(3, 50001, 100000) == std::string(100000, '\0'));
}

TEST_CASE("scan merges uncommitted changes with the index in key order") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto v = OpenVolume(TestOptions(store, cache.path()));
  Transaction a;
  for (int i = 0; i < 10; i += 2) a.Put(index::DirentKey(1, "f" + std::to_string(i)), "old");
  REQUIRE(v->Commit(a).ok());
  REQUIRE(v->SyncAll().ok());
  Transaction b;
  b.Put(index::DirentKey(1, "f1"), "new");
  b.Put(index::DirentKey(1, "f4"), "new");
  b.Delete(index::DirentKey(1, "f6"));
  REQUIRE(v->Commit(b).ok());
  std::vector<std::string> seen;
  REQUIRE(v->Scan(index::DirentPrefix(1), "", [&](std::string_view k, std::string_view val) {
             seen.push_back(std::string(k.substr(k.size() - 2)) + "=" + std::string(val));
             return true;
           }).ok());
  CHECK(seen == std::vector<std::string>{"f0=old", "f1=new", "f2=old", "f4=new", "f8=old"});
}

TEST_CASE("concurrent syncs share flushes (group commit)") {
  auto inner = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*inner);
  auto store = std::make_shared<objstore::MeteredStore>(inner);
  TempDir cache;
  auto options = TestOptions(store, cache.path());
  options.flush_interval = std::chrono::milliseconds(10000);
  auto v = OpenVolume(options);
  const auto before = store->Snapshot();
  constexpr int kThreads = 16;
  constexpr int kRounds = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        Transaction txn;
        txn.Write(static_cast<std::uint64_t>(100 + t), static_cast<std::uint64_t>(r) * 4096,
                  std::string(4096, static_cast<char>('A' + r)));
        auto pos = v->Commit(txn);
        if (!pos.ok() || !v->Sync(*pos).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  const auto used = store->Snapshot() - before;
  INFO(used.ToString());
  // 160 synced commits; one PUT each would be 160.
  CHECK(used.put_requests < kThreads * kRounds);
  for (int t = 0; t < kThreads; ++t) {
    CHECK(*v->Read(static_cast<std::uint64_t>(100 + t), 9 * 4096, 4096) == std::string(4096, 'J'));
  }
}

TEST_CASE("a second writer fences the first, nothing of the first after the fence survives") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache_a, cache_b, cache_c;
  auto a = OpenVolume(TestOptions(store, cache_a.path()));
  Transaction before;
  before.Put(index::MetaKey("a1"), "synced");
  auto pos = a->Commit(before);
  REQUIRE(pos.ok());
  REQUIRE(a->Sync(*pos).ok());

  auto b = OpenVolume(TestOptions(store, cache_b.path()));
  CHECK(*b->Get(index::MetaKey("a1")) == std::optional<std::string>("synced"));

  Transaction after;
  after.Put(index::MetaKey("a2"), "after the fence");
  auto pos2 = a->Commit(after);
  REQUIRE(pos2.ok());
  Status s = a->Sync(*pos2);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("fenced") != std::string::npos);
  // A stays fenced: nothing more is acknowledged.
  Transaction more;
  more.Put(index::MetaKey("a3"), "x");
  auto pos3 = a->Commit(more);
  CHECK((!pos3.ok() || !a->Sync(*pos3).ok()));
  CHECK_FALSE(a->Close().ok());

  Transaction by_b;
  by_b.Put(index::MetaKey("b1"), "from b");
  REQUIRE(b->Commit(by_b).ok());
  REQUIRE(b->SyncAll().ok());
  CHECK(*b->Get(index::MetaKey("a2")) == std::nullopt);
  REQUIRE(b->Close().ok());

  auto c = OpenVolume(TestOptions(store, cache_c.path()));
  CHECK(*c->Get(index::MetaKey("a1")) == std::optional<std::string>("synced"));
  CHECK(*c->Get(index::MetaKey("a2")) == std::nullopt);
  CHECK(*c->Get(index::MetaKey("a3")) == std::nullopt);
  CHECK(*c->Get(index::MetaKey("b1")) == std::optional<std::string>("from b"));
}

TEST_CASE("a snapshot lets a fresh open read only the journal tail") {
  auto inner = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*inner);
  TempDir cache;
  {
    auto v = OpenVolume(TestOptions(inner, cache.path()));
    for (int i = 0; i < 40; ++i) {
      Transaction txn;
      txn.Put(index::MetaKey("k" + std::to_string(i)), std::to_string(i));
      txn.Write(9, static_cast<std::uint64_t>(i) * 32768, std::string(32768, static_cast<char>(i + 1)));
      REQUIRE(v->Commit(txn).ok());
      REQUIRE(v->SyncAll().ok());
    }
    REQUIRE(v->Snapshot().ok());
    for (int i = 40; i < 43; ++i) {
      Transaction txn;
      txn.Put(index::MetaKey("k" + std::to_string(i)), std::to_string(i));
      REQUIRE(v->Commit(txn).ok());
      REQUIRE(v->SyncAll().ok());
    }
    REQUIRE(v->Close().ok());
  }
  auto metered = std::make_shared<objstore::MeteredStore>(inner);
  TempDir fresh;
  auto v = OpenVolume(TestOptions(metered, fresh.path()));
  CHECK(v->stats().replayed_segments == 3);
  const auto used = metered->Snapshot();
  INFO(used.ToString());
  // key file, root, snapshot manifest + SSTs, 3 tail segments (+ the end of the chain),
  // the fence: far fewer than the 43 segments.
  CHECK(used.get_requests < 20);
  for (int i = 0; i < 43; ++i) {
    CHECK(*v->Get(index::MetaKey("k" + std::to_string(i))) ==
          std::optional<std::string>(std::to_string(i)));
  }
  CHECK(*v->Read(9, 39 * 32768, 32768) == std::string(32768, static_cast<char>(40)));
}

TEST_CASE("warm reads make no object-store calls") {
  auto inner = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*inner);
  auto metered = std::make_shared<objstore::MeteredStore>(inner);
  TempDir cache;
  auto v = OpenVolume(TestOptions(metered, cache.path()));
  Transaction txn;
  txn.Write(5, 0, Pattern(10 * 32768, 'q'));
  REQUIRE(v->Commit(txn).ok());
  REQUIRE(v->SyncAll().ok());
  REQUIRE(v->Read(5, 0, 10 * 32768).ok());  // cold: fetch
  const auto before = metered->Snapshot();
  for (int i = 0; i < 5; ++i) CHECK(*v->Read(5, 0, 10 * 32768) == Pattern(10 * 32768, 'q'));
  CHECK((metered->Snapshot() - before).requests() == 0);
}

TEST_CASE("wrong password and missing volume are clear errors") {
  auto store = std::make_shared<objstore::MemoryStore>();
  TempDir cache;
  auto missing = engine::Volume::Open(TestOptions(store, cache.path()));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  testing::InitVolume(*store);
  auto options = TestOptions(store, cache.path());
  options.password = Secret("not the password");
  auto wrong = engine::Volume::Open(options);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == StatusCode::kPermissionDenied);
  CHECK(wrong.status().message().find("wrong password") != std::string::npos);
}

TEST_CASE("a sequential read of a 64 MiB file uses few large GETs") {
  auto inner = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*inner);
  constexpr std::uint64_t kFile = 64ULL << 20;
  constexpr std::uint64_t kChunk = 1ULL << 20;
  std::mt19937_64 rng(Catch::rngSeed());
  std::string expected;
  {
    TempDir cache;
    auto v = OpenVolume(TestOptions(inner, cache.path()));
    for (std::uint64_t off = 0; off < kFile; off += kChunk) {
      std::string chunk = testing::RandomBytes(rng, kChunk);
      Transaction txn;
      txn.Write(11, off, chunk);
      REQUIRE(v->Commit(txn).ok());
      expected += chunk;
    }
    REQUIRE(v->Close().ok());
  }
  auto metered = std::make_shared<objstore::MeteredStore>(inner);
  TempDir fresh;
  auto options = TestOptions(metered, fresh.path());
  options.disk_cache_bytes = 0;
  options.memory_cache_bytes = 128ULL << 20;
  auto v = OpenVolume(options);
  const auto before = metered->Snapshot();
  for (std::uint64_t off = 0; off < kFile; off += kChunk) {
    auto got = v->Read(11, off, kChunk);
    REQUIRE(got.ok());
    REQUIRE(got->size() == kChunk);
    CHECK(std::memcmp(got->data(), expected.data() + off, kChunk) == 0);
  }
  const auto used = metered->Snapshot() - before;
  INFO(used.ToString());
  // 2048 extents; one GET each would be 2048.
  CHECK(used.get_requests <= 64);
  CHECK(used.get_requests >= 1);
}

TEST_CASE("the write buffer is bounded: writers wait for uploads") {
  auto inner = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*inner);
  TempDir cache;
  auto options = TestOptions(inner, cache.path());
  options.write_buffer_bytes = 4ULL << 20;
  options.segment_target_bytes = 1ULL << 20;
  auto v = OpenVolume(options);
  std::uint64_t peak = 0;
  for (int i = 0; i < 64; ++i) {
    Transaction txn;
    txn.Write(12, static_cast<std::uint64_t>(i) << 20, std::string(1 << 20, 'b'));
    REQUIRE(v->Commit(txn).ok());
    peak = std::max(peak, v->stats().buffered_bytes);
  }
  REQUIRE(v->SyncAll().ok());
  // At most the bound plus the one transaction that crossed it.
  CHECK(peak <= options.write_buffer_bytes + (1ULL << 20) + 32768);
  CHECK(*v->Read(12, 63ULL << 20, 4) == "bbbb");
}

TEST_CASE("snapshots are taken automatically by segment count and by time") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  auto wait_for_snapshot = [](engine::Volume& v) {
    for (int i = 0; i < 100 && v.stats().snapshots_written == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return v.stats().snapshots_written;
  };
  SECTION("by count") {
    TempDir cache;
    auto options = TestOptions(store, cache.path());
    options.snapshot_every_segments = 5;
    auto v = OpenVolume(options);
    for (int i = 0; i < 6; ++i) {
      Transaction txn;
      txn.Put(index::MetaKey("c" + std::to_string(i)), "v");
      REQUIRE(v->Commit(txn).ok());
      REQUIRE(v->SyncAll().ok());
    }
    CHECK(wait_for_snapshot(*v) >= 1);
  }
  SECTION("by time") {
    TempDir cache;
    auto options = TestOptions(store, cache.path());
    options.snapshot_interval = std::chrono::seconds(1);
    auto v = OpenVolume(options);
    Transaction txn;
    txn.Put(index::MetaKey("t"), "v");
    REQUIRE(v->Commit(txn).ok());
    REQUIRE(v->SyncAll().ok());
    CHECK(wait_for_snapshot(*v) >= 1);
  }
}
