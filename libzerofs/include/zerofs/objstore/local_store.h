// LocalStore: an ObjectStore in a local directory (file:///path).
//
// Each object is a file at <root>/<key>; '/' in keys makes subdirectories. Internal files
// live under <root>/.zerofs-local/ (temporary files, locks) and never appear in listings;
// keys whose first component starts with ".zerofs-" are rejected.
//
// Durability: a put writes a temporary file, fsyncs it, renames it over the key and fsyncs
// the directory, so after a crash an object is either absent, its old content, or its new
// content, never torn.
//
// Conditional puts are correct when several processes (not only threads) race on one
// directory: exactly one If-None-Match: * put of a key wins; an If-Match put with a stale
// etag fails. Conditional puts of a key hold an exclusive flock(2) on a per-key lock file
// across the check and the rename.
//
// Etags are a 128-bit BLAKE2b hash of the content, kept in an extended attribute
// (user.zerofs.etag) when the filesystem supports it and recomputed otherwise, so they
// survive restarts and are equal for equal content, as S3's MD5 etags are.
//
// Thread-safety: fully thread-safe and multi-process safe as described.
#pragma once

#include <filesystem>
#include <memory>

#include "zerofs/objstore/object_store.h"

namespace zerofs::objstore {

class LocalStore final : public ObjectStore {
 public:
  // Creates `root` (and parents) if missing. Fails if it is not a writable directory.
  static Result<std::shared_ptr<LocalStore>> Open(const std::filesystem::path& root);
  ~LocalStore() override;

  std::string Describe() const override;

 protected:
  Result<GetResult> DoGet(std::string_view key, std::optional<ByteRange> range) override;
  Result<ObjectInfo> DoPut(std::string_view key, std::string_view data,
                           const PutOptions& options) override;
  Result<ObjectInfo> DoHead(std::string_view key) override;
  Result<ListPageResult> DoListPage(std::string_view prefix, std::string_view start_after,
                                  std::uint32_t max_keys) override;
  Status DoDelete(std::string_view key) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  explicit LocalStore(std::filesystem::path root);
  std::filesystem::path root_;
};

}  // namespace zerofs::objstore
