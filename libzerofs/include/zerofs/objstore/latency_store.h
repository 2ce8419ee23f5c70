// LatencyStore: wraps a store so that it answers as slowly as a remote bucket: every
// request takes a round trip, and object bytes cross a link of limited bandwidth that all
// concurrent requests share. Benchmarks and load tests put it around a LocalStore or a
// MemoryStore to see how ZeroFS behaves against S3 (this kernel has no netem).
//
// The link model: uploads (PUT payloads) and downloads (GET payloads) each have their own
// pipe of `bytes_per_second` (a full-duplex link). A transfer of n bytes occupies its pipe
// for n / bytes_per_second, starting when the pipe is free, so concurrent transfers queue
// and together never exceed the bandwidth. A request completes one round trip after its
// transfer: a PUT takes effect after its bytes were sent and the round trip elapsed; a GET
// reads the inner store first (to know how many bytes), then waits. HEAD, LIST and DELETE
// cost one round trip; their small responses are not counted against the bandwidth.
//
// Time comes from an injectable TimeSource so that tests can check the model exactly
// with a fake clock; by default it is std::chrono::steady_clock and sleep_until.
//
// Thread-safety: fully thread-safe; the link reservation takes one mutex briefly, and
// requests sleep without it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "zerofs/objstore/store_wrapper.h"

namespace zerofs::objstore {

struct LatencyOptions {
  std::chrono::microseconds round_trip{0};  // per request
  std::uint64_t bytes_per_second = 0;       // per direction, shared; 0: unlimited
};

class LatencyStore final : public StoreWrapper {
 public:
  using Clock = std::chrono::steady_clock;
  struct TimeSource {
    std::function<Clock::time_point()> now;
    std::function<void(Clock::time_point)> sleep_until;
  };

  // Unset members of `time` use the real clock.
  LatencyStore(std::shared_ptr<ObjectStore> inner, LatencyOptions options, TimeSource time = {});
  ~LatencyStore() override;

  const LatencyOptions& options() const { return options_; }

  // The inner store's description, tagged with the simulated link.
  std::string Describe() const override;

  // How long `bytes` occupy one direction of the link.
  std::chrono::nanoseconds TransferTime(std::uint64_t bytes) const;

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
  enum class Direction : std::uint8_t { kUpload, kDownload };

  Clock::time_point Now() const;
  // Waits until a request that started at `start` and moves `bytes` in `direction`
  // would have completed.
  void Wait(Clock::time_point start, Direction direction, std::uint64_t bytes);

  const LatencyOptions options_;
  const TimeSource time_;
  std::mutex mu_;
  Clock::time_point upload_free_at_{};    // GUARDED_BY(mu_)
  Clock::time_point download_free_at_{};  // GUARDED_BY(mu_)
};

}  // namespace zerofs::objstore
