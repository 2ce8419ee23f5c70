// RetryingStore: an ObjectStore wrapper that retries transient failures of another store, with
// bounded exponential backoff and full jitter, and tells a lost answer from a failure for
// conditional puts.
//
// Every call is tried up to RetryPolicy::max_attempts times in total. An attempt is repeated
// only when it failed retryably (kUnavailable: throttling, 5xx, timeouts, resets; also
// kIoError when `retry_io_errors`); anything else (kNotFound, kPreconditionFailed,
// kPermissionDenied, kInvalidArgument, kCorruption...) is returned at once. Before attempt
// n + 1 (n >= 1) the wrapper sleeps a uniformly random time in [0, min(max_delay,
// base_delay * 2^(n-1))]. So one call takes at most max_attempts attempts and at most
// (max_attempts - 1) * max_delay of sleep, plus what the attempts themselves take.
//
// Lost answers. A put whose answer was lost (a timeout, a reset, a 503 from a proxy after
// the server stored it) may have taken effect. Repeating an unconditional put is harmless;
// repeating a conditional one (If-None-Match: *, If-Match) would fail its condition against
// our own write. So after a retryable failure of a conditional put the wrapper looks before
// it tries again, and looks again when a later attempt answers kPreconditionFailed: if the
// object now holds exactly the bytes being put (HEAD for the size, then GET and compare),
// the put landed and the call succeeds; otherwise it goes on (retrying, or returning the
// precondition failure). The same bytes from another writer would pass as well; ZeroFS never
// writes the same bytes from two writers (segments and roots carry the writer's epoch).
//
// Stores that retry by themselves. S3Store retries each request itself (it re-signs every
// attempt, backs off on SlowDown, checks its own conditional puts by ETag) and says so in
// Capabilities::internal_attempts. Over such a store the budget is shared, not multiplied:
// the wrapper makes max(1, max_attempts / internal_attempts) calls, so a call costs at most
// max(max_attempts, internal_attempts) requests in total. Wrappers in between (metering,
// latency) pass the capability through.
//
// Ownership: shares the inner store. Thread-safety: fully thread-safe; the jitter generator
// is the only mutable state, under a mutex; sleeps run without it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "zerofs/objstore/store_wrapper.h"

namespace zerofs::objstore {

struct RetryPolicy {
  std::uint32_t max_attempts = 7;  // in total, first attempt included; at least 1
  std::chrono::milliseconds base_delay{50};
  std::chrono::milliseconds max_delay{5000};
  bool retry_io_errors = false;  // kIoError counts as transient too

  // The longest a call may sleep between its attempts: (max_attempts - 1) * max_delay.
  std::chrono::milliseconds MaxTotalSleep() const;
};

// Counters since construction; a snapshot.
struct RetryStats {
  std::uint64_t calls = 0;
  std::uint64_t retries = 0;       // attempts beyond the first
  std::uint64_t gave_up = 0;       // calls that failed retryably on their last attempt
  std::uint64_t lost_answers = 0;  // conditional puts found to have landed after all
};

class RetryingStore final : public StoreWrapper {
 public:
  using SleepFn = std::function<void(std::chrono::milliseconds)>;

  // `sleep` serves the backoff; default: std::this_thread::sleep_for. `seed` seeds the
  // jitter (0: a random seed).
  RetryingStore(std::shared_ptr<ObjectStore> inner, RetryPolicy policy, std::uint64_t seed = 0,
                SleepFn sleep = nullptr);
  ~RetryingStore() override;

  const RetryPolicy& policy() const { return policy_; }
  RetryStats stats() const;
  // Calls of the inner store one call of this store makes at most.
  std::uint32_t calls_per_call() const;

  // The inner store's capabilities; internal_attempts becomes this store's total.
  Capabilities capabilities() const override;

 protected:
  Result<GetResult> DoGet(std::string_view key, std::optional<ByteRange> range) override;
  Result<ObjectInfo> DoPut(std::string_view key, std::string_view data,
                           const PutOptions& options) override;
  Result<ObjectInfo> DoHead(std::string_view key) override;
  Result<ListPageResult> DoListPage(std::string_view prefix, std::string_view start_after,
                                    std::uint32_t max_keys) override;
  Status DoDelete(std::string_view key) override;
  Status DoDeleteMany(std::span<const std::string> keys) override;

 private:
  bool Transient(const Status& status) const;
  // Sleeps before retry number `retry` (1-based).
  void Backoff(std::uint32_t retry);
  // Runs `attempt` until it succeeds, fails for good or the budget is spent.
  template <typename T>
  Result<T> Run(std::string_view what, const std::function<Result<T>()>& attempt);
  // Whether `key` holds exactly `data` now (the conditional put landed): its info if so,
  // nullopt if not, a transient failure if the look itself failed.
  Result<std::optional<ObjectInfo>> Landed(std::string_view key, std::string_view data);

  const RetryPolicy policy_;
  const SleepFn sleep_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;  // GUARDED_BY(mu_)
  RetryStats stats_;     // GUARDED_BY(mu_)
};

}  // namespace zerofs::objstore
