// Puts: single requests and multipart uploads, and the verification that keeps a lost
// answer from turning a successful conditional put into a false failure.
#include "objstore/s3/digest.h"
#include "objstore/s3/multipart.h"
#include "objstore/s3/responses.h"
#include "objstore/s3/store_impl.h"
#include "zerofs/common/log.h"

namespace zerofs::objstore {
namespace {

// S3's limit for one PUT request.
constexpr std::uint64_t kMaxSinglePutBytes = 5ULL << 30;

// S3 answers If-Match on a missing object with 404 on some servers and 412 on others; the
// contract says 412 (the expected version is not there).
Status IfMatchMissingIsPrecondition(Status status, const PutOptions& options) {
  if (options.condition == PutCondition::kIfMatch && status.IsNotFound()) {
    return Status::PreconditionFailed(status.message() + " (If-Match on a missing object)");
  }
  return status;
}

}  // namespace

s3::HeaderList S3Store::Impl::ConditionHeaders(const PutOptions& options) const {
  switch (options.condition) {
    case PutCondition::kNone: return {};
    case PutCondition::kIfNoneMatch: return {{"If-None-Match", "*"}};
    case PutCondition::kIfMatch:
      return {{"If-Match", conditionals.if_match_quoted ? "\"" + options.if_match_etag + "\""
                                                        : options.if_match_etag}};
  }
  return {};
}

std::optional<ObjectInfo> S3Store::Impl::Landed(const std::string& full_key,
                                                const std::string& expected_etag,
                                                std::uint64_t size) {
  Result<ObjectInfo> head = HeadFull(full_key);
  if (!head.ok() || head->etag != expected_etag || head->size != size) return std::nullopt;
  ZEROFS_LOG(kInfo) << "PUT s3://" << client_.options().bucket << "/" << full_key
                    << " took effect although its answer was lost";
  return std::move(head).value();
}

Result<ObjectInfo> S3Store::Impl::Put(std::string_view key, std::string_view data,
                                      const PutOptions& options) {
  const std::string full = FullKey(key);
  // A conditional put stays one PUT up to S3's single-request limit: every server that
  // implements conditions evaluates them on PUT, atomically, whereas conditions on
  // CompleteMultipartUpload are a later addition that radosgw 16, for one, ignores.
  const bool conditional = options.condition != PutCondition::kNone;
  const bool multipart = data.size() > config_.multipart_threshold_bytes &&
                         (!conditional || data.size() > kMaxSinglePutBytes);
  if (multipart && conditional && !conditionals.multipart) {
    // Sending it anyway would silently drop the condition.
    return Status::NotSupported(client_.What(s3::S3Request{"PUT", full, {}, {}, {}, {}}) +
                                ": a conditional put of " + std::to_string(data.size()) +
                                " bytes needs a multipart upload, and this server does not "
                                "enforce conditions on completing one");
  }
  Result<ObjectInfo> result =
      multipart ? PutMultipart(full, data, options) : PutSingle(full, data, options);
  if (!result.ok()) return IfMatchMissingIsPrecondition(result.status(), options);
  result->key = std::string(key);
  return result;
}

Result<ObjectInfo> S3Store::Impl::PutSingle(const std::string& full_key, std::string_view data,
                                            const PutOptions& options) {
  const s3::Md5Digest md5 = s3::Md5(data);
  const std::string expected_etag = s3::Hex(md5);
  s3::S3Request req{
      "PUT", full_key, {}, ConditionHeaders(options), data, s3::Hex(s3::Sha256(data))};
  // Content-MD5 makes the server reject bytes damaged on the way.
  req.headers.emplace_back("Content-MD5", s3::Base64(md5));
  const std::string what = client_.What(req);
  const bool conditional = options.condition != PutCondition::kNone;
  const std::uint32_t max_retries = client_.options().max_retries;
  // Set once an attempt may have reached the server without us seeing its answer.
  bool ambiguous = false;
  for (std::uint32_t attempt = 0;; ++attempt) {
    s3::HttpResult result = client_.SendOnce(req);
    const long code = result.response.status;
    if (result.status.ok() && code >= 200 && code < 300) {
      const std::string* header = result.response.Header("etag");
      std::string etag = header == nullptr ? std::string() : s3::UnquoteEtag(*header);
      // Servers that omit the ETag store single PUTs under their MD5 like the others.
      if (etag.empty()) etag = expected_etag;
      return ObjectInfo{full_key, data.size(), std::move(etag)};
    }
    Status status = client_.ToStatus(result, what);
    if (conditional && ambiguous && status.IsPreconditionFailed()) {
      // The 412 may be the answer to our own earlier write.
      if (std::optional<ObjectInfo> landed = Landed(full_key, expected_etag, data.size())) {
        return std::move(*landed);
      }
      return status;
    }
    if (!status.IsRetryable()) return status;
    if (attempt >= max_retries) {
      ZEROFS_LOG(kWarn) << status << " (gave up after " << attempt + 1 << " attempts)";
      return Status(status.code(),
                    status.message() + " (after " + std::to_string(attempt + 1) + " attempts)");
    }
    // A conditional put is not idempotent: if this attempt landed, sending it again
    // would fail the condition against our own write. Look before retrying.
    if (conditional && (result.maybe_sent || result.status.ok())) {
      ambiguous = true;
      if (std::optional<ObjectInfo> landed = Landed(full_key, expected_etag, data.size())) {
        return std::move(*landed);
      }
    }
    ZEROFS_LOG(kDebug) << status << " (retry " << attempt + 1 << " of " << max_retries << ")";
    client_.Backoff(attempt);
  }
}

Result<ObjectInfo> S3Store::Impl::PutMultipart(const std::string& full_key, std::string_view data,
                                               const PutOptions& options) {
  s3::MultipartOptions mp;
  mp.part_bytes = config_.multipart_part_bytes;
  mp.max_parallel = config_.max_parallel;
  mp.complete_headers = ConditionHeaders(options);
  ZEROFS_ASSIGN_OR_RETURN(std::string etag, s3::UploadMultipart(client_, full_key, data, mp));
  return ObjectInfo{full_key, data.size(), std::move(etag)};
}

}  // namespace zerofs::objstore
