// ObjectStore: the bucket, as the rest of ZeroFS sees it.
//
// An ObjectStore holds immutable-or-replaced objects under string keys: get (whole or a
// byte range), put (unconditional, create-only with If-None-Match: *, or compare-and-swap
// with If-Match: <etag>), head, list by prefix, delete and delete-many. Implementations:
// S3Store (s3://), LocalStore (file://), MemoryStore (memory://), and wrappers that add
// faults, latency or metering around another store (wrappers.h). Open() (open.h) builds one
// from a URL.
//
// Keys are relative to the store's prefix: "root", "segments/000000000000002a". A valid key
// is non-empty, at most 1024 bytes, does not start or end with '/', has no empty, "." or
// ".." component, and no NUL byte (ValidateKey()).
//
// Errors carry one of these codes, with the key and the server's message:
//   kNotFound            the object does not exist (get, head; delete of a missing key is OK)
//   kPreconditionFailed  If-None-Match: * and the key exists, or If-Match and the etag differs
//   kUnavailable         retryable: throttling, 5xx, timeouts, connection resets
//   kPermissionDenied    access denied, wrong credentials
//   kInvalidArgument     a malformed key or request
//   anything else        kIoError / kCorruption / kInternal with the details
// S3Store retries retryable failures internally (bounded) before returning them; the other
// stores do not, and RetryingStore (retrying_store.h) adds retries around any store.
//
// Thread-safety: all methods of every implementation are safe to call concurrently from
// many threads; a store is meant to be shared (std::shared_ptr) by all layers above it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"

namespace zerofs::objstore {

// Size and entity tag of one object. Etags are opaque strings compared for equality; they
// are stored without surrounding quotes. A store keeps an object's etag stable while the
// object is unchanged and changes it whenever the content changes.
struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
};

// A byte range [offset, offset + length). Reading past the end returns the bytes that
// exist (possibly none, when offset == size or length == 0); a range that starts past the
// end (offset > size) is kInvalidArgument.
struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct GetResult {
  std::string data;  // the requested bytes
  ObjectInfo info;   // size is the size of the whole object, not of `data`
};

enum class PutCondition : std::uint8_t {
  kNone = 0,         // unconditional: create or replace
  kIfNoneMatch = 1,  // create only: fails with kPreconditionFailed if the key exists
  kIfMatch = 2,      // replace only if the current etag equals PutOptions::if_match_etag
};

struct PutOptions {
  PutCondition condition = PutCondition::kNone;
  std::string if_match_etag;  // for kIfMatch, as returned by Head/Get/Put

  static PutOptions IfNoneMatch() { return {PutCondition::kIfNoneMatch, {}}; }
  static PutOptions IfMatch(std::string etag) { return {PutCondition::kIfMatch, std::move(etag)}; }
};

// One page of a listing, in lexicographic key order.
struct ListPageResult {
  std::vector<ObjectInfo> objects;
  bool truncated = false;  // more keys follow; continue with start_after = last key
};

// What a store really does, as probed or known; the engine adapts to it.
struct Capabilities {
  bool conditional_create = true;  // honours If-None-Match: *
  bool conditional_replace = true; // honours If-Match
  // Attempts the store makes itself at each call before it returns a retryable failure
  // (1: none of its own). RetryingStore shares its budget with them (retrying_store.h).
  std::uint32_t internal_attempts = 1;
};

// The public methods validate keys and arguments, then call the protected Do* methods that
// implementations override (non-virtual interface), so every store rejects bad input alike
// and wrappers can forward Do* calls without re-validating.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  Result<GetResult> Get(std::string_view key, std::optional<ByteRange> range = std::nullopt);
  Result<ObjectInfo> Put(std::string_view key, std::string_view data,
                         const PutOptions& options = {});
  Result<ObjectInfo> Head(std::string_view key);

  // Keys that start with `prefix` and sort after `start_after` (empty: from the start), at
  // most `max_keys` (1..1000) of them. A page may hold fewer keys than asked even when
  // truncated; callers continue until truncated is false.
  Result<ListPageResult> ListPage(std::string_view prefix, std::string_view start_after = {},
                                  std::uint32_t max_keys = 1000);

  // Every object under `prefix`, following pages until the end. Bounded by `max_objects`:
  // a listing that would exceed it fails with kInvalidArgument rather than exhaust memory.
  Result<std::vector<ObjectInfo>> List(std::string_view prefix,
                                       std::size_t max_objects = 10'000'000);

  // Deleting a key that does not exist succeeds.
  Status Delete(std::string_view key);
  // Deletes every key (in batches where the store supports it). Stops at the first failure.
  Status DeleteMany(std::span<const std::string> keys);

  virtual Capabilities capabilities() const { return {}; }
  // A description for logs and errors, e.g. "s3://bucket/prefix at http://127.0.0.1:7480".
  // Never contains credentials.
  virtual std::string Describe() const = 0;

 protected:
  // Called with validated keys (ValidateKey) and, for ListPage, 1 <= max_keys <= 1000.
  virtual Result<GetResult> DoGet(std::string_view key, std::optional<ByteRange> range) = 0;
  virtual Result<ObjectInfo> DoPut(std::string_view key, std::string_view data,
                                   const PutOptions& options) = 0;
  virtual Result<ObjectInfo> DoHead(std::string_view key) = 0;
  virtual Result<ListPageResult> DoListPage(std::string_view prefix,
                                            std::string_view start_after,
                                            std::uint32_t max_keys) = 0;
  virtual Status DoDelete(std::string_view key) = 0;
  // Default: DoDelete one key at a time.
  virtual Status DoDeleteMany(std::span<const std::string> keys);
};

// Checks the key rules above; kInvalidArgument naming the key otherwise.
Status ValidateKey(std::string_view key);

}  // namespace zerofs::objstore
