// S3Store: an ObjectStore on an S3-compatible server (s3://bucket/prefix).
//
// libcurl with a pool of reusable connections (up to S3Options::max_parallel requests in
// flight at once; further callers wait for a free slot), AWS Signature V4 computed with
// OpenSSL, path-style or virtual-hosted addressing, any region and endpoint. Credentials
// come from S3Options, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
// else the ~/.aws/credentials profile (S3Options::profile, AWS_PROFILE or "default").
//
// Retryable failures (HTTP 429/500/502/503/504, SlowDown, timeouts, connection resets) are
// retried up to max_retries times with exponential backoff and full jitter, each attempt
// signed anew (SigV4 dates its signature); a conditional put whose first attempt may have
// taken effect is checked with a HEAD (its ETag is the MD5 of the bytes) before it is
// retried, so a lost response cannot turn a success into a false 412. capabilities()
// reports max_retries + 1 as internal_attempts, so a RetryingStore on top (the engine's
// segment uploads) shares its budget instead of multiplying it: a call there costs at most
// max(RetryPolicy::max_attempts, max_retries + 1) requests. Unconditional puts
// larger than multipart_threshold_bytes use multipart upload; conditional puts stay single
// PUTs up to S3's 5 GiB limit, because not every server checks conditions when a multipart
// upload completes (radosgw 16 does not). Listing uses ListObjectsV2; DeleteMany uses
// DeleteObjects in batches of 1000.
//
// On Open the store checks the credentials and the bucket (wrong credentials are
// kPermissionDenied naming the endpoint and the access key id, never the secret), then
// probes how the server treats conditional puts with a short-lived object under the
// prefix: If-None-Match: * on an existing key; If-Match with the current etag quoted and
// unquoted, since some servers, Ceph radosgw 16 among them, only accept it unquoted; and
// conditions on completing a multipart upload. It adapts to what it finds, and
// capabilities() reports it. If the server ignores conditional headers the store still
// opens, with both capabilities false and a warning, and the engine refuses HA. A
// conditional put above 5 GiB on a server that ignores conditions on multipart completion
// fails with kNotSupported rather than silently dropping its condition.
//
// Thread-safety: fully thread-safe.
#pragma once

#include <memory>
#include <string>

#include "zerofs/objstore/object_store.h"
#include "zerofs/objstore/s3_options.h"

namespace zerofs::objstore {

class S3Store final : public ObjectStore {
 public:
  // Connects, checks the credentials and the bucket, and probes conditional puts.
  // kPermissionDenied for wrong credentials, kNotFound for a missing bucket.
  static Result<std::shared_ptr<S3Store>> Open(const std::string& bucket,
                                               const std::string& prefix,
                                               const S3Options& config);
  ~S3Store() override;

  Capabilities capabilities() const override;
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

  class Impl;

 private:
  explicit S3Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zerofs::objstore
