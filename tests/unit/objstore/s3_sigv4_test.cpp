// SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for
// the Authorization Header: Transferring Payload in a Single Chunk"): same key, same
// request, same signature. The expected values were also recomputed independently with
// `openssl dgst -sha256 -mac HMAC` from the canonical requests below.
#include <catch2/catch.hpp>

#include "objstore/s3/digest.h"
#include "objstore/s3/sigv4.h"

namespace zerofs::objstore::s3 {
namespace {

const Secret kSecret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
constexpr std::string_view kAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kDate = "20130524T000000Z";

SigningInput Input(std::string_view method, std::string_view uri, std::string_view query,
                   const HeaderList& headers, std::string_view payload) {
  SigningInput in;
  in.method = method;
  in.canonical_uri = uri;
  in.canonical_query = query;
  in.headers = &headers;
  in.payload_sha256 = payload;
  in.amz_date_time = kDate;
  in.region = "us-east-1";
  return in;
}

TEST_CASE("SigV4: AWS example GET Object with a range") {
  const HeaderList headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                              {"Range", "bytes=0-9"},
                              {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                              {"x-amz-date", std::string(kDate)}};
  const SigningInput in = Input("GET", "/test.txt", "", headers, kEmptyPayloadSha256);
  CHECK(CanonicalRequest(in) ==
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(StringToSign(in) ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(Signature(in, kSecret) ==
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(Authorization(in, kAccessKey, kSecret) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("SigV4: AWS example PUT Object with an encoded key and a payload") {
  const std::string payload = "Welcome to Amazon S3.";
  const std::string payload_sha = Hex(Sha256(payload));
  CHECK(payload_sha == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  // Header order and name case must not matter.
  const HeaderList headers = {{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                              {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                              {"Host", "examplebucket.s3.amazonaws.com"},
                              {"X-Amz-Date", std::string(kDate)},
                              {"x-amz-content-sha256", payload_sha}};
  const std::string uri = "/" + UriEncode("test$file.text", false);
  CHECK(uri == "/test%24file.text");
  const SigningInput in = Input("PUT", uri, "", headers, payload_sha);
  CHECK(SignedHeaders(headers) == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  CHECK(Signature(in, kSecret) ==
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("SigV4: AWS example GET Bucket Lifecycle (a parameter without a value)") {
  const HeaderList headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                              {"x-amz-date", std::string(kDate)},
                              {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}};
  const std::string query = CanonicalQuery({{"lifecycle", ""}});
  CHECK(query == "lifecycle=");
  const SigningInput in = Input("GET", "/", query, headers, kEmptyPayloadSha256);
  CHECK(Signature(in, kSecret) ==
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("SigV4: AWS example GET Bucket (query parameters sorted)") {
  const HeaderList headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                              {"x-amz-date", std::string(kDate)},
                              {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}};
  const std::string query = CanonicalQuery({{"prefix", "J"}, {"max-keys", "2"}});
  CHECK(query == "max-keys=2&prefix=J");
  const SigningInput in = Input("GET", "/", query, headers, kEmptyPayloadSha256);
  CHECK(Signature(in, kSecret) ==
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("SigV4: URI encoding") {
  CHECK(UriEncode("AZaz09-._~", true) == "AZaz09-._~");
  CHECK(UriEncode("a b/c", false) == "a%20b/c");
  CHECK(UriEncode("a b/c", true) == "a%20b%2Fc");
  CHECK(UriEncode("+*%=&?#", true) == "%2B%2A%25%3D%26%3F%23");
  CHECK(UriEncode("\xC3\xA9", false) == "%C3%A9");  // UTF-8 bytes, upper-case hex
  CHECK(UriEncode(std::string_view("\x00\x7f", 2), true) == "%00%7F");
  CHECK(CanonicalQuery({{"start-after", "dir/a b"}, {"list-type", "2"}}) ==
        "list-type=2&start-after=dir%2Fa%20b");
}

TEST_CASE("SigV4: header values are trimmed and inner spaces collapsed") {
  const HeaderList a = {{"Host", "h"}, {"x-amz-meta-a", "  one   two  "}};
  const HeaderList b = {{"host", "h"}, {"X-AMZ-META-A", "one two"}};
  const SigningInput ia = Input("GET", "/k", "", a, kEmptyPayloadSha256);
  const SigningInput ib = Input("GET", "/k", "", b, kEmptyPayloadSha256);
  CHECK(CanonicalRequest(ia) == CanonicalRequest(ib));
  CHECK(CanonicalRequest(ia).find("x-amz-meta-a:one two\n") != std::string::npos);
}

TEST_CASE("SigV4: date formatting") {
  // 2013-05-24T00:00:00Z
  const auto t = std::chrono::system_clock::from_time_t(1369353600);
  CHECK(AmzDateTime(t) == "20130524T000000Z");
}

TEST_CASE("Digests and encodings") {
  CHECK(Hex(Md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(Base64(Md5("")) == "1B2M2Y8AsgTpgAmY7PhCfg==");
  const std::string_view rfc4648[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, out] : rfc4648) {
    CHECK(Base64(reinterpret_cast<const std::uint8_t*>(in.data()), in.size()) == out);
  }
  // RFC 4231 test case 2.
  CHECK(Hex(HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace zerofs::objstore::s3
