// LatencyStore and MeteredStore: the simulated link costs what its model says (checked
// exactly on a fake clock, and as lower bounds on the real one), and the meter counts
// every request and byte exactly.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "store_conformance.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/wrappers.h"

using namespace zerofs;
using namespace std::chrono_literals;
using objstore::LatencyOptions;
using objstore::LatencyStore;
using objstore::MemoryStore;
using objstore::MeteredStore;
using objstore::MeterSnapshot;
using objstore::PutOptions;
using objstore::StoreOp;

namespace {

// A clock that only moves when someone sleeps.
struct FakeClock {
  LatencyStore::Clock::time_point now{};
  LatencyStore::TimeSource Source() {
    return {[this] { return now; },
            [this](LatencyStore::Clock::time_point t) { now = std::max(now, t); }};
  }
  std::chrono::microseconds Elapsed() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
  }
};

}  // namespace

TEST_CASE("LatencyStore and MeteredStore meet the ObjectStore contract") {
  FakeClock clock;
  auto latency = std::make_shared<LatencyStore>(std::make_shared<MemoryStore>(),
                                                LatencyOptions{1ms, 1'000'000}, clock.Source());
  MeteredStore store(latency);
  testing::RunStoreConformance(store);
  CHECK(store.capabilities().conditional_create);
  CHECK(store.Describe().find("memory://") == 0);
  CHECK(store.Describe().find("[metered]") != std::string::npos);
  CHECK(store.Describe().find("latency") != std::string::npos);
}

TEST_CASE("LatencyStore: each request costs a round trip plus its transfer time") {
  FakeClock clock;
  LatencyStore store(std::make_shared<MemoryStore>(), LatencyOptions{10ms, 1'000'000},
                     clock.Source());
  REQUIRE(store.Put("k", std::string(500'000, 'x')).ok());  // 0.5 s at 1 MB/s + 10 ms
  CHECK(clock.Elapsed() == 510ms);
  REQUIRE(store.Head("k").ok());
  CHECK(clock.Elapsed() == 520ms);
  REQUIRE(store.Get("k", objstore::ByteRange{0, 100'000}).ok());  // 0.1 s + 10 ms
  CHECK(clock.Elapsed() == 630ms);
  REQUIRE(store.ListPage("").ok());
  REQUIRE(store.Delete("k").ok());
  CHECK(clock.Elapsed() == 650ms);
  CHECK(store.TransferTime(3'000'000'000'000ULL) == std::chrono::seconds(3'000'000));
}

TEST_CASE("LatencyStore: concurrent transfers share the bandwidth") {
  FakeClock clock;
  // Two puts issued at the same instant: the second waits for the first to leave the link.
  // (The fake clock does not move between them, as if both started together.)
  LatencyStore::TimeSource frozen{
      [] { return LatencyStore::Clock::time_point{}; },
      [&](LatencyStore::Clock::time_point t) { clock.now = std::max(clock.now, t); }};
  LatencyStore shared(std::make_shared<MemoryStore>(), LatencyOptions{0ms, 1'000'000}, frozen);
  REQUIRE(shared.Put("a", std::string(200'000, 'a')).ok());
  REQUIRE(shared.Put("b", std::string(200'000, 'b')).ok());
  CHECK(clock.Elapsed() == 400ms);
  // Downloads have their own direction of the link.
  REQUIRE(shared.Get("a").ok());
  CHECK(clock.Elapsed() == 400ms);
}

TEST_CASE("LatencyStore: real time is at least what the model says") {
  auto inner = std::make_shared<MemoryStore>();
  LatencyStore store(inner, LatencyOptions{20ms, 2'000'000});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) REQUIRE(store.Head("missing").status().IsNotFound());
  CHECK(std::chrono::steady_clock::now() - start >= 60ms);

  // Four threads each upload 100 KB over a 2 MB/s link: together at least 200 ms.
  start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};  // Catch2 assertions are not thread-safe
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, &failures, t] {
      if (!store.Put("t/" + std::to_string(t), std::string(100'000, 'x')).ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);
  CHECK(inner->ObjectCount() == 4);
}

TEST_CASE("MeteredStore counts requests and bytes exactly") {
  auto inner = std::make_shared<MemoryStore>();
  MeteredStore store(inner);
  REQUIRE(store.Put("a", std::string(1000, 'a')).ok());
  REQUIRE(store.Put("b", std::string(500, 'b')).ok());
  CHECK(store.Put("a", "x", PutOptions::IfNoneMatch()).status().IsPreconditionFailed());
  REQUIRE(store.Get("a").ok());
  REQUIRE(store.Get("b", objstore::ByteRange{100, 50}).ok());
  CHECK(store.Get("missing").status().IsNotFound());
  REQUIRE(store.Head("a").ok());
  for (int i = 0; i < 2500; ++i) REQUIRE(inner->Put("many/" + std::to_string(i), "").ok());
  auto listed = store.List("many/");  // 3 pages of at most 1000
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2500);
  REQUIRE(store.Delete("a").ok());
  std::vector<std::string> keys;
  for (const auto& info : *listed) keys.push_back(info.key);
  REQUIRE(store.DeleteMany(keys).ok());          // 2500 keys: 3 DeleteObjects requests
  CHECK_FALSE(store.Put("bad//key", "x").ok());  // rejected before the meter

  const MeterSnapshot s = store.Snapshot();
  CAPTURE(s.ToString());
  CHECK(s.put_requests == 3);
  CHECK(s.get_requests == 3);
  CHECK(s.head_requests == 1);
  CHECK(s.list_requests == 3);
  CHECK(s.delete_requests == 4);
  CHECK(s.deleted_keys == 2501);
  CHECK(s.bytes_out == 1501);
  CHECK(s.bytes_in == 1050);
  CHECK(s.errors == 2);
  CHECK(s.requests() == 14);
  CHECK(s.requests(StoreOp::kList) == 3);

  // S3 Standard prices: PUT and LIST $0.005 per 1000, GET and HEAD $0.0004, DELETE free.
  const double expected = 6 * 0.005 / 1000 + 4 * 0.0004 / 1000;
  CHECK(std::abs(s.Cost() - expected) < 1e-12);
  objstore::StorePrices prices;
  prices.delete_per_1000 = 1.0;
  CHECK(std::abs(s.Cost(prices) - (expected + 4.0 / 1000)) < 1e-12);

  REQUIRE(store.Head("b").ok());
  const MeterSnapshot delta = store.Snapshot() - s;
  CHECK(delta.requests() == 1);
  CHECK(delta.head_requests == 1);
  store.Reset();
  CHECK(store.Snapshot() == MeterSnapshot{});
}

TEST_CASE("MeteredStore counts exactly under concurrency") {
  MeteredStore store(std::make_shared<MemoryStore>());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, &failures, t] {
      for (int i = 0; i < 250; ++i) {
        const std::string key = std::to_string(t) + "/" + std::to_string(i);
        if (!store.Put(key, "12345").ok() || !store.Get(key).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  const MeterSnapshot s = store.Snapshot();
  CHECK(s.put_requests == 1000);
  CHECK(s.get_requests == 1000);
  CHECK(s.bytes_out == 5000);
  CHECK(s.bytes_in == 5000);
}
