// SingleFlight: concurrent requests for the same key share one execution.
//
//   SingleFlight<std::string, Meta> flights;
//   Result<Meta> meta = flights.Do(name, [&] { return ReadMeta(name); });
//
// The first caller of Do(key, fn) runs fn on its own thread; callers that arrive with the
// same key while it runs wait and receive a copy of the same Result (value or error). Once
// fn returns, the key is free again: the next call runs fn anew, so results are never
// cached here (a cache in front of Do does that) and a failure is not sticky.
//
// fn should not throw (libzerofs reports errors as Results). If it does, waiters receive
// kInternal and the exception propagates to the caller that ran fn, so nobody waits forever.
//
// Ownership: the caller owns the SingleFlight; it must outlive every Do in progress.
// Thread-safety: Do and stats may be called concurrently from any thread. fn runs without
// any lock held, so it may itself call Do with other keys (not with its own key, which
// would wait for itself).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "zerofs/common/result.h"

namespace zerofs::cache {

struct SingleFlightStats {
  std::uint64_t executions = 0;  // calls that ran fn
  std::uint64_t shared = 0;      // calls that waited for another caller's fn instead
  std::uint64_t in_flight = 0;   // keys whose fn runs now
};

template <typename Key, typename Value, typename Hash = std::hash<Key>,
          typename KeyEqual = std::equal_to<Key>>
class SingleFlight {
 public:
  SingleFlight() = default;
  SingleFlight(const SingleFlight&) = delete;
  SingleFlight& operator=(const SingleFlight&) = delete;

  template <typename Fn>
  Result<Value> Do(const Key& key, Fn&& fn) {
    static_assert(std::is_convertible_v<std::invoke_result_t<Fn&>, Result<Value>>,
                  "fn must return Result<Value>");
    std::shared_ptr<Call> call;
    {
      std::unique_lock lock(mu_);
      if (const auto found = calls_.find(key); found != calls_.end()) {
        call = found->second;
        ++shared_;
        call->done_cv.wait(lock, [&] { return call->result.has_value(); });
        return *call->result;
      }
      call = std::make_shared<Call>();
      calls_.emplace(key, call);
      ++executions_;
    }
    // Publishes the outcome even if fn throws; on a throw `outcome` is still empty.
    std::optional<Result<Value>> outcome;
    struct Publisher {
      SingleFlight* self;
      const Key& key;
      const std::shared_ptr<Call>& call;
      std::optional<Result<Value>>& outcome;
      ~Publisher() {
        std::lock_guard lock(self->mu_);
        call->result = outcome.has_value()
                           ? *outcome
                           : Result<Value>(Status::Internal("single-flight function threw"));
        self->calls_.erase(key);
        call->done_cv.notify_all();
      }
    } publisher{this, key, call, outcome};
    outcome.emplace(std::invoke(fn));
    return *outcome;
  }

  SingleFlightStats stats() const {
    std::lock_guard lock(mu_);
    return {executions_, shared_, static_cast<std::uint64_t>(calls_.size())};
  }

 private:
  struct Call {
    std::condition_variable done_cv;
    std::optional<Result<Value>> result;  // GUARDED_BY(mu_); set once, when fn returned
  };

  mutable std::mutex mu_;
  std::unordered_map<Key, std::shared_ptr<Call>, Hash, KeyEqual> calls_;  // GUARDED_BY(mu_)
  std::uint64_t executions_ = 0;                                          // GUARDED_BY(mu_)
  std::uint64_t shared_ = 0;                                              // GUARDED_BY(mu_)
};

}  // namespace zerofs::cache
