// FaultInjectingStore: wraps a store and makes calls fail, take effect but report failure,
// return short list pages, or wait, according to rules, deterministically from a seed.
//
// Tests of the layers above the bucket use it to prove that they survive what S3 does to
// them: 503s, timeouts after a put took effect, short listing pages, slow requests, and
// a crash after which nothing reaches the bucket.
//
//   auto store = std::make_shared<FaultInjectingStore>(inner, seed);
//   store->AddRule(FaultRule::FailNth(3, StoreOp::kPut));            // 3rd put: 503
//   store->AddRule(FaultRule::FailRandomly(0.1).After());             // 10%: effect, then error
//   store->AddRule(FaultRule::FailNth(7, StoreOp::kPut).After().ThenCrash());
//
// Each call is matched against the rules in the order they were added. A rule sees the
// calls of its operation (any operation when unset) whose key starts with its key prefix
// (for a listing: whose list prefix does; for DeleteMany: if any key does); each call it
// sees advances its counter. It fires on the nth..(nth+count-1)th calls it sees, or, when
// nth is 0, with its probability, drawn from the store's seeded generator. The first firing
// failure or truncation rule decides the call; delay rules add up and do not stop the
// matching. A fired rule with `crash` set crashes the store after its effect: every later
// call fails with kUnavailable until Restart().
//
// Determinism: for a given seed, rules and sequence of calls, the same calls fail in the
// same way. Calls from several threads are decided in the order they take the store's
// mutex, so concurrent tests are only as repeatable as their scheduling; failing tests
// print seed().
//
// Thread-safety: fully thread-safe; decisions are made under one mutex, the inner store
// and the sleep function are called without it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "zerofs/objstore/store_op.h"
#include "zerofs/objstore/store_wrapper.h"

namespace zerofs::objstore {

enum class FaultEffect : std::uint8_t {
  kFailBefore = 0,    // return the error without calling the inner store
  kFailAfter = 1,     // call the inner store (a put or delete takes effect), return the error
  kTruncateList = 2,  // a list page keeps fewer keys than the inner store returned
  kDelay = 3,         // wait, then carry on
};

struct FaultRule {
  static constexpr std::uint64_t kForever = std::numeric_limits<std::uint64_t>::max();

  // Which calls the rule sees.
  std::optional<StoreOp> op;  // unset: every operation (kTruncateList: lists only)
  std::string key_prefix;
  // When it fires, among the calls it sees (1-based).
  std::uint64_t nth = 0;
  std::uint64_t count = 1;   // calls nth .. nth + count - 1; kForever: from nth on
  double probability = 0.0;  // used when nth == 0
  // What it does.
  FaultEffect effect = FaultEffect::kFailBefore;
  StatusCode code = StatusCode::kUnavailable;
  std::chrono::microseconds delay{0};
  std::chrono::microseconds delay_jitter{0};  // kDelay: plus a uniform [0, jitter]
  std::uint32_t keep_keys = 0;                // kTruncateList: keys kept; 0: random, at least one
  bool crash = false;

  // The nth call (of `op`, if given) fails before taking effect.
  static FaultRule FailNth(std::uint64_t nth, std::optional<StoreOp> op = std::nullopt);
  // Every call (of `op`) fails with probability `p`.
  static FaultRule FailRandomly(double p, std::optional<StoreOp> op = std::nullopt);
  // List pages holding more than one key are cut short with probability `p`.
  static FaultRule TruncateLists(double p = 1.0, std::uint32_t keep_keys = 0);
  // Every call (of `op`) waits `delay` plus up to `jitter`.
  static FaultRule Delay(std::chrono::microseconds delay, std::optional<StoreOp> op = std::nullopt,
                         std::chrono::microseconds jitter = {});

  // Builder-style refinements.
  FaultRule After() && {
    effect = FaultEffect::kFailAfter;
    return std::move(*this);
  }
  FaultRule WithCode(StatusCode c) && {
    code = c;
    return std::move(*this);
  }
  FaultRule ForKeys(std::string prefix) && {
    key_prefix = std::move(prefix);
    return std::move(*this);
  }
  FaultRule Times(std::uint64_t n) && {
    count = n;
    return std::move(*this);
  }
  FaultRule ThenCrash() && {
    crash = true;
    return std::move(*this);
  }
};

// Counters of what the store did; a snapshot. Failures are counted when a call is decided
// (an After failure of a put that failed by itself still counts).
struct FaultStats {
  std::uint64_t calls = 0;  // calls decided (including refused ones)
  std::uint64_t failed_before = 0;
  std::uint64_t failed_after = 0;
  std::uint64_t truncated_lists = 0;
  std::uint64_t delayed = 0;
  std::uint64_t refused_crashed = 0;  // calls failed because the store had crashed

  std::uint64_t injected() const {
    return failed_before + failed_after + truncated_lists + delayed + refused_crashed;
  }
};

class FaultInjectingStore final : public StoreWrapper {
 public:
  using SleepFn = std::function<void(std::chrono::microseconds)>;

  // `sleep` serves delays; default: std::this_thread::sleep_for.
  FaultInjectingStore(std::shared_ptr<ObjectStore> inner, std::uint64_t seed,
                      SleepFn sleep = nullptr);
  ~FaultInjectingStore() override;

  std::uint64_t seed() const { return seed_; }

  void AddRule(FaultRule rule);
  void ClearRules();

  // From now on every call fails with kUnavailable, as if the process lost the bucket.
  void Crash();
  // Calls reach the inner store again (after a simulated restart).
  void Restart();
  bool crashed() const;

  FaultStats stats() const;

  // The inner store's description, tagged with the seed.
  std::string Describe() const override;

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
  struct RuleState {
    FaultRule rule;
    std::size_t index = 0;  // position among the rules ever added, for messages
    std::uint64_t seen = 0;
  };
  // What to do with one call.
  struct Decision {
    bool refused = false;  // the store had crashed before this call
    std::optional<FaultEffect> effect;
    StatusCode code = StatusCode::kUnavailable;
    std::uint32_t keep_keys = 0;
    std::chrono::microseconds delay{0};
    std::string why;  // "rule #2, call #5"
  };

  // Matches a call against the rules; `keys` are the call's keys (the list prefix for a
  // list). Updates counters, draws randomness and applies a crash, under mu_.
  Decision Decide(StoreOp op, std::span<const std::string_view> keys);
  // Sleeps, and returns the error to report before calling the inner store, if any.
  std::optional<Status> Before(const Decision& d, StoreOp op, std::string_view key);
  Status InjectedError(const Decision& d, StoreOp op, std::string_view key) const;
  double NextUnit();  // uniform in [0, 1), from rng_; requires mu_

  const std::uint64_t seed_;
  const SleepFn sleep_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;           // GUARDED_BY(mu_)
  std::vector<RuleState> rules_;  // GUARDED_BY(mu_)
  std::size_t rules_added_ = 0;   // GUARDED_BY(mu_)
  bool crashed_ = false;          // GUARDED_BY(mu_)
  FaultStats stats_;              // GUARDED_BY(mu_)
};

}  // namespace zerofs::objstore
