// LocalStore: an ObjectStore in a local directory (file:///path).
//
// Each object is a file at <root>/<key>; '/' in keys makes subdirectories, created as
// needed and removed again when a delete leaves them empty. Internal files live under
// <root>/.zerofs-local/ (temporary files, lock files) and never appear in listings; keys
// whose first component starts with ".zerofs-" are rejected. Because a file cannot also be
// a directory, a key that is a proper prefix of another at a '/' ("a" and "a/b") cannot
// coexist with it: the second put fails with kNotSupported naming both.
//
// Durability: a put writes a temporary file, fsyncs it, renames it over the key and fsyncs
// the directory (and, the first time this process uses a directory, the parent of every
// directory on the path), so after a crash an object is either absent, its old content, or
// its new content, never torn. A failed put (ENOSPC, EIO, ...) removes its temporary file
// and leaves the key as it was. Temporary files of writers that died are invisible and are
// removed by a later Open() once no process holds them.
//
// Conditional puts are correct when several processes (not only threads) race on one
// directory: exactly one If-None-Match: * put of a key wins; an If-Match put with a stale
// etag fails. Every put of a key holds an exclusive flock(2) on one of 256 lock files
// (chosen by a stable hash of the key, so the lock directory stays bounded) across the
// check, the rename and the directory fsync; a delete holds it across the unlink. The
// lock is taken after the data is written and fsynced, so it is held only briefly.
//
// Etags are a 128-bit BLAKE2b hash of the content (32 hex digits), kept in an extended
// attribute (user.zerofs.etag, together with the file's size and mtime so that a file
// edited behind the store's back is rehashed) when the filesystem supports it and
// recomputed from the content otherwise, so they survive restarts and are equal for equal
// content, as S3's MD5 etags are.
//
// Listing walks only the directories that can hold keys after `start_after` under
// `prefix`, in the byte order of full keys (as S3 does: "a-b" < "a/b" < "a0"). A page
// reads each directory it visits once, keeping only as many entries as the page needs.
// Objects without a cached etag (no xattr support, or files copied in by hand) are read
// in full to hash them, which makes listing them as costly as reading them.
//
// Thread-safety: fully thread-safe and multi-process safe as described.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

#include "zerofs/objstore/object_store.h"

namespace zerofs::objstore {

class LocalStore final : public ObjectStore {
 public:
  // Creates `root` (and parents) if missing. Fails if it is not a writable directory.
  // Removes temporary files left by dead writers.
  static Result<std::shared_ptr<LocalStore>> Open(const std::filesystem::path& root);
  ~LocalStore() override;
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  std::string Describe() const override;

  // Whether etags are cached in extended attributes (false: hashed on every read).
  bool caches_etags() const { return xattr_supported_.load(std::memory_order_relaxed); }

  // The name of the internal directory under the root, and the reserved key prefix.
  static constexpr const char* kInternalDirName = ".zerofs-local";
  static constexpr const char* kReservedPrefix = ".zerofs-";

 protected:
  Result<GetResult> DoGet(std::string_view key, std::optional<ByteRange> range) override;
  Result<ObjectInfo> DoPut(std::string_view key, std::string_view data,
                           const PutOptions& options) override;
  Result<ObjectInfo> DoHead(std::string_view key) override;
  Result<ListPageResult> DoListPage(std::string_view prefix, std::string_view start_after,
                                    std::uint32_t max_keys) override;
  Status DoDelete(std::string_view key) override;
  // Unlinks every key, then fsyncs each affected directory once.
  Status DoDeleteMany(std::span<const std::string> keys) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  struct Impl;  // the file operations, in local_store.cpp

  // Identity of a directory: device, inode and birth time (0 where unknown), so that a
  // directory removed and created again is not mistaken for the old one.
  using DirId = std::tuple<dev_t, ino_t, std::int64_t>;

  LocalStore(std::filesystem::path root, int root_fd, int tmp_fd, int locks_fd);

  const std::filesystem::path root_;
  // Opened once and never changed; openat() relative to them is safe from any thread.
  const int root_fd_;
  const int tmp_fd_;    // <root>/.zerofs-local/tmp
  const int locks_fd_;  // <root>/.zerofs-local/locks
  std::atomic<bool> xattr_supported_{true};

  // Directories whose entry in their parent this process has made durable (fsync of the
  // parent), so a put fsyncs each directory on its path only once per process.
  mutable std::mutex durable_mu_;
  std::set<DirId> durable_dirs_;  // GUARDED_BY(durable_mu_)
};

}  // namespace zerofs::objstore
