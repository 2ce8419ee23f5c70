#include <catch2/catch.hpp>
#include <thread>

#include "store_conformance.h"
#include "zerofs/objstore/memory_store.h"

using namespace zerofs;
using objstore::MemoryStore;

TEST_CASE("MemoryStore meets the ObjectStore contract") {
  MemoryStore store("conformance");
  testing::RunStoreConformance(store);
}

TEST_CASE("MemoryStore tracks stored bytes") {
  MemoryStore store;
  REQUIRE(store.Put("a", std::string(10, 'x')).ok());
  REQUIRE(store.Put("b", std::string(5, 'x')).ok());
  REQUIRE(store.Put("a", std::string(3, 'x')).ok());
  CHECK(store.BytesStored() == 8);
  REQUIRE(store.Delete("b").ok());
  CHECK(store.BytesStored() == 3);
  CHECK(store.ObjectCount() == 1);
}

TEST_CASE("MemoryStore: exactly one of many racing creates wins") {
  MemoryStore store;
  for (int round = 0; round < 20; ++round) {
    const std::string key = "race/" + std::to_string(round);
    std::atomic<int> wins{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        auto r = store.Put(key, std::to_string(t), objstore::PutOptions::IfNoneMatch());
        if (r.ok()) ++wins;
      });
    }
    for (auto& th : threads) th.join();
    CHECK(wins == 1);
  }
}

TEST_CASE("MemoryStore::Named shares contents by name") {
  auto a = MemoryStore::Named("shared-test");
  auto b = MemoryStore::Named("shared-test");
  REQUIRE(a->Put("k", "v").ok());
  CHECK(b->Get("k")->data == "v");
  CHECK(MemoryStore::Named("other-test")->Head("k").status().IsNotFound());
}
