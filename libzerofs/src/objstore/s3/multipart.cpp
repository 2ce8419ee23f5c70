#include "objstore/s3/multipart.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "objstore/s3/digest.h"
#include "objstore/s3/errors.h"
#include "objstore/s3/responses.h"
#include "zerofs/common/log.h"

namespace zerofs::objstore::s3 {
namespace {

std::size_t PartCount(std::uint64_t total, std::uint64_t part_bytes) {
  return (total + part_bytes - 1) / part_bytes;
}

std::string_view Part(std::string_view data, std::size_t index, std::uint64_t part_bytes) {
  return data.substr(index * part_bytes, part_bytes);
}

Result<std::string> Initiate(S3Client& client, std::string_view key) {
  S3Request req{"POST", std::string(key), {{"uploads", ""}}, {}, {}, {}};
  ZEROFS_ASSIGN_OR_RETURN(HttpResponse resp, client.Send(req));
  Result<std::string> id = ParseInitiateMultipartUpload(resp.body);
  if (!id.ok()) return id.status().WithContext(client.What(req) + "?uploads");
  return id;
}

// Uploads every part; returns their etags in part order.
Result<std::vector<std::string>> UploadParts(S3Client& client, std::string_view key,
                                             const std::string& upload_id, std::string_view data,
                                             std::uint64_t part_bytes, std::uint32_t max_parallel) {
  const std::size_t count = PartCount(data.size(), part_bytes);
  std::vector<std::string> etags(count);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status first_error;  // GUARDED_BY(error_mu)

  auto worker = [&] {
    while (!failed.load()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= count) return;
      const std::string_view part = Part(data, i, part_bytes);
      S3Request req{"PUT",
                    std::string(key),
                    {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id}},
                    {{"Content-MD5", Base64(Md5(part))}},
                    part,
                    {}};
      Result<HttpResponse> resp = client.Send(req);
      Status status = resp.status();
      if (resp.ok()) {
        const std::string* etag = resp->Header("etag");
        if (etag != nullptr && !etag->empty()) {
          etags[i] = UnquoteEtag(*etag);
          continue;
        }
        status = Status::Corruption(client.What(req) + ": part " + std::to_string(i + 1) +
                                    " uploaded without an ETag in the answer");
      }
      std::lock_guard lock(error_mu);
      if (first_error.ok()) first_error = status;
      failed.store(true);
      return;
    }
  };

  const std::size_t threads = std::max<std::size_t>(1, std::min<std::size_t>(count, max_parallel));
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(worker);
  worker();
  for (std::thread& t : helpers) t.join();
  std::lock_guard lock(error_mu);
  if (!first_error.ok()) return first_error;
  return etags;
}

Result<std::string> CurrentEtag(S3Client& client, std::string_view key) {
  S3Request req{"HEAD", std::string(key), {}, {}, {}, {}};
  ZEROFS_ASSIGN_OR_RETURN(HttpResponse resp, client.Send(req));
  const std::string* etag = resp.Header("etag");
  return etag == nullptr ? std::string() : UnquoteEtag(*etag);
}

Result<std::string> Complete(S3Client& client, std::string_view key, const std::string& upload_id,
                             const std::vector<std::string>& etags, const HeaderList& headers,
                             const std::string& expected_etag) {
  const std::string body = CompleteMultipartUploadBody(etags);
  S3Request req{"POST", std::string(key), {{"uploadId", upload_id}}, headers, body, {}};
  const std::string what = client.What(req) + " (complete multipart upload)";
  bool ambiguous = false;
  for (std::uint32_t attempt = 0;; ++attempt) {
    HttpResult result = client.SendOnce(req);
    Status status;
    const long code = result.response.status;
    if (result.status.ok() && code >= 200 && code < 300) {
      Result<CompleteMultipartOutcome> outcome = ParseCompleteMultipartUpload(result.response.body);
      if (!outcome.ok()) return outcome.status().WithContext(what);
      if (!outcome->is_error) {
        return outcome->etag.empty() ? expected_etag : outcome->etag;
      }
      status = StatusFromS3Error(outcome->error, code, what);
    } else {
      status = client.ToStatus(result, what);
    }
    if (ambiguous && (status.IsNotFound() || status.IsPreconditionFailed())) {
      // An earlier attempt may have completed the upload: then the object carries the
      // etag of exactly these parts.
      Result<std::string> current = CurrentEtag(client, key);
      if (current.ok() && *current == expected_etag) {
        ZEROFS_LOG(kInfo) << what << " took effect although its answer was lost";
        return expected_etag;
      }
      return status;
    }
    if (!status.IsRetryable() || attempt >= client.options().max_retries) return status;
    if (result.maybe_sent || result.status.ok()) ambiguous = true;
    ZEROFS_LOG(kDebug) << status << " (retry " << attempt + 1 << " of "
                       << client.options().max_retries << ")";
    client.Backoff(attempt);
  }
}

void Abort(S3Client& client, std::string_view key, const std::string& upload_id) {
  S3Request req{"DELETE", std::string(key), {{"uploadId", upload_id}}, {}, {}, {}};
  Result<HttpResponse> resp = client.Send(req, {404});
  if (!resp.ok()) {
    ZEROFS_LOG(kWarn) << "could not abort multipart upload " << upload_id
                      << " (its parts use space until the bucket's lifecycle removes them): "
                      << resp.status();
  }
}

}  // namespace

std::uint64_t PartBytes(std::uint64_t total, std::uint64_t configured) {
  const std::uint64_t needed = (total + kMaxParts - 1) / kMaxParts;
  return std::max({configured, kMinPartBytes, needed});
}

std::string MultipartEtag(std::string_view data, std::uint64_t part_bytes) {
  const std::size_t count = PartCount(data.size(), part_bytes);
  std::string digests;
  digests.reserve(count * 16);
  for (std::size_t i = 0; i < count; ++i) digests += AsBytes(Md5(Part(data, i, part_bytes)));
  return Hex(Md5(digests)) + "-" + std::to_string(count);
}

Result<std::string> UploadMultipart(S3Client& client, std::string_view key, std::string_view data,
                                    const MultipartOptions& options) {
  const std::uint64_t part_bytes = PartBytes(data.size(), options.part_bytes);
  ZEROFS_ASSIGN_OR_RETURN(std::string upload_id, Initiate(client, key));
  Result<std::vector<std::string>> etags =
      UploadParts(client, key, upload_id, data, part_bytes, options.max_parallel);
  if (!etags.ok()) {
    Abort(client, key, upload_id);
    return etags.status();
  }
  const std::string expected = MultipartEtag(data, part_bytes);
  Result<std::string> etag =
      Complete(client, key, upload_id, *etags, options.complete_headers, expected);
  if (!etag.ok()) Abort(client, key, upload_id);
  return etag;
}

}  // namespace zerofs::objstore::s3
