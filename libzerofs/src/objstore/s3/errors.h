// How S3 answers become Status codes, and how long to wait before retrying.
//
//   404, NoSuchKey, NoSuchBucket, NoSuchUpload            -> kNotFound
//   412                                                   -> kPreconditionFailed
//   429, 500, 502, 503, 504, SlowDown, RequestTimeout,
//   InternalError, ServiceUnavailable, 409 conflicts
//   between concurrent conditional writes                 -> kUnavailable (retried)
//   403, AccessDenied, InvalidAccessKeyId,
//   SignatureDoesNotMatch, ExpiredToken                   -> kPermissionDenied
//   400, 416 and other client errors                      -> kInvalidArgument
//   501 NotImplemented                                    -> kNotSupported
// The S3 error code decides where it is known (a 400 RequestTimeout is retryable); the
// HTTP status decides otherwise. Messages name the operation and key and carry the
// server's Code, Message and request id.
//
// Backoff is exponential with full jitter: attempt n waits a uniformly random time in
// [0, min(max_delay, base * 2^n)], which spreads out clients that failed together.
//
// Stateless functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "objstore/s3/responses.h"
#include "zerofs/common/status.h"

namespace zerofs::objstore::s3 {

// The Status for an S3 error code alone (as inside a DeleteResult), with `http_status`
// deciding when the code is unknown or empty.
StatusCode CodeForS3Error(std::string_view s3_code, long http_status);

// The Status for a non-2xx answer; `what` names the operation, e.g. "GET bucket/key".
// `body` may be empty (HEAD) or not XML (a proxy's error page); both are handled.
Status StatusFromResponse(long http_status, std::string_view body, std::string_view what);

// Same, for an already parsed error.
Status StatusFromS3Error(const S3Error& error, long http_status, std::string_view what);

// The delay before retry number `attempt` (0 for the first retry). `random` is a uniformly
// distributed 64-bit value, injected so that tests are deterministic.
std::chrono::milliseconds BackoffDelay(std::uint32_t attempt, std::uint32_t base_delay_ms,
                                       std::uint32_t max_delay_ms, std::uint64_t random);

}  // namespace zerofs::objstore::s3
