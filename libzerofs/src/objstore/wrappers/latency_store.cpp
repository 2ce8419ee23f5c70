#include "zerofs/objstore/latency_store.h"

#include <algorithm>
#include <thread>

namespace zerofs::objstore {

LatencyStore::LatencyStore(std::shared_ptr<ObjectStore> inner, LatencyOptions options,
                           TimeSource time)
    : StoreWrapper(std::move(inner)), options_(options), time_(std::move(time)) {}

LatencyStore::~LatencyStore() = default;

std::string LatencyStore::Describe() const {
  std::string tag = " [latency: round trip " + std::to_string(options_.round_trip.count()) + " us";
  if (options_.bytes_per_second > 0) {
    tag += ", " + std::to_string(options_.bytes_per_second) + " bytes/s";
  }
  return inner().Describe() + tag + "]";
}

std::chrono::nanoseconds LatencyStore::TransferTime(std::uint64_t bytes) const {
  const std::uint64_t rate = options_.bytes_per_second;
  if (rate == 0 || bytes == 0) return std::chrono::nanoseconds(0);
  // Whole seconds and the remainder apart, so that large objects cannot overflow.
  constexpr std::uint64_t kNsPerSecond = 1'000'000'000;
  const std::uint64_t ns = bytes / rate * kNsPerSecond + (bytes % rate) * kNsPerSecond / rate;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

LatencyStore::Clock::time_point LatencyStore::Now() const {
  return time_.now ? time_.now() : Clock::now();
}

void LatencyStore::Wait(Clock::time_point start, Direction direction, std::uint64_t bytes) {
  Clock::time_point done = start;
  const std::chrono::nanoseconds transfer = TransferTime(bytes);
  if (transfer.count() > 0) {
    std::lock_guard lock(mu_);
    Clock::time_point& free_at =
        direction == Direction::kUpload ? upload_free_at_ : download_free_at_;
    done = std::max(start, free_at) + transfer;
    free_at = done;
  }
  done += options_.round_trip;
  if (time_.sleep_until) {
    time_.sleep_until(done);
  } else {
    std::this_thread::sleep_until(done);
  }
}

Result<GetResult> LatencyStore::DoGet(std::string_view key, std::optional<ByteRange> range) {
  const Clock::time_point start = Now();
  Result<GetResult> r = inner().Get(key, range);
  Wait(start, Direction::kDownload, r.ok() ? r->data.size() : 0);
  return r;
}

Result<ObjectInfo> LatencyStore::DoPut(std::string_view key, std::string_view data,
                                       const PutOptions& options) {
  Wait(Now(), Direction::kUpload, data.size());
  return inner().Put(key, data, options);
}

Result<ObjectInfo> LatencyStore::DoHead(std::string_view key) {
  Wait(Now(), Direction::kDownload, 0);
  return inner().Head(key);
}

Result<ListPageResult> LatencyStore::DoListPage(std::string_view prefix,
                                                std::string_view start_after,
                                                std::uint32_t max_keys) {
  Wait(Now(), Direction::kDownload, 0);
  return inner().ListPage(prefix, start_after, max_keys);
}

Status LatencyStore::DoDelete(std::string_view key) {
  Wait(Now(), Direction::kUpload, 0);
  return inner().Delete(key);
}

Status LatencyStore::DoDeleteMany(std::span<const std::string> keys) {
  // S3 deletes up to 1000 keys per request.
  const std::size_t requests = (keys.size() + 999) / 1000;
  for (std::size_t i = 0; i < requests; ++i) {
    Wait(Now(), Direction::kUpload, 0);
  }
  return inner().DeleteMany(keys);
}

}  // namespace zerofs::objstore
