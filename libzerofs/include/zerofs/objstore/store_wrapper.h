// StoreWrapper: an ObjectStore that forwards every call to another store, the base of
// FaultInjectingStore, LatencyStore and MeteredStore (as LevelDB's EnvWrapper is for Env).
//
// A subclass overrides the Do* methods it changes and calls the inner store's public
// methods (which validate again; that is cheap and keeps every store self-checking).
// capabilities() and Describe() report the inner store's; a subclass may add a tag to
// Describe(). The wrapper shares ownership of the inner store, so wrappers stack:
//   auto store = std::make_shared<MeteredStore>(
//       std::make_shared<LatencyStore>(local_store, LatencyOptions{...}));
//
// Thread-safety: as thread-safe as the inner store; the wrapper itself holds no mutable
// state.
#pragma once

#include <memory>
#include <string>

#include "zerofs/objstore/object_store.h"

namespace zerofs::objstore {

class StoreWrapper : public ObjectStore {
 public:
  // `inner` must not be null.
  explicit StoreWrapper(std::shared_ptr<ObjectStore> inner);
  ~StoreWrapper() override;

  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return inner_->Describe(); }

  ObjectStore& inner() const { return *inner_; }
  const std::shared_ptr<ObjectStore>& shared_inner() const { return inner_; }

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
  const std::shared_ptr<ObjectStore> inner_;
};

}  // namespace zerofs::objstore
