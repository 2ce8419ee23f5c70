// Mapping of S3 answers to Status codes, backoff bounds, endpoint parsing and addressing,
// and multipart arithmetic: the parts of S3Store that need no server.
#include <catch2/catch.hpp>

#include "objstore/s3/digest.h"
#include "objstore/s3/endpoint.h"
#include "objstore/s3/errors.h"
#include "objstore/s3/multipart.h"

namespace zerofs::objstore::s3 {
namespace {

std::string ErrorBody(std::string_view code, std::string_view message = "msg") {
  return "<?xml version=\"1.0\"?><Error><Code>" + std::string(code) + "</Code><Message>" +
         std::string(message) + "</Message><RequestId>req-1</RequestId></Error>";
}

TEST_CASE("S3 errors: HTTP status and S3 code map to Status codes") {
  struct Case {
    long http;
    const char* code;
    StatusCode expected;
  };
  const Case cases[] = {
      {404, "NoSuchKey", StatusCode::kNotFound},
      {404, "NoSuchBucket", StatusCode::kNotFound},
      {404, "", StatusCode::kNotFound},
      {412, "PreconditionFailed", StatusCode::kPreconditionFailed},
      {412, "", StatusCode::kPreconditionFailed},
      {429, "", StatusCode::kUnavailable},
      {500, "InternalError", StatusCode::kUnavailable},
      {502, "", StatusCode::kUnavailable},
      {503, "SlowDown", StatusCode::kUnavailable},
      {504, "", StatusCode::kUnavailable},
      {400, "RequestTimeout", StatusCode::kUnavailable},
      {409, "ConditionalRequestConflict", StatusCode::kUnavailable},
      {403, "AccessDenied", StatusCode::kPermissionDenied},
      {403, "InvalidAccessKeyId", StatusCode::kPermissionDenied},
      {403, "SignatureDoesNotMatch", StatusCode::kPermissionDenied},
      {403, "", StatusCode::kPermissionDenied},
      {400, "InvalidArgument", StatusCode::kInvalidArgument},
      {400, "", StatusCode::kInvalidArgument},
      {416, "InvalidRange", StatusCode::kInvalidArgument},
      {501, "NotImplemented", StatusCode::kNotSupported},
  };
  for (const Case& c : cases) {
    INFO("HTTP " << c.http << " " << c.code);
    const std::string body = *c.code ? ErrorBody(c.code) : std::string();
    CHECK(StatusFromResponse(c.http, body, "GET s3://b/k").code() == c.expected);
  }
}

TEST_CASE("S3 errors: messages name the key and carry the server's code and message") {
  Status s = StatusFromResponse(404, ErrorBody("NoSuchKey", "The specified key does not exist."),
                                "GET s3://bucket/dir/key");
  CHECK(s.message() ==
        "GET s3://bucket/dir/key: NoSuchKey: The specified key does not exist. (HTTP 404, "
        "request id req-1)");
  Status head = StatusFromResponse(404, "", "HEAD s3://bucket/k");
  CHECK(head.message() == "HEAD s3://bucket/k: HTTP 404");
  Status proxy = StatusFromResponse(502, "<html>\nBad gateway</html>", "GET s3://bucket/k");
  CHECK(proxy.code() == StatusCode::kUnavailable);
  CHECK(proxy.message() == "GET s3://bucket/k: HTTP 502: <html> Bad gateway</html>");
}

TEST_CASE("Backoff: exponential, capped, full jitter") {
  using std::chrono::milliseconds;
  const std::uint64_t max_random = ~std::uint64_t{0};
  // The upper bound doubles per attempt from the base, and never exceeds the cap.
  CHECK(BackoffDelay(0, 50, 5000, 50) == milliseconds(50));
  CHECK(BackoffDelay(0, 50, 5000, 51) == milliseconds(0));
  CHECK(BackoffDelay(3, 50, 5000, 400) == milliseconds(400));
  CHECK(BackoffDelay(3, 50, 5000, 401) == milliseconds(0));
  for (std::uint32_t attempt = 0; attempt < 100; ++attempt) {
    for (std::uint64_t r : {std::uint64_t{0}, std::uint64_t{12345}, max_random}) {
      CHECK(BackoffDelay(attempt, 50, 5000, r) <= milliseconds(5000));
    }
  }
  CHECK(BackoffDelay(0, 0, 0, 7) == milliseconds(0));
}

TEST_CASE("Endpoints and request targets") {
  auto local = ParseEndpoint("http://127.0.0.1:7480/", "us-east-1");
  REQUIRE(local.ok());
  CHECK(local->host == "127.0.0.1:7480");
  CHECK(local->base_path.empty());
  RequestTarget t = MakeTarget(*local, "bkt", true, "dir/a b+c", "list-type=2");
  CHECK(t.url == "http://127.0.0.1:7480/bkt/dir/a%20b%2Bc?list-type=2");
  CHECK(t.host == "127.0.0.1:7480");
  CHECK(t.canonical_uri == "/bkt/dir/a%20b%2Bc");
  CHECK(MakeTarget(*local, "bkt", true, "", "").url == "http://127.0.0.1:7480/bkt");

  auto aws = ParseEndpoint("", "eu-west-1");
  REQUIRE(aws.ok());
  CHECK(aws->ToString() == "https://s3.eu-west-1.amazonaws.com");
  RequestTarget v = MakeTarget(*aws, "bkt", false, "k", "");
  CHECK(v.url == "https://bkt.s3.eu-west-1.amazonaws.com/k");
  CHECK(v.host == "bkt.s3.eu-west-1.amazonaws.com");
  CHECK(MakeTarget(*aws, "bkt", false, "", "").canonical_uri == "/");

  auto with_path = ParseEndpoint("https://gw.example:443/s3/", "us-east-1");
  REQUIRE(with_path.ok());
  CHECK(with_path->host == "gw.example");  // the default port is not part of Host
  CHECK(MakeTarget(*with_path, "b", true, "k", "").url == "https://gw.example/s3/b/k");

  for (const char* bad :
       {"127.0.0.1:7480", "ftp://host", "http://", "http://u:p@host", "http://host/?x=1"}) {
    INFO("endpoint: " << bad);
    CHECK(ParseEndpoint(bad, "us-east-1").status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Multipart: part sizes and the etag S3 computes") {
  CHECK(PartBytes(12 << 20, 1 << 20) == kMinPartBytes);
  CHECK(PartBytes(12 << 20, 8 << 20) == (8 << 20));
  // 100 GiB in 16 MiB parts would be 6400 parts: fine; 1 TiB needs bigger parts.
  CHECK(PartBytes(100ULL << 30, 16 << 20) == (16 << 20));
  const std::uint64_t tib = 1ULL << 40;
  CHECK((tib + PartBytes(tib, 16 << 20) - 1) / PartBytes(tib, 16 << 20) <= kMaxParts);

  // Two parts "ab" + "c" (tiny part size for the arithmetic only).
  const std::string concat = std::string(AsBytes(Md5("ab"))) + std::string(AsBytes(Md5("c")));
  CHECK(MultipartEtag("abc", 2) == Hex(Md5(concat)) + "-2");
  CHECK(MultipartEtag("abcd", 2).substr(32) == "-2");
  CHECK(MultipartEtag("abcde", 2).substr(32) == "-3");
}

}  // namespace
}  // namespace zerofs::objstore::s3
