#include "objstore/s3/client.h"

#include <algorithm>
#include <thread>

#include "objstore/s3/digest.h"
#include "objstore/s3/errors.h"
#include "objstore/s3/sigv4.h"
#include "zerofs/common/log.h"

namespace zerofs::objstore::s3 {

S3Client::S3Client(S3ClientOptions options, Clock clock)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      http_(options_.http),
      rng_(std::random_device{}()) {}

std::string S3Client::What(const S3Request& request) const {
  std::string out(request.method);
  out += " s3://";
  out += options_.bucket;
  if (!request.key.empty()) {
    out += '/';
    out += request.key;
  }
  return out;
}

HttpResult S3Client::SendOnce(const S3Request& request) {
  const std::string query = CanonicalQuery(request.query);
  const RequestTarget target =
      MakeTarget(options_.endpoint, options_.bucket, options_.path_style, request.key, query);
  const std::string payload_sha256 = !request.payload_sha256.empty() ? request.payload_sha256
                                     : request.body.empty() ? std::string(kEmptyPayloadSha256)
                                                            : Hex(Sha256(request.body));
  const std::string amz_date = AmzDateTime(clock_());

  HttpRequest http;
  http.method = request.method;
  http.url = target.url;
  http.body = request.body;
  http.max_response_bytes = request.max_response_bytes;
  http.headers = request.headers;
  http.headers.emplace_back("Host", target.host);
  http.headers.emplace_back("x-amz-date", amz_date);
  http.headers.emplace_back("x-amz-content-sha256", payload_sha256);
  const Credentials& creds = options_.credentials;
  if (!creds.session_token.empty()) {
    http.headers.emplace_back("x-amz-security-token", std::string(creds.session_token.reveal()));
  }
  SigningInput in;
  in.method = request.method;
  in.canonical_uri = target.canonical_uri;
  in.canonical_query = query;
  in.headers = &http.headers;
  in.payload_sha256 = payload_sha256;
  in.amz_date_time = amz_date;
  in.region = options_.region;
  const std::string authorization = Authorization(in, creds.access_key_id, creds.secret_access_key);
  http.headers.emplace_back("Authorization", authorization);
  return http_.Execute(http);
}

Status S3Client::ToStatus(const HttpResult& result, std::string_view what) const {
  if (!result.status.ok()) return result.status.WithContext(what);
  return StatusFromResponse(result.response.status, result.response.body, what);
}

Result<HttpResponse> S3Client::Send(const S3Request& request, std::initializer_list<long> accept) {
  for (std::uint32_t attempt = 0;; ++attempt) {
    HttpResult result = SendOnce(request);
    if (result.status.ok()) {
      const long code = result.response.status;
      if ((code >= 200 && code < 300) ||
          std::find(accept.begin(), accept.end(), code) != accept.end()) {
        return std::move(result.response);
      }
    }
    Status status = ToStatus(result, What(request));
    if (!status.IsRetryable()) return status;
    if (attempt >= options_.max_retries) {
      ZEROFS_LOG(kWarn) << status << " (gave up after " << attempt + 1 << " attempts)";
      return Status(status.code(),
                    status.message() + " (after " + std::to_string(attempt + 1) + " attempts)");
    }
    ZEROFS_LOG(kDebug) << status << " (retry " << attempt + 1 << " of " << options_.max_retries
                       << ")";
    Backoff(attempt);
  }
}

void S3Client::Backoff(std::uint32_t attempt) {
  std::uint64_t random = 0;
  {
    std::lock_guard lock(rng_mu_);
    random = rng_();
  }
  std::this_thread::sleep_for(
      BackoffDelay(attempt, options_.retry_base_delay_ms, options_.retry_max_delay_ms, random));
}

}  // namespace zerofs::objstore::s3
