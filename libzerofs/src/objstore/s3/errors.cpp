#include "objstore/s3/errors.h"

#include <algorithm>

namespace zerofs::objstore::s3 {

StatusCode CodeForS3Error(std::string_view c, long http_status) {
  if (c == "NoSuchKey" || c == "NoSuchBucket" || c == "NoSuchUpload") return StatusCode::kNotFound;
  if (c == "PreconditionFailed") return StatusCode::kPreconditionFailed;
  if (c == "SlowDown" || c == "RequestTimeout" || c == "InternalError" ||
      c == "ServiceUnavailable" || c == "Throttling" || c == "ThrottlingException" ||
      c == "RequestLimitExceeded" || c == "TooManyRequests" || c == "OperationAborted" ||
      c == "ConditionalRequestConflict") {
    return StatusCode::kUnavailable;
  }
  if (c == "AccessDenied" || c == "InvalidAccessKeyId" || c == "SignatureDoesNotMatch" ||
      c == "ExpiredToken" || c == "InvalidToken" || c == "RequestTimeTooSkewed" ||
      c == "AllAccessDisabled") {
    return StatusCode::kPermissionDenied;
  }
  if (c == "NotImplemented") return StatusCode::kNotSupported;
  switch (http_status) {
    case 404: return StatusCode::kNotFound;
    case 412: return StatusCode::kPreconditionFailed;
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504: return StatusCode::kUnavailable;
    case 401:
    case 403: return StatusCode::kPermissionDenied;
    case 501: return StatusCode::kNotSupported;
    default: break;
  }
  if (http_status >= 500) return StatusCode::kUnavailable;
  if (http_status >= 400) return StatusCode::kInvalidArgument;
  // An error document with a 2xx or 3xx status, e.g. a failed CompleteMultipartUpload.
  return StatusCode::kIoError;
}

Status StatusFromS3Error(const S3Error& error, long http_status, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += error.code.empty() ? "HTTP " + std::to_string(http_status) : error.code;
  if (!error.message.empty()) {
    msg += ": ";
    msg += error.message;
  }
  if (!error.code.empty()) {
    msg += " (HTTP ";
    msg += std::to_string(http_status);
    if (!error.request_id.empty()) {
      msg += ", request id ";
      msg += error.request_id;
    }
    msg += ')';
  }
  return {CodeForS3Error(error.code, http_status), std::move(msg)};
}

Status StatusFromResponse(long http_status, std::string_view body, std::string_view what) {
  S3Error error;
  if (!body.empty()) {
    Result<S3Error> parsed = ParseError(body);
    if (parsed.ok()) {
      error = std::move(parsed).value();
    } else {
      // Not S3's XML (a proxy's or load balancer's page): keep a short excerpt.
      std::string excerpt(body.substr(0, 120));
      std::replace_if(
          excerpt.begin(), excerpt.end(),
          [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
      error.message = excerpt;
    }
  }
  return StatusFromS3Error(error, http_status, what);
}

std::chrono::milliseconds BackoffDelay(std::uint32_t attempt, std::uint32_t base_delay_ms,
                                       std::uint32_t max_delay_ms, std::uint64_t random) {
  std::uint64_t cap = base_delay_ms;
  for (std::uint32_t i = 0; i < attempt && cap < max_delay_ms; ++i) cap *= 2;
  cap = std::min<std::uint64_t>(cap, max_delay_ms);
  return std::chrono::milliseconds(static_cast<std::int64_t>(random % (cap + 1)));
}

}  // namespace zerofs::objstore::s3
