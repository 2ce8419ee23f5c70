// Multipart upload: one large object PUT as parts in parallel, then completed in one step.
//
// The object appears atomically when CompleteMultipartUpload succeeds; until then readers
// see the old object or none. Parts go out in parallel on up to `max_parallel` threads (the
// HttpClient pool bounds the requests in flight across the whole store anyway). Each part
// is retried on its own; if any part or the completion fails, the upload is aborted so the
// server frees the parts. Conditional headers (If-None-Match / If-Match) go on the
// CompleteMultipartUpload request, where S3 evaluates them.
//
// A completion whose answer was lost is retried; if the retry finds the upload gone
// (NoSuchUpload) or the condition failing (412), the object's etag is compared with the
// one this upload produces, so a completion that took effect is reported as a success.
//
// Thread-safety: UploadMultipart may run concurrently for different keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "objstore/s3/client.h"

namespace zerofs::objstore::s3 {

// S3's limits: parts of at least 5 MiB (except the last), at most 10000 parts.
inline constexpr std::uint64_t kMinPartBytes = 5ULL << 20;
inline constexpr std::uint64_t kMaxParts = 10000;

// The part size used for `total` bytes: `configured`, raised to S3's minimum and as far
// as needed to stay within kMaxParts.
std::uint64_t PartBytes(std::uint64_t total, std::uint64_t configured);

// The etag S3 gives an object uploaded in parts of `part_bytes`:
// hex(md5(md5(part 1) || md5(part 2) || ...)) + "-" + number of parts.
std::string MultipartEtag(std::string_view data, std::uint64_t part_bytes);

struct MultipartOptions {
  std::uint64_t part_bytes = 16ULL << 20;
  std::uint32_t max_parallel = 8;
  HeaderList complete_headers;  // conditional headers for CompleteMultipartUpload
};

// Uploads `data` to the full key `key` and returns the new object's etag.
Result<std::string> UploadMultipart(S3Client& client, std::string_view key, std::string_view data,
                                    const MultipartOptions& options);

}  // namespace zerofs::objstore::s3
