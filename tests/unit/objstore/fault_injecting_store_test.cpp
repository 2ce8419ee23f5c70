// FaultInjectingStore: faults are repeatable from a seed, hit exactly the calls their
// rules name, and mean what they say (before: nothing happened; after: the put happened).
#include "zerofs/objstore/fault_injecting_store.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "store_conformance.h"
#include "zerofs/objstore/memory_store.h"

using namespace zerofs;
using namespace std::chrono_literals;
using objstore::FaultEffect;
using objstore::FaultInjectingStore;
using objstore::FaultRule;
using objstore::MemoryStore;
using objstore::PutOptions;
using objstore::StoreOp;

namespace {

// The outcome of each call of a fixed workload, as a string per call.
std::vector<std::string> RunWorkload(FaultInjectingStore& store) {
  std::vector<std::string> outcomes;
  auto note = [&](const Status& s) { outcomes.push_back(s.ok() ? "ok" : s.ToString()); };
  for (int i = 0; i < 150; ++i) {
    const std::string key = "k/" + std::to_string(i % 17);
    switch (i % 4) {
      case 0: note(store.Put(key, std::to_string(i)).status()); break;
      case 1: note(store.Get(key).status()); break;
      case 2: note(store.Head(key).status()); break;
      default: {
        auto page = store.ListPage("k/", "", 5);
        note(page.status());
        if (page.ok()) outcomes.back() += "/" + std::to_string(page->objects.size());
      }
    }
  }
  return outcomes;
}

std::shared_ptr<FaultInjectingStore> MakeRandomStore(std::uint64_t seed) {
  auto store = std::make_shared<FaultInjectingStore>(std::make_shared<MemoryStore>(), seed);
  store->AddRule(FaultRule::FailRandomly(0.2));
  store->AddRule(FaultRule::FailRandomly(0.3, StoreOp::kPut).After());
  store->AddRule(FaultRule::TruncateLists(0.5));
  return store;
}

}  // namespace

TEST_CASE("FaultInjectingStore without rules meets the ObjectStore contract") {
  FaultInjectingStore store(std::make_shared<MemoryStore>(), 1);
  testing::RunStoreConformance(store);
  CHECK(store.stats().injected() == 0);
}

TEST_CASE("FaultInjectingStore: the same seed gives the same faults") {
  const std::uint64_t seed = Catch::rngSeed();
  CAPTURE(seed);
  auto a = MakeRandomStore(seed);
  auto b = MakeRandomStore(seed);
  const auto first = RunWorkload(*a);
  const auto second = RunWorkload(*b);
  CHECK(first == second);
  CHECK(a->stats().failed_before == b->stats().failed_before);
  CHECK(a->stats().truncated_lists == b->stats().truncated_lists);
  // 150 calls at these rates: faults certainly happened, and not on every call.
  CHECK(a->stats().failed_before > 0);
  CHECK(a->stats().failed_before < 150);
  CHECK(a->seed() == seed);
  CHECK(a->Describe().find(std::to_string(seed)) != std::string::npos);
  // Another seed gives another sequence (the odds of equality are below 1e-20).
  auto c = MakeRandomStore(seed + 1);
  CHECK(RunWorkload(*c) != first);
}

TEST_CASE("FaultInjectingStore: the nth call of an operation fails") {
  auto inner = std::make_shared<MemoryStore>();
  FaultInjectingStore store(inner, 7);
  store.AddRule(FaultRule::FailNth(3, StoreOp::kPut).WithCode(StatusCode::kPermissionDenied));
  REQUIRE(store.Head("x").status().IsNotFound());  // other operations do not count
  CHECK(store.Put("p1", "v").ok());
  CHECK(store.Put("p2", "v").ok());
  auto third = store.Put("p3", "v");
  REQUIRE_FALSE(third.ok());
  CHECK(third.status().code() == StatusCode::kPermissionDenied);
  CHECK(third.status().message().find("seed 7") != std::string::npos);
  CHECK(store.Put("p4", "v").ok());
  CHECK(store.stats().failed_before == 1);
  CHECK(store.stats().calls == 5);

  SECTION("a key prefix narrows the rule, and Times repeats it") {
    store.ClearRules();
    store.AddRule(FaultRule::FailNth(2).ForKeys("segments/").Times(2));
    CHECK(store.Put("segments/1", "v").ok());
    CHECK(store.Put("root", "v").ok());  // not seen by the rule
    CHECK_FALSE(store.Put("segments/2", "v").ok());
    CHECK_FALSE(store.Get("segments/1").ok());
    CHECK(store.Get("segments/1").ok());
  }
  SECTION("kForever fails every call from the nth on") {
    store.ClearRules();
    store.AddRule(FaultRule::FailNth(2, StoreOp::kGet).Times(FaultRule::kForever));
    CHECK(store.Get("p1").ok());
    for (int i = 0; i < 10; ++i) CHECK(store.Get("p1").status().code() == StatusCode::kUnavailable);
  }
}

