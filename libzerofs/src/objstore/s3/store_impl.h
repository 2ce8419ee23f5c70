// The inside of S3Store (s3_store.h): object operations on top of S3Client.
//
// Store keys are mapped to bucket keys by prepending "<prefix>/" (nothing for an empty
// prefix); listings map them back and reject keys outside the prefix as corruption.
// The operations are split by concern: store_impl.cpp (get, head, list, delete),
// put.cpp (single and multipart puts, conditional put verification) and probe.cpp (the
// checks Open runs: credentials, bucket, conditional-put behaviour).
//
// Thread-safety: fully thread-safe once Open has returned; `conditionals` is written only
// while Open runs, before the store is shared.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "objstore/s3/client.h"
#include "zerofs/objstore/s3_options.h"
#include "zerofs/objstore/s3_store.h"

namespace zerofs::objstore {

// How the server treats conditional puts, as found by probing.
struct ConditionalSupport {
  bool create = false;          // If-None-Match: * answers 412 for an existing key
  bool replace = false;         // If-Match answers 412 for a wrong etag, 2xx for the right one
  bool if_match_quoted = true;  // whether If-Match takes the etag in quotes (RFC 7232) or bare
  // Whether conditions on CompleteMultipartUpload are enforced (AWS: yes; radosgw 16: no,
  // it completes regardless). Only puts above S3's 5 GiB single-PUT limit need it.
  bool multipart = false;
};

class S3Store::Impl {
 public:
  Impl(s3::S3ClientOptions client_options, std::string prefix, const S3Options& config);

  std::string FullKey(std::string_view key) const { return key_prefix_ + std::string(key); }
  std::string Describe() const;

  Result<GetResult> Get(std::string_view key, std::optional<ByteRange> range);
  Result<ObjectInfo> Put(std::string_view key, std::string_view data, const PutOptions& options);
  Result<ObjectInfo> Head(std::string_view key);
  Result<ListPageResult> ListPage(std::string_view prefix, std::string_view start_after,
                                  std::uint32_t max_keys);
  Status Delete(std::string_view key);
  Status DeleteMany(std::span<const std::string> keys);

  // Open's checks (probe.cpp).
  Status CheckBucket();
  Result<ConditionalSupport> ProbeConditionalPuts();

  // HEAD of a full bucket key.
  Result<ObjectInfo> HeadFull(const std::string& full_key);

  s3::S3Client& client() { return client_; }
  const S3Options& config() const { return config_; }

  ConditionalSupport conditionals;

 private:
  Result<ObjectInfo> PutSingle(const std::string& full_key, std::string_view data,
                               const PutOptions& options);
  Result<ObjectInfo> PutMultipart(const std::string& full_key, std::string_view data,
                                  const PutOptions& options);
  // The If-None-Match / If-Match header for `options`, in the form the server accepts.
  s3::HeaderList ConditionHeaders(const PutOptions& options) const;
  // After an attempt that may have taken effect: whether the object now holds exactly the
  // bytes whose etag is `expected_etag`. An object that held these very bytes before also
  // passes; the put's purpose, these bytes under this key, is met either way, and ZeroFS
  // never writes the same bytes from two writers (segments and roots carry the epoch).
  std::optional<ObjectInfo> Landed(const std::string& full_key, const std::string& expected_etag,
                                   std::uint64_t size);
  Status DeleteBatch(std::span<const std::string> full_keys);

  s3::S3Client client_;
  std::string prefix_;      // without slashes at either end; may be empty
  std::string key_prefix_;  // prefix_ + "/", or "" for an empty prefix
  S3Options config_;
};

}  // namespace zerofs::objstore
