// The writer lease: a second writer is refused while the first renews; an expired lease or
// --takeover lets it in; a clean release removes the lease.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "zerofs/objstore/memory_store.h"
#include "zerofs/server/lease.h"

namespace {

using zerofs::StatusCode;
using zerofs::server::kLeaseKey;
using zerofs::server::LeaseOptions;
using zerofs::server::WriterLease;

LeaseOptions Options(const char* program, int ttl_ms, bool takeover = false) {
  LeaseOptions o;
  o.program = program;
  o.ttl = std::chrono::milliseconds(ttl_ms);
  o.takeover = takeover;
  return o;
}

}  // namespace

TEST_CASE("lease: a live holder keeps others out, release lets them in") {
  auto store = std::make_shared<zerofs::objstore::MemoryStore>();
  auto first = WriterLease::Acquire(store, Options("zerofs run", 60000));
  REQUIRE(first.ok());
  auto second = WriterLease::Acquire(store, Options("zerofs put", 60000));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
  CHECK(second.status().message().find("volume in use by zerofs run") != std::string::npos);
  CHECK(second.status().message().find("--takeover") != std::string::npos);
  (*first)->Release();
  CHECK(store->Head(kLeaseKey).status().code() == StatusCode::kNotFound);
  auto third = WriterLease::Acquire(store, Options("zerofs put", 60000));
  CHECK(third.ok());
}

TEST_CASE("lease: renewal keeps it alive past its ttl, a dead holder's lease expires") {
  auto store = std::make_shared<zerofs::objstore::MemoryStore>();
  auto holder = WriterLease::Acquire(store, Options("a", 300));
  REQUIRE(holder.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  // Renewed every 100 ms: still live.
  auto refused = WriterLease::Acquire(store, Options("b", 300));
  CHECK(refused.status().code() == StatusCode::kUnavailable);

  // A holder that died (its lease is never renewed): after the ttl it is free.
  const nlohmann::json stale{{"holder", "x"},  {"host", "h"},     {"pid", 1},
                             {"program", "p"}, {"renewed_unix_ms", 1}, {"ttl_ms", 300}};
  auto other = std::make_shared<zerofs::objstore::MemoryStore>();
  REQUIRE(other->Put(kLeaseKey, stale.dump()).ok());
  CHECK(WriterLease::Acquire(other, Options("c", 300)).ok());
}

TEST_CASE("lease: takeover fences the old holder's lease") {
  auto store = std::make_shared<zerofs::objstore::MemoryStore>();
  auto old_holder = WriterLease::Acquire(store, Options("old", 300));
  REQUIRE(old_holder.ok());
  auto new_holder = WriterLease::Acquire(store, Options("new", 300, /*takeover=*/true));
  REQUIRE(new_holder.ok());
  // The old one notices at its next renewal and does not delete the new one's lease.
  for (int i = 0; i < 50 && (*old_holder)->held(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE((*old_holder)->held());
  (*old_holder)->Release();
  CHECK(store->Head(kLeaseKey).ok());
  CHECK((*new_holder)->held());
}
