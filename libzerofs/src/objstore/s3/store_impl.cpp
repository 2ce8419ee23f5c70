#include "objstore/s3/store_impl.h"

#include <charconv>
#include <limits>

#include "objstore/s3/digest.h"
#include "objstore/s3/errors.h"
#include "objstore/s3/responses.h"
#include "objstore/s3/xml.h"

namespace zerofs::objstore {
namespace {

// S3's limit on keys per DeleteObjects request.
constexpr std::size_t kDeleteBatch = 1000;

Status PastEnd(std::string_view key, std::uint64_t offset, std::uint64_t size) {
  return Status::InvalidArgument(std::string(key) + ": range starts at " + std::to_string(offset) +
                                 ", past the end (" + std::to_string(size) + " bytes)");
}

bool ParseU64(std::string_view s, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// "bytes 2-4/10" -> first 2, last 4, total 10.
bool ParseContentRange(std::string_view v, std::uint64_t& first, std::uint64_t& last,
                       std::uint64_t& total) {
  if (v.substr(0, 6) != "bytes ") return false;
  v.remove_prefix(6);
  const std::size_t dash = v.find('-');
  const std::size_t slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return false;
  }
  return ParseU64(v.substr(0, dash), first) &&
         ParseU64(v.substr(dash + 1, slash - dash - 1), last) &&
         ParseU64(v.substr(slash + 1), total) && first <= last && last < total;
}

std::string EtagOf(const s3::HttpResponse& resp) {
  const std::string* etag = resp.Header("etag");
  return etag == nullptr ? std::string() : s3::UnquoteEtag(*etag);
}

}  // namespace

S3Store::Impl::Impl(s3::S3ClientOptions client_options, std::string prefix,
                    const S3Options& config)
    : client_(std::move(client_options)), prefix_(std::move(prefix)), config_(config) {
  if (!prefix_.empty()) key_prefix_ = prefix_ + "/";
}

std::string S3Store::Impl::Describe() const {
  const s3::S3ClientOptions& o = client_.options();
  return "s3://" + o.bucket + (prefix_.empty() ? "" : "/" + prefix_) + " at " +
         o.endpoint.ToString();
}

Result<ObjectInfo> S3Store::Impl::HeadFull(const std::string& full_key) {
  s3::S3Request req{"HEAD", full_key, {}, {}, {}, {}};
  ZEROFS_ASSIGN_OR_RETURN(s3::HttpResponse resp, client_.Send(req));
  ObjectInfo info;
  info.key = full_key;
  info.etag = EtagOf(resp);
  const std::string* length = resp.Header("content-length");
  if (length == nullptr || !ParseU64(*length, info.size)) {
    return Status::Corruption(client_.What(req) + ": answer without a valid Content-Length");
  }
  return info;
}

Result<ObjectInfo> S3Store::Impl::Head(std::string_view key) {
  ZEROFS_ASSIGN_OR_RETURN(ObjectInfo info, HeadFull(FullKey(key)));
  info.key = std::string(key);
  return info;
}

Result<GetResult> S3Store::Impl::Get(std::string_view key, std::optional<ByteRange> range) {
  const std::string full = FullKey(key);
  if (range.has_value() && range->length == 0) {
    // HTTP cannot ask for zero bytes; the HEAD still checks existence and the offset.
    ZEROFS_ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
    if (range->offset > info.size) return PastEnd(key, range->offset, info.size);
    return GetResult{{}, std::move(info)};
  }
  s3::S3Request req{"GET", full, {}, {}, {}, {}};
  req.max_response_bytes = std::numeric_limits<std::uint64_t>::max();
  if (range.has_value()) {
    std::string spec = "bytes=" + std::to_string(range->offset) + "-";
    if (range->length - 1 <= std::numeric_limits<std::uint64_t>::max() - range->offset) {
      spec += std::to_string(range->offset + range->length - 1);
    }
    req.headers.emplace_back("Range", std::move(spec));
  }
  // The object may change between a 416 and the HEAD that explains it; read again then.
  for (int round = 0; round < 3; ++round) {
    ZEROFS_ASSIGN_OR_RETURN(s3::HttpResponse resp, client_.Send(req, {416}));
    GetResult out;
    out.info.key = std::string(key);
    out.info.etag = EtagOf(resp);
    if (resp.status == 416) {
      // S3 refuses a range that starts at the end, which the contract allows (empty
      // data); radosgw does not say the size in a Content-Range, so ask.
      ZEROFS_ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
      if (range->offset > info.size) return PastEnd(key, range->offset, info.size);
      if (range->offset == info.size) return GetResult{{}, std::move(info)};
      continue;
    }
    if (resp.status == 206) {
      std::uint64_t first = 0;
      std::uint64_t last = 0;
      const std::string* content_range = resp.Header("content-range");
      if (!range.has_value() || content_range == nullptr ||
          !ParseContentRange(*content_range, first, last, out.info.size) ||
          first != range->offset || last - first + 1 != resp.body.size()) {
        return Status::Corruption(client_.What(req) +
                                  ": partial answer does not match the range (" +
                                  (content_range ? *content_range : std::string("none")) + ")");
      }
      out.data = std::move(resp.body);
      return out;
    }
    // 200: the whole object, because no range was asked or the server ignored it.
    out.info.size = resp.body.size();
    if (!range.has_value()) {
      out.data = std::move(resp.body);
    } else if (range->offset > out.info.size) {
      return PastEnd(key, range->offset, out.info.size);
    } else {
      out.data = resp.body.substr(range->offset, range->length);
    }
    return out;
  }
  return Status::Unavailable(client_.What(req) + ": the object kept changing while being read");
}

Result<ListPageResult> S3Store::Impl::ListPage(std::string_view prefix,
                                               std::string_view start_after,
                                               std::uint32_t max_keys) {
  s3::S3Request req{"GET", "", {}, {}, {}, {}};
  req.query = {{"list-type", "2"},
               {"prefix", key_prefix_ + std::string(prefix)},
               {"max-keys", std::to_string(max_keys)},
               {"encoding-type", "url"}};
  if (!start_after.empty()) req.query.emplace_back("start-after", FullKey(start_after));
  ZEROFS_ASSIGN_OR_RETURN(s3::HttpResponse resp, client_.Send(req));
  Result<s3::ListObjectsPage> parsed = s3::ParseListObjectsV2(resp.body);
  if (!parsed.ok()) return parsed.status().WithContext("listing " + Describe());
  ListPageResult page;
  page.truncated = parsed->truncated;
  page.objects.reserve(parsed->objects.size());
  for (s3::ListedObject& obj : parsed->objects) {
    if (obj.key.compare(0, key_prefix_.size(), key_prefix_) != 0 ||
        obj.key.size() == key_prefix_.size()) {
      return Status::Corruption("listing " + Describe() + " returned key '" + obj.key +
                                "' outside the store's prefix");
    }
    page.objects.push_back(
        ObjectInfo{obj.key.substr(key_prefix_.size()), obj.size, std::move(obj.etag)});
  }
  return page;
}

Status S3Store::Impl::Delete(std::string_view key) {
  const std::string full = FullKey(key);
  s3::S3Request req{"DELETE", full, {}, {}, {}, {}};
  return client_.Send(req, {404}).status();
}

Status S3Store::Impl::DeleteMany(std::span<const std::string> keys) {
  std::vector<std::string> batch;
  batch.reserve(std::min(keys.size(), kDeleteBatch));
  for (const std::string& key : keys) {
    std::string full = FullKey(key);
    if (!s3::XmlRepresentable(full)) {
      // Control characters cannot be written in XML 1.0; delete such keys one by one.
      ZEROFS_RETURN_IF_ERROR(Delete(key));
      continue;
    }
    batch.push_back(std::move(full));
    if (batch.size() == kDeleteBatch) {
      ZEROFS_RETURN_IF_ERROR(DeleteBatch(batch));
      batch.clear();
    }
  }
  if (!batch.empty()) ZEROFS_RETURN_IF_ERROR(DeleteBatch(batch));
  return Status::Ok();
}

Status S3Store::Impl::DeleteBatch(std::span<const std::string> full_keys) {
  std::vector<std::string> remaining(full_keys.begin(), full_keys.end());
  for (std::uint32_t attempt = 0;; ++attempt) {
    const std::string body = s3::DeleteObjectsBody(remaining);
    s3::S3Request req{"POST", "", {{"delete", ""}}, {{"Content-MD5", s3::Base64(s3::Md5(body))}},
                      body,   {}};
    ZEROFS_ASSIGN_OR_RETURN(s3::HttpResponse resp, client_.Send(req));
    Result<std::vector<s3::S3Error>> errors = s3::ParseDeleteResult(resp.body);
    if (!errors.ok()) return errors.status().WithContext(client_.What(req) + "?delete");
    // Each key fails or succeeds on its own: missing keys count as deleted, transient
    // failures are sent again, anything else stops the whole operation.
    std::vector<std::string> retry;
    for (const s3::S3Error& e : *errors) {
      const StatusCode code = s3::CodeForS3Error(e.code, 200);
      if (code == StatusCode::kNotFound) continue;
      const std::string what = "DELETE s3://" + client_.options().bucket + "/" + e.key;
      if (code != StatusCode::kUnavailable) return s3::StatusFromS3Error(e, 200, what);
      retry.push_back(e.key);
    }
    if (retry.empty()) return Status::Ok();
    if (attempt >= client_.options().max_retries) {
      return Status::Unavailable(std::to_string(retry.size()) + " keys of " + Describe() +
                                 " could not be deleted, e.g. '" + retry.front() + "'");
    }
    remaining = std::move(retry);
    client_.Backoff(attempt);
  }
}

}  // namespace zerofs::objstore
