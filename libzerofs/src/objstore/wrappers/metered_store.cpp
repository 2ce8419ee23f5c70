#include "zerofs/objstore/metered_store.h"

#include <cstdio>

namespace zerofs::objstore {
namespace {

constexpr std::uint64_t kDeleteBatch = 1000;  // keys per S3 DeleteObjects request

std::string Megabytes(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

std::uint64_t MeterSnapshot::requests(StoreOp op) const {
  switch (op) {
    case StoreOp::kGet: return get_requests;
    case StoreOp::kPut: return put_requests;
    case StoreOp::kHead: return head_requests;
    case StoreOp::kList: return list_requests;
    case StoreOp::kDelete: return delete_requests;
  }
  return 0;
}

double MeterSnapshot::Cost(const StorePrices& prices) const {
  auto per_1000 = [](std::uint64_t n, double price) {
    return static_cast<double>(n) / 1000.0 * price;
  };
  return per_1000(put_requests, prices.put_per_1000) +
         per_1000(list_requests, prices.list_per_1000) +
         per_1000(get_requests, prices.get_per_1000) +
         per_1000(head_requests, prices.head_per_1000) +
         per_1000(delete_requests, prices.delete_per_1000) +
         static_cast<double>(bytes_in) / 1e9 * prices.transfer_in_per_gb;
}

std::string MeterSnapshot::ToString() const {
  return "GET " + std::to_string(get_requests) + ", PUT " + std::to_string(put_requests) +
         ", HEAD " + std::to_string(head_requests) + ", LIST " + std::to_string(list_requests) +
         ", DELETE " + std::to_string(delete_requests) + " (" + std::to_string(deleted_keys) +
         " keys), " + Megabytes(bytes_in) + " in, " + Megabytes(bytes_out) + " out, " +
         std::to_string(errors) + " errors";
}

MeterSnapshot operator-(const MeterSnapshot& a, const MeterSnapshot& b) {
  MeterSnapshot d;
  d.get_requests = a.get_requests - b.get_requests;
  d.put_requests = a.put_requests - b.put_requests;
  d.head_requests = a.head_requests - b.head_requests;
  d.list_requests = a.list_requests - b.list_requests;
  d.delete_requests = a.delete_requests - b.delete_requests;
  d.deleted_keys = a.deleted_keys - b.deleted_keys;
  d.bytes_in = a.bytes_in - b.bytes_in;
  d.bytes_out = a.bytes_out - b.bytes_out;
  d.errors = a.errors - b.errors;
  return d;
}

MeteredStore::MeteredStore(std::shared_ptr<ObjectStore> inner) : StoreWrapper(std::move(inner)) {}

MeteredStore::~MeteredStore() = default;

std::string MeteredStore::Describe() const {
  return inner().Describe() + " [metered]";
}

MeterSnapshot MeteredStore::Snapshot() const {
  auto load = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
  MeterSnapshot s;
  s.get_requests = load(get_requests_);
  s.put_requests = load(put_requests_);
  s.head_requests = load(head_requests_);
  s.list_requests = load(list_requests_);
  s.delete_requests = load(delete_requests_);
  s.deleted_keys = load(deleted_keys_);
  s.bytes_in = load(bytes_in_);
  s.bytes_out = load(bytes_out_);
  s.errors = load(errors_);
  return s;
}

void MeteredStore::Reset() {
  for (Counter* c : {&get_requests_, &put_requests_, &head_requests_, &list_requests_,
                     &delete_requests_, &deleted_keys_, &bytes_in_, &bytes_out_, &errors_}) {
    c->store(0, std::memory_order_relaxed);
  }
}

Result<GetResult> MeteredStore::DoGet(std::string_view key, std::optional<ByteRange> range) {
  Add(get_requests_, 1);
  Result<GetResult> r = inner().Get(key, range);
  CountError(r.ok());
  if (r.ok()) Add(bytes_in_, r->data.size());
  return r;
}

Result<ObjectInfo> MeteredStore::DoPut(std::string_view key, std::string_view data,
                                       const PutOptions& options) {
  Add(put_requests_, 1);
  Add(bytes_out_, data.size());
  Result<ObjectInfo> r = inner().Put(key, data, options);
  CountError(r.ok());
  return r;
}

Result<ObjectInfo> MeteredStore::DoHead(std::string_view key) {
  Add(head_requests_, 1);
  Result<ObjectInfo> r = inner().Head(key);
  CountError(r.ok());
  return r;
}

Result<ListPageResult> MeteredStore::DoListPage(std::string_view prefix,
                                                std::string_view start_after,
                                                std::uint32_t max_keys) {
  Add(list_requests_, 1);
  Result<ListPageResult> r = inner().ListPage(prefix, start_after, max_keys);
  CountError(r.ok());
  return r;
}

Status MeteredStore::DoDelete(std::string_view key) {
  Add(delete_requests_, 1);
  Add(deleted_keys_, 1);
  Status s = inner().Delete(key);
  CountError(s.ok());
  return s;
}

Status MeteredStore::DoDeleteMany(std::span<const std::string> keys) {
  Add(delete_requests_, (keys.size() + kDeleteBatch - 1) / kDeleteBatch);
  Add(deleted_keys_, keys.size());
  Status s = inner().DeleteMany(keys);
  CountError(s.ok());
  return s;
}

}  // namespace zerofs::objstore
