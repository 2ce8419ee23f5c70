// S3Client: signed S3 requests with bounded retries, the layer between S3Store and HTTP.
//
// A request names an operation on the bucket or on one full key (the store's prefix
// included); the client builds the URL, adds x-amz-date, x-amz-content-sha256 and the
// session token, signs everything with SigV4 and sends it through the HttpClient pool.
// Send() retries retryable failures (kUnavailable: throttling, 5xx, timeouts, resets) up
// to max_retries times with exponential backoff and full jitter; it is for requests that
// are safe to repeat. Operations whose repetition needs care (conditional puts) use
// SendOnce() and drive their own loop with ToStatus() and Backoff().
//
// Thread-safety: fully thread-safe; one client serves all threads of a store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "objstore/s3/credentials.h"
#include "objstore/s3/endpoint.h"
#include "objstore/s3/http_client.h"

namespace zerofs::objstore::s3 {

struct S3ClientOptions {
  Endpoint endpoint;
  std::string bucket;
  bool path_style = true;
  std::string region = "us-east-1";
  Credentials credentials;
  HttpClientOptions http;
  std::uint32_t max_retries = 6;
  std::uint32_t retry_base_delay_ms = 50;
  std::uint32_t retry_max_delay_ms = 5000;
};

struct S3Request {
  std::string_view method;
  std::string key;  // full key in the bucket; empty for a request on the bucket
  std::vector<std::pair<std::string, std::string>> query;
  HeaderList headers;  // extra headers, all signed
  std::string_view body;
  std::string payload_sha256;  // hex; computed from `body` when empty
  std::uint64_t max_response_bytes = 16u << 20;
};

class S3Client {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  explicit S3Client(S3ClientOptions options, Clock clock = &std::chrono::system_clock::now);

  // One signed attempt.
  HttpResult SendOnce(const S3Request& request);

  // Attempts until a response arrives whose status is 2xx or listed in `accept`, or a
  // failure that is not retryable, or retries run out. Returns the response in the first
  // case, the failure's Status otherwise.
  Result<HttpResponse> Send(const S3Request& request, std::initializer_list<long> accept = {});

  // The Status of a failed attempt: its transport error, or its HTTP error answer.
  Status ToStatus(const HttpResult& result, std::string_view what) const;

  // Sleeps before retry number `attempt` (0-based).
  void Backoff(std::uint32_t attempt);

  // "PUT s3://bucket/key" for messages.
  std::string What(const S3Request& request) const;

  const S3ClientOptions& options() const { return options_; }

 private:
  S3ClientOptions options_;
  Clock clock_;
  HttpClient http_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // GUARDED_BY(rng_mu_)
};

}  // namespace zerofs::objstore::s3
