#include "zerofs/objstore/store_wrapper.h"

#include <cstdio>
#include <cstdlib>

namespace zerofs::objstore {

StoreWrapper::StoreWrapper(std::shared_ptr<ObjectStore> inner) : inner_(std::move(inner)) {
  if (inner_ == nullptr) {
    std::fprintf(stderr, "zerofs: StoreWrapper constructed without an inner store\n");
    std::abort();
  }
}

StoreWrapper::~StoreWrapper() = default;

Result<GetResult> StoreWrapper::DoGet(std::string_view key, std::optional<ByteRange> range) {
  return inner_->Get(key, range);
}

Result<ObjectInfo> StoreWrapper::DoPut(std::string_view key, std::string_view data,
                                       const PutOptions& options) {
  return inner_->Put(key, data, options);
}

Result<ObjectInfo> StoreWrapper::DoHead(std::string_view key) {
  return inner_->Head(key);
}

Result<ListPageResult> StoreWrapper::DoListPage(std::string_view prefix,
                                                std::string_view start_after,
                                                std::uint32_t max_keys) {
  return inner_->ListPage(prefix, start_after, max_keys);
}

Status StoreWrapper::DoDelete(std::string_view key) {
  return inner_->Delete(key);
}

Status StoreWrapper::DoDeleteMany(std::span<const std::string> keys) {
  return inner_->DeleteMany(keys);
}

}  // namespace zerofs::objstore
