#include "zerofs/cache/single_flight.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace zerofs;
using cache::SingleFlight;
using namespace std::chrono_literals;

namespace {

// Polls `done` for up to 10 s; false on timeout, so a broken SingleFlight fails the test
// instead of hanging it.
template <typename Pred>
bool WaitFor(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE("SingleFlight: concurrent callers of one key share one execution") {
  SingleFlight<int, std::string> flights;
  constexpr int kThreads = 16;
  std::atomic<int> executions{0};
  std::atomic<bool> everyone_joined{false};
  std::vector<Result<std::string>> results(kThreads, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      results[static_cast<std::size_t>(t)] = flights.Do(42, [&]() -> Result<std::string> {
        ++executions;
        // Hold the flight open until every other thread waits on it.
        everyone_joined = WaitFor([&] { return flights.stats().shared == kThreads - 1; });
        return std::string("fetched once");
      });
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(everyone_joined);
  CHECK(executions == 1);
  for (const auto& r : results) {
    REQUIRE(r.ok());
    CHECK(*r == "fetched once");
  }
  const cache::SingleFlightStats s = flights.stats();
  CHECK(s.executions == 1);
  CHECK(s.shared == kThreads - 1);
  CHECK(s.in_flight == 0);

  // Nothing is cached: the next call runs again.
  CHECK(*flights.Do(42, [] { return Result<std::string>(std::string("again")); }) == "again");
  CHECK(flights.stats().executions == 2);
}

TEST_CASE("SingleFlight: a failure reaches every waiter and is not sticky") {
  SingleFlight<std::string, int> flights;
  bool joined = false;
  Result<int> waiter = -1;
  std::thread t;
  Result<int> leader = flights.Do("k", [&]() -> Result<int> {
    t = std::thread([&] { waiter = flights.Do("k", [] { return Result<int>(7); }); });
    joined = WaitFor([&] { return flights.stats().shared == 1; });
    return Status::Unavailable("503 from the bucket");
  });
  t.join();
  REQUIRE(joined);
  CHECK(leader.status().code() == StatusCode::kUnavailable);
  CHECK(waiter.status().code() == StatusCode::kUnavailable);
  CHECK(*flights.Do("k", [] { return Result<int>(7); }) == 7);
}

TEST_CASE("SingleFlight: different keys run at the same time") {
  SingleFlight<int, int> flights;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped_a{false};
  std::atomic<bool> overlapped_b{false};
  // Each function waits until the other one runs: they deadlock (and time out) if
  // SingleFlight serialized distinct keys.
  const auto body = [&](std::atomic<bool>& overlapped) {
    ++running;
    overlapped = WaitFor([&] { return running == 2; });
    return Result<int>(1);
  };
  std::thread a([&] { (void)flights.Do(1, [&] { return body(overlapped_a); }); });
  std::thread b([&] { (void)flights.Do(2, [&] { return body(overlapped_b); }); });
  a.join();
  b.join();
  CHECK(overlapped_a);
  CHECK(overlapped_b);
  CHECK(flights.stats().executions == 2);
}

TEST_CASE("SingleFlight: a throwing function releases its waiters") {
  SingleFlight<int, int> flights;
  Result<int> waiter = -1;
  std::thread t;
  bool threw = false;
  try {
    (void)flights.Do(5, [&]() -> Result<int> {
      t = std::thread([&] { waiter = flights.Do(5, [] { return Result<int>(9); }); });
      if (!WaitFor([&] { return flights.stats().shared == 1; })) return 0;
      throw std::runtime_error("bug");
    });
  } catch (const std::runtime_error&) {
    threw = true;
  }
  t.join();
  CHECK(threw);
  CHECK(waiter.status().code() == StatusCode::kInternal);
  CHECK(flights.stats().in_flight == 0);
  CHECK(*flights.Do(5, [] { return Result<int>(9); }) == 9);
}
