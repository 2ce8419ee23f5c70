// AWS Signature Version 4 for S3 requests (the "Authorization: AWS4-HMAC-SHA256" header).
//
// The pieces are exposed one by one (canonical request, string to sign, signature) so that
// tests can check each against AWS's published worked examples. The algorithm:
//   canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//   string to sign    = "AWS4-HMAC-SHA256" \n DATE-TIME \n SCOPE \n hex(sha256(canonical))
//   signing key       = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request"
// S3 differs from other AWS services in two ways that matter here: object keys in the path
// are encoded once (not twice) and paths are not normalized.
//
// Stateless functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zerofs/common/secret.h"

namespace zerofs::objstore::s3 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The SHA-256 of an empty payload, which every GET, HEAD and DELETE signs.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// SigV4's URI encoding: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case
// hex); '/' is kept when encoding a path and encoded in query names and values.
std::string UriEncode(std::string_view s, bool encode_slash);

// The canonical query string: each name and value URI-encoded, sorted by name (then
// value), joined as n=v&n=v. A parameter without a value appears as "n=". The result is
// also what goes on the wire, so the signed and the sent query cannot differ.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& params);

// "20130524T000000Z" for a UTC time.
std::string AmzDateTime(std::chrono::system_clock::time_point when);

struct SigningInput {
  std::string_view method;              // "GET"
  std::string_view canonical_uri;       // the encoded path, e.g. "/bucket/my%20key"
  std::string_view canonical_query;     // from CanonicalQuery()
  const HeaderList* headers = nullptr;  // every header to sign, including host and x-amz-date
  std::string_view payload_sha256;      // hex, or "UNSIGNED-PAYLOAD"
  std::string_view amz_date_time;       // from AmzDateTime(); must equal the x-amz-date header
  std::string_view region;              // "us-east-1"
  std::string_view service = "s3";
};

// "host;range;x-amz-date": lower-case names, sorted, joined by ';'.
std::string SignedHeaders(const HeaderList& headers);
std::string CanonicalRequest(const SigningInput& in);
// "20130524/us-east-1/s3/aws4_request"
std::string CredentialScope(const SigningInput& in);
std::string StringToSign(const SigningInput& in);
// The hex signature of the request.
std::string Signature(const SigningInput& in, const Secret& secret_access_key);
// The complete Authorization header value.
std::string Authorization(const SigningInput& in, std::string_view access_key_id,
                          const Secret& secret_access_key);

}  // namespace zerofs::objstore::s3
