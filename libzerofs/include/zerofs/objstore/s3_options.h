// S3Options: the settings of the S3 client, for s3:// URLs (objstore::Open, S3Store::Open).
//
// A plain value type with no thread-safety of its own. The secrets are held as Secret, so
// printing the options never prints them. The config file's [s3] table fills one
// (docs/configuration.md); a program may as well fill it itself.
#pragma once

#include <cstdint>
#include <string>

#include "zerofs/common/secret.h"

namespace zerofs::objstore {

struct S3Options {
  std::string endpoint;  // e.g. "http://127.0.0.1:7480"; empty: AWS for `region`
  std::string region = "us-east-1";
  std::string access_key_id;  // empty: AWS_ACCESS_KEY_ID, then ~/.aws/credentials
  Secret secret_access_key;
  Secret session_token;
  std::string profile;     // ~/.aws/credentials profile (default: AWS_PROFILE or "default")
  bool path_style = true;  // https://endpoint/bucket/key instead of bucket.endpoint/key
  bool verify_tls = true;
  std::string ca_file;                     // extra CA bundle for a private endpoint
  std::uint32_t max_parallel = 32;         // concurrent requests (and pooled connections)
  std::uint32_t max_retries = 6;           // per request, on retryable errors
  std::uint32_t retry_base_delay_ms = 50;  // first backoff; doubles, with full jitter
  std::uint32_t retry_max_delay_ms = 5000;
  std::uint32_t connect_timeout_ms = 5000;
  std::uint32_t request_timeout_ms = 60000;               // a whole request, per attempt
  std::uint64_t multipart_threshold_bytes = 64ULL << 20;  // larger puts use multipart upload
  std::uint64_t multipart_part_bytes = 16ULL << 20;
};

}  // namespace zerofs::objstore
