// The checks S3Store::Open runs before it hands out a store: are the credentials and the
// bucket good, and how does this server treat conditional puts.
#include <random>

#include "objstore/s3/digest.h"
#include "objstore/s3/multipart.h"
#include "objstore/s3/responses.h"
#include "objstore/s3/store_impl.h"
#include "zerofs/common/log.h"

namespace zerofs::objstore {
namespace {

std::string RandomHex() {
  std::random_device rd;
  const std::uint64_t v = (std::uint64_t{rd()} << 32) | rd();
  return s3::Hex(reinterpret_cast<const std::uint8_t*>(&v), sizeof v);
}

bool Is2xx(const Result<s3::HttpResponse>& r) {
  return r.ok() && r->status >= 200 && r->status < 300;
}

bool Is412(const Result<s3::HttpResponse>& r) {
  return r.ok() && r->status == 412;
}

}  // namespace

Status S3Store::Impl::CheckBucket() {
  const s3::S3ClientOptions& o = client_.options();
  // A one-key listing rather than HEAD bucket: its error answer carries S3's error code
  // (InvalidAccessKeyId, SignatureDoesNotMatch, NoSuchBucket), which HEAD cannot.
  s3::S3Request req{"GET", "", {}, {}, {}, {}};
  req.query = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", key_prefix_}};
  Result<s3::HttpResponse> resp = client_.Send(req, {301});
  if (resp.ok() && resp->status == 301) {
    const std::string* region = resp->Header("x-amz-bucket-region");
    return Status::InvalidArgument("bucket '" + o.bucket + "' is not served by " +
                                   o.endpoint.ToString() +
                                   (region ? " (it is in region " + *region + "; set [s3] region)"
                                           : std::string(" (wrong region or endpoint)")));
  }
  if (resp.ok()) return Status::Ok();
  const Status& s = resp.status();
  switch (s.code()) {
    case StatusCode::kPermissionDenied:
      return Status::PermissionDenied("S3 at " + o.endpoint.ToString() +
                                      " refused access key id '" + o.credentials.access_key_id +
                                      "' (from " + o.credentials.source + ") for bucket '" +
                                      o.bucket + "': " + s.message());
    case StatusCode::kNotFound:
      return Status::NotFound("bucket '" + o.bucket + "' does not exist at " +
                              o.endpoint.ToString() + ": " + s.message());
    default: return s.WithContext("checking bucket '" + o.bucket + "' at " + o.endpoint.ToString());
  }
}

Result<ConditionalSupport> S3Store::Impl::ProbeConditionalPuts() {
  ConditionalSupport found;
  const std::string probe = key_prefix_ + ".zerofs-probe-" + RandomHex();
  // Transient failures are retried; 412 is an answer here, not an error.
  auto put = [&](std::string_view body, s3::HeaderList headers) {
    s3::S3Request req{"PUT", probe, {}, std::move(headers), body, {}};
    req.headers.emplace_back("Content-MD5", s3::Base64(s3::Md5(body)));
    return client_.Send(req, {412});
  };
  auto fail = [&](const Result<s3::HttpResponse>& r, std::string_view step) {
    return r.ok() ? Status::Internal("HTTP " + std::to_string(r->status))
                  : r.status().WithContext("probing conditional puts (" + std::string(step) + ")");
  };

  Result<s3::HttpResponse> created = put("probe-1", {});
  if (!Is2xx(created)) {
    Status s = fail(created, "create");
    if (s.code() != StatusCode::kPermissionDenied) return s;
    // Read-only credentials can still serve a read-only volume; nothing to probe.
    ZEROFS_LOG(kWarn) << Describe() << ": cannot write (" << s.message()
                      << "); conditional puts not probed";
    return found;
  }
  // Whatever happens below, the probe object must not outlive the probe.
  struct DeleteOnExit {
    Impl* impl;
    const std::string& key;
    ~DeleteOnExit() {
      s3::S3Request del{"DELETE", key, {}, {}, {}, {}};
      if (Result<s3::HttpResponse> r = impl->client_.Send(del, {404}); !r.ok()) {
        ZEROFS_LOG(kWarn) << impl->Describe() << ": could not delete the probe object: "
                          << r.status();
      }
    }
  } delete_on_exit{this, probe};

  // If-None-Match: * on the now existing key must be refused.
  Result<s3::HttpResponse> again = put("probe-2", {{"If-None-Match", "*"}});
  found.create = Is412(again);
  if (!found.create && !Is2xx(again)) {
    ZEROFS_LOG(kInfo) << Describe() << ": If-None-Match probe answered "
                      << fail(again, "If-None-Match");
  }

  // If-Match with the current etag must be accepted. RFC 7232 quotes etags, but radosgw
  // 16 only matches the bare form, so try both and keep what works.
  Result<ObjectInfo> head = HeadFull(probe);
  if (!head.ok()) return head.status();
  for (const bool quoted : {true, false}) {
    const std::string value = quoted ? "\"" + head->etag + "\"" : head->etag;
    const std::string body = quoted ? "probe-3q" : "probe-3";
    Result<s3::HttpResponse> matched = put(body, {{"If-Match", value}});
    if (Is2xx(matched) || Landed(probe, s3::Hex(s3::Md5(body)), body.size())) {
      found.replace = true;
      found.if_match_quoted = quoted;
      break;
    }
    if (!Is412(matched)) {
      ZEROFS_LOG(kInfo) << Describe() << ": If-Match probe answered " << fail(matched, "If-Match");
      break;
    }
  }
  // ... and a wrong etag refused, else the server ignores If-Match.
  if (found.replace) {
    const std::string wrong = "0123456789abcdef0123456789abcdef";
    Result<s3::HttpResponse> mismatched =
        put("probe-4", {{"If-Match", found.if_match_quoted ? "\"" + wrong + "\"" : wrong}});
    found.replace = Is412(mismatched);
  }

  // Conditions on CompleteMultipartUpload: one small part, completed with If-None-Match: *
  // over the existing probe object, must be refused.
  if (found.create) {
    s3::MultipartOptions mp;
    mp.max_parallel = 1;
    mp.complete_headers = {{"If-None-Match", "*"}};
    Result<std::string> completed = s3::UploadMultipart(client_, probe, "probe-5", mp);
    found.multipart = completed.status().IsPreconditionFailed();
  }
  return found;
}

}  // namespace zerofs::objstore
