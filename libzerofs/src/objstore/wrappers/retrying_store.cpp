#include "zerofs/objstore/retrying_store.h"

#include <algorithm>
#include <thread>

#include "zerofs/common/log.h"

namespace zerofs::objstore {

std::chrono::milliseconds RetryPolicy::MaxTotalSleep() const {
  return max_delay * (std::max<std::uint32_t>(max_attempts, 1) - 1);
}

RetryingStore::RetryingStore(std::shared_ptr<ObjectStore> inner, RetryPolicy policy,
                             std::uint64_t seed, SleepFn sleep)
    : StoreWrapper(std::move(inner)),
      policy_(policy),
      sleep_(sleep ? std::move(sleep)
                   : SleepFn([](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); })),
      rng_(seed != 0 ? seed : std::random_device{}()) {}

RetryingStore::~RetryingStore() = default;

RetryStats RetryingStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::uint32_t RetryingStore::calls_per_call() const {
  const std::uint32_t own = std::max<std::uint32_t>(inner().capabilities().internal_attempts, 1);
  return std::max<std::uint32_t>(1, std::max<std::uint32_t>(policy_.max_attempts, 1) / own);
}

Capabilities RetryingStore::capabilities() const {
  Capabilities c = inner().capabilities();
  c.internal_attempts = std::max<std::uint32_t>(c.internal_attempts, 1) * calls_per_call();
  return c;
}

bool RetryingStore::Transient(const Status& status) const {
  return status.IsRetryable() || (policy_.retry_io_errors && status.code() == StatusCode::kIoError);
}

void RetryingStore::Backoff(std::uint32_t retry) {
  std::uint64_t cap =
      static_cast<std::uint64_t>(std::max<std::int64_t>(policy_.base_delay.count(), 0));
  const auto max = static_cast<std::uint64_t>(std::max<std::int64_t>(policy_.max_delay.count(), 0));
  for (std::uint32_t i = 1; i < retry && cap < max; ++i) cap *= 2;
  cap = std::min(cap, max);
  std::uint64_t random = 0;
  {
    std::lock_guard lock(mu_);
    random = rng_();
    stats_.retries++;
  }
  sleep_(std::chrono::milliseconds(static_cast<std::int64_t>(random % (cap + 1))));
}

template <typename T>
Result<T> RetryingStore::Run(std::string_view what, const std::function<Result<T>()>& attempt) {
  const std::uint32_t calls = calls_per_call();
  {
    std::lock_guard lock(mu_);
    stats_.calls++;
  }
  for (std::uint32_t n = 1;; ++n) {
    Result<T> result = attempt();
    if (result.ok() || !Transient(result.status())) return result;
    if (n >= calls) {
      {
        std::lock_guard lock(mu_);
        stats_.gave_up++;
      }
      if (calls > 1) {
        ZEROFS_LOG(kWarn) << what << ": " << result.status() << " (gave up after " << n
                          << " calls)";
      }
      return result;
    }
    ZEROFS_LOG(kDebug) << what << ": " << result.status() << " (retry " << n << " of " << calls - 1
                       << ")";
    Backoff(n);
  }
}

Result<std::optional<ObjectInfo>> RetryingStore::Landed(std::string_view key,
                                                        std::string_view data) {
  using Found = std::optional<ObjectInfo>;
  Result<ObjectInfo> head = inner().Head(key);
  if (!head.ok() && Transient(head.status())) return head.status();
  if (!head.ok() || head->size != data.size()) return Found();
  Result<GetResult> got = inner().Get(key);
  if (!got.ok() && Transient(got.status())) return got.status();
  if (!got.ok() || got->data != data) return Found();
  {
    std::lock_guard lock(mu_);
    stats_.lost_answers++;
  }
  ZEROFS_LOG(kInfo) << "PUT " << key << " took effect although its answer was lost";
  return Found(std::move(got->info));
}

Result<GetResult> RetryingStore::DoGet(std::string_view key, std::optional<ByteRange> range) {
  return Run<GetResult>(key, [&] { return inner().Get(key, range); });
}

Result<ObjectInfo> RetryingStore::DoPut(std::string_view key, std::string_view data,
                                        const PutOptions& options) {
  if (options.condition == PutCondition::kNone) {
    return Run<ObjectInfo>(key, [&] { return inner().Put(key, data, options); });
  }
  // Set once an attempt may have reached the store without us seeing its answer. From then
  // on, every attempt looks before it puts, and a 412 is checked against our own bytes; a
  // look that fails transiently is a failed attempt (the next one looks again).
  bool ambiguous = false;
  auto look = [&](Result<ObjectInfo> otherwise) -> Result<ObjectInfo> {
    Result<std::optional<ObjectInfo>> found = Landed(key, data);
    if (!found.ok()) return found.status();
    if (found->has_value()) return **found;
    return otherwise;
  };
  Result<ObjectInfo> result = Run<ObjectInfo>(key, [&]() -> Result<ObjectInfo> {
    if (ambiguous) {
      Result<std::optional<ObjectInfo>> found = Landed(key, data);
      if (!found.ok()) return found.status();
      if (found->has_value()) return **found;
    }
    Result<ObjectInfo> put = inner().Put(key, data, options);
    if (put.ok()) return put;
    if (Transient(put.status())) {
      ambiguous = true;
      return put;
    }
    if (ambiguous && put.status().IsPreconditionFailed()) return look(std::move(put));
    return put;
  });
  // The last attempt's answer may have been lost too: one more look.
  if (!result.ok() && ambiguous && Transient(result.status())) return look(std::move(result));
  return result;
}

Result<ObjectInfo> RetryingStore::DoHead(std::string_view key) {
  return Run<ObjectInfo>(key, [&] { return inner().Head(key); });
}

Result<ListPageResult> RetryingStore::DoListPage(std::string_view prefix,
                                                 std::string_view start_after,
                                                 std::uint32_t max_keys) {
  return Run<ListPageResult>(prefix,
                             [&] { return inner().ListPage(prefix, start_after, max_keys); });
}

Status RetryingStore::DoDelete(std::string_view key) {
  Result<bool> r = Run<bool>(key, [&]() -> Result<bool> {
    ZEROFS_RETURN_IF_ERROR(inner().Delete(key));
    return true;
  });
  return r.status();
}

Status RetryingStore::DoDeleteMany(std::span<const std::string> keys) {
  // Deleting is idempotent: a retry deletes again what an earlier attempt may have deleted.
  Result<bool> r = Run<bool>(keys.empty() ? std::string_view() : std::string_view(keys.front()),
                             [&]() -> Result<bool> {
                               ZEROFS_RETURN_IF_ERROR(inner().DeleteMany(keys));
                               return true;
                             });
  return r.status();
}

}  // namespace zerofs::objstore
