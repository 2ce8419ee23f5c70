// HttpClient: blocking HTTP/1.1 requests over a bounded pool of reusable libcurl handles.
//
// Each libcurl easy handle keeps its connection alive between requests, so the pool is also
// the connection pool. At most `max_parallel` requests are in flight; further callers wait
// for a free slot (the bound on sockets, memory and server load that S3Options promises).
// All handles share DNS results and TLS sessions through one CURLSH, so a new connection
// to a known endpoint skips the DNS lookup and resumes the TLS session. Connections
// themselves are not shared: libcurl does not support one connection cache across threads.
//
// Execute() reports transport failures as a Status (kUnavailable for the transient ones:
// refused or failed connections, timeouts, resets, truncated answers) together with
// whether the request may have reached the server, which decides whether a conditional
// write must be verified before it is retried. HTTP error statuses are not failures at
// this level; the caller maps them.
//
// Thread-safety: Execute() may be called from any number of threads.
#pragma once

#include <curl/curl.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "objstore/s3/sigv4.h"
#include "zerofs/common/status.h"

namespace zerofs::objstore::s3 {

struct HttpClientOptions {
  std::uint32_t max_parallel = 32;
  std::uint32_t connect_timeout_ms = 5000;
  std::uint32_t request_timeout_ms = 60000;
  bool verify_tls = true;
  std::string ca_file;
};

struct HttpRequest {
  std::string_view method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  HeaderList headers;     // sent as given; "Host" overrides the URL's host
  std::string_view body;  // for PUT and POST
  // A bigger answer fails (kCorruption) instead of growing memory without bound.
  std::uint64_t max_response_bytes = 16u << 20;
};

struct HttpResponse {
  long status = 0;
  HeaderList headers;  // names in lower case
  std::string body;

  // The value of the first header called `name` (lower case), or nullptr.
  const std::string* Header(std::string_view name) const;
};

struct HttpResult {
  Status status;            // OK when an HTTP response arrived, whatever its code
  bool maybe_sent = false;  // on failure: the server may have received the request
  HttpResponse response;
};

class HttpClient {
 public:
  explicit HttpClient(const HttpClientOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult Execute(const HttpRequest& request);

 private:
  struct Share;
  CURL* Acquire();  // blocks while max_parallel requests are in flight
  void Release(CURL* handle);

  HttpClientOptions options_;
  std::unique_ptr<Share> share_;
  std::mutex mu_;
  std::condition_variable slot_free_;
  std::vector<CURL*> idle_;      // GUARDED_BY(mu_)
  std::uint32_t in_flight_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace zerofs::objstore::s3
