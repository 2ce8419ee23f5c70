// MemoryStore: an ObjectStore held in process memory (memory://name).
//
// Real library code, not a test double: the engine's unit and integration tests, the
// benchmarks and examples run on it. It implements every operation with the same semantics
// as S3 (conditional puts, ranged gets, ordered paginated listing, idempotent delete).
// Etags are a hash of the content plus a per-store generation counter, so replacing an
// object always changes its etag. Stores opened by name through Open("memory://name") in
// one process share their contents, as two clients of one bucket do.
//
// Thread-safety: fully thread-safe (one mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "zerofs/objstore/object_store.h"

namespace zerofs::objstore {

class MemoryStore final : public ObjectStore {
 public:
  explicit MemoryStore(std::string name = "anonymous");
  ~MemoryStore() override;

  // The store registered under `name` in this process, created on first use.
  static std::shared_ptr<MemoryStore> Named(const std::string& name);

  std::string Describe() const override;

  // Total bytes held; for tests that check that space is given back.
  std::uint64_t BytesStored() const;
  std::size_t ObjectCount() const;

 protected:
  Result<GetResult> DoGet(std::string_view key, std::optional<ByteRange> range) override;
  Result<ObjectInfo> DoPut(std::string_view key, std::string_view data,
                           const PutOptions& options) override;
  Result<ObjectInfo> DoHead(std::string_view key) override;
  Result<ListPageResult> DoListPage(std::string_view prefix, std::string_view start_after,
                                    std::uint32_t max_keys) override;
  Status DoDelete(std::string_view key) override;

 private:
  struct Object {
    std::string data;
    std::string etag;
  };

  std::string name_;
  mutable std::mutex mu_;
  std::map<std::string, Object, std::less<>> objects_;  // GUARDED_BY(mu_)
  std::uint64_t generation_ = 0;                        // GUARDED_BY(mu_)
  std::uint64_t bytes_ = 0;                             // GUARDED_BY(mu_)
};

}  // namespace zerofs::objstore
