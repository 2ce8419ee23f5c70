// MeteredStore: wraps a store and counts what crosses it: requests by kind (GET, PUT, HEAD,
// LIST, DELETE), payload bytes each way, and failures, with an estimate of what those
// requests would cost on S3. Benchmarks and tests use it to check the performance budget
// ("one PUT per flush", "warm reads do not touch the bucket") and to report request costs.
//
// Counting rules, exact so tests can assert them:
//   - every call is one request of its kind, whether it succeeds or fails; a failed call
//     also counts in `errors`. ObjectStore::List counts one LIST per page.
//   - DeleteMany is one DELETE request per started batch of 1000 keys (S3's
//     DeleteObjects); `deleted_keys` counts the keys of Delete and DeleteMany calls.
//   - bytes_out: payload of every PUT request (sent even when the put then fails);
//     bytes_in: payload returned by successful GETs. Headers and listings are not counted.
// Calls rejected by validation (bad keys) never reach the meter.
//
// Thread-safety: fully thread-safe; counters are relaxed atomics, so a Snapshot() taken
// while requests run may mix counts from just before and just after some of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "zerofs/objstore/store_op.h"
#include "zerofs/objstore/store_wrapper.h"

namespace zerofs::objstore {

// Request prices in US dollars. Defaults: AWS S3 Standard, us-east-1.
struct StorePrices {
  double put_per_1000 = 0.005;  // PUT, COPY, POST, LIST
  double list_per_1000 = 0.005;
  double get_per_1000 = 0.0004;  // GET, SELECT and all other requests
  double head_per_1000 = 0.0004;
  double delete_per_1000 = 0.0;     // DELETE is free
  double transfer_in_per_gb = 0.0;  // bytes read from the bucket (free within a region)
};

struct MeterSnapshot {
  std::uint64_t get_requests = 0;
  std::uint64_t put_requests = 0;
  std::uint64_t head_requests = 0;
  std::uint64_t list_requests = 0;
  std::uint64_t delete_requests = 0;
  std::uint64_t deleted_keys = 0;
  std::uint64_t bytes_in = 0;   // read from the store
  std::uint64_t bytes_out = 0;  // written to the store
  std::uint64_t errors = 0;

  std::uint64_t requests() const {
    return get_requests + put_requests + head_requests + list_requests + delete_requests;
  }
  std::uint64_t requests(StoreOp op) const;
  // What these requests would cost.
  double Cost(const StorePrices& prices = {}) const;
  // "GET 12, PUT 3, HEAD 0, LIST 1, DELETE 0 (0 keys), 1.2 MB in, 3.4 MB out, 0 errors"
  std::string ToString() const;

  // Field-wise difference, for the requests made between two snapshots.
  friend MeterSnapshot operator-(const MeterSnapshot& a, const MeterSnapshot& b);
  friend bool operator==(const MeterSnapshot&, const MeterSnapshot&) = default;
};

class MeteredStore final : public StoreWrapper {
 public:
  explicit MeteredStore(std::shared_ptr<ObjectStore> inner);
  ~MeteredStore() override;

  MeterSnapshot Snapshot() const;
  void Reset();

  // The inner store's description, tagged "[metered]".
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
  using Counter = std::atomic<std::uint64_t>;
  static void Add(Counter& counter, std::uint64_t n) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  void CountError(bool ok) {
    if (!ok) Add(errors_, 1);
  }

  Counter get_requests_{0};
  Counter put_requests_{0};
  Counter head_requests_{0};
  Counter list_requests_{0};
  Counter delete_requests_{0};
  Counter deleted_keys_{0};
  Counter bytes_in_{0};
  Counter bytes_out_{0};
  Counter errors_{0};
};

}  // namespace zerofs::objstore