TEST_CASE("FaultInjectingStore: failures before and after the effect") {
  auto inner = std::make_shared<MemoryStore>();
  FaultInjectingStore store(inner, 11);

  SECTION("before: the put did not happen") {
    store.AddRule(FaultRule::FailNth(1, StoreOp::kPut));
    auto r = store.Put("k", "v");
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(inner->Head("k").status().IsNotFound());
    CHECK(store.stats().failed_before == 1);
  }
  SECTION("after: the put happened, the caller was told it failed") {
    store.AddRule(FaultRule::FailNth(1, StoreOp::kPut).After());
    auto r = store.Put("k", "v", PutOptions::IfNoneMatch());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(r.status().message().find("after taking effect") != std::string::npos);
    CHECK(inner->Get("k")->data == "v");
    // The retry a caller would make now loses against its own first attempt.
    CHECK(store.Put("k", "v", PutOptions::IfNoneMatch()).status().IsPreconditionFailed());
    CHECK(store.stats().failed_after == 1);
  }
  SECTION("after: a delete happened") {
    REQUIRE(inner->Put("k", "v").ok());
    store.AddRule(FaultRule::FailNth(1, StoreOp::kDelete).After());
    CHECK_FALSE(store.Delete("k").ok());
    CHECK(inner->Head("k").status().IsNotFound());
  }
  SECTION("after, with a crash: the put is the last thing that reached the bucket") {
    store.AddRule(FaultRule::FailNth(2, StoreOp::kPut).After().ThenCrash());
    REQUIRE(store.Put("a", "1").ok());
    CHECK_FALSE(store.Put("b", "2").ok());
    CHECK(store.crashed());
    CHECK_FALSE(store.Put("c", "3").ok());
    CHECK_FALSE(store.Get("a").ok());
    CHECK(inner->Head("b").ok());
    CHECK(inner->Head("c").status().IsNotFound());
    CHECK(store.stats().refused_crashed == 2);
    store.Restart();
    CHECK(store.Get("b")->data == "2");
  }
}

TEST_CASE("FaultInjectingStore: Crash refuses everything until Restart") {
  auto inner = std::make_shared<MemoryStore>();
  FaultInjectingStore store(inner, 3);
  REQUIRE(store.Put("k", "v").ok());
  store.Crash();
  CHECK(store.Put("k2", "v").status().code() == StatusCode::kUnavailable);
  CHECK_FALSE(store.Get("k").ok());
  CHECK_FALSE(store.Head("k").ok());
  CHECK_FALSE(store.ListPage("").ok());
  CHECK_FALSE(store.Delete("k").ok());
  CHECK_FALSE(store.DeleteMany(std::vector<std::string>{"k"}).ok());
  CHECK(inner->Head("k").ok());
  CHECK(inner->Head("k2").status().IsNotFound());
  CHECK(store.stats().refused_crashed == 6);
  store.Restart();
  CHECK(store.Get("k").ok());
}

TEST_CASE("FaultInjectingStore: short list pages still add up to the whole listing") {
  const std::uint64_t seed = Catch::rngSeed();
  CAPTURE(seed);
  auto inner = std::make_shared<MemoryStore>();
  for (int i = 0; i < 250; ++i) REQUIRE(inner->Put("obj/" + std::to_string(1000 + i), "v").ok());
  FaultInjectingStore store(inner, seed);
  store.AddRule(FaultRule::TruncateLists(1.0));
  auto all = store.List("obj/");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 250);
  for (int i = 0; i < 250; ++i)
    CHECK((*all)[static_cast<std::size_t>(i)].key == "obj/" + std::to_string(1000 + i));
  CHECK(store.stats().truncated_lists > 0);

  store.ClearRules();
  store.AddRule(FaultRule::TruncateLists(1.0, 3));
  auto page = store.ListPage("obj/", "", 100);
  REQUIRE(page.ok());
  CHECK(page->objects.size() == 3);
  CHECK(page->truncated);
  auto single = store.ListPage("obj/", "", 1);  // one key cannot be cut
  REQUIRE(single.ok());
  CHECK(single->objects.size() == 1);
}

TEST_CASE("FaultInjectingStore: delays go through the injected sleep") {
  const std::uint64_t seed = Catch::rngSeed();
  CAPTURE(seed);
  std::vector<std::chrono::microseconds> slept;
  FaultInjectingStore store(std::make_shared<MemoryStore>(), seed,
                            [&](std::chrono::microseconds d) { slept.push_back(d); });
  store.AddRule(FaultRule::Delay(5ms, StoreOp::kGet, 2ms));
  store.AddRule(FaultRule::FailNth(1, StoreOp::kGet));  // delays combine with failures
  REQUIRE(store.Put("k", "v").ok());
  CHECK_FALSE(store.Get("k").ok());
  CHECK(store.Get("k").ok());
  REQUIRE(slept.size() == 2);
  for (auto d : slept) {
    CHECK(d >= 5ms);
    CHECK(d <= 7ms);
  }
  CHECK(store.stats().delayed == 2);
  CHECK(store.stats().failed_before == 1);
}

TEST_CASE("FaultInjectingStore: real delays take at least their time") {
  FaultInjectingStore store(std::make_shared<MemoryStore>(), 5);
  store.AddRule(FaultRule::Delay(20ms));
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(store.Put("k", "v").ok());
  REQUIRE(store.Head("k").ok());
  CHECK(std::chrono::steady_clock::now() - start >= 40ms);
}

TEST_CASE("FaultInjectingStore: shared by threads, every call is decided and counted once") {
  const std::uint64_t seed = Catch::rngSeed();
  CAPTURE(seed);
  auto inner = std::make_shared<MemoryStore>();
  FaultInjectingStore store(inner, seed);
  store.AddRule(FaultRule::FailRandomly(0.5, StoreOp::kPut));
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (store.Put(std::to_string(t) + "/" + std::to_string(i), "v").ok()) ++succeeded;
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto stats = store.stats();
  CHECK(stats.calls == 800);
  CHECK(stats.failed_before + static_cast<std::uint64_t>(succeeded.load()) == 800);
  CHECK(inner->ObjectCount() == static_cast<std::size_t>(succeeded.load()));
}
