// Where S3 requests go: the endpoint URL, path-style or virtual-hosted addressing, and the
// request URL and canonical URI of a bucket or object key.
//
//   path-style       http://127.0.0.1:7480/bucket/some/key
//   virtual-hosted   https://bucket.s3.eu-west-1.amazonaws.com/some/key
//
// An empty endpoint means AWS: https://s3.<region>.amazonaws.com. An endpoint may carry a
// base path ("https://gateway.example/s3"), which prefixes every request path. The Host
// header is computed here and sent explicitly, so the signed host is the sent host.
//
// Plain values; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "zerofs/common/result.h"

namespace zerofs::objstore::s3 {

struct Endpoint {
  std::string scheme;     // "http" or "https"
  std::string host;       // host[:port] as sent in the Host header (default port omitted)
  std::string base_path;  // "" or "/path" without a trailing '/'

  std::string ToString() const { return scheme + "://" + host + base_path; }
};

// kInvalidArgument with an example when `endpoint` is not http(s)://host[:port][/path].
Result<Endpoint> ParseEndpoint(std::string_view endpoint, std::string_view region);

struct RequestTarget {
  std::string url;            // what libcurl requests
  std::string host;           // the Host header
  std::string canonical_uri;  // the encoded path, as signed
};

// The target for `key` in `bucket` (an empty key addresses the bucket itself), with the
// canonical query string `query` (sigv4.h) appended to the URL.
RequestTarget MakeTarget(const Endpoint& endpoint, std::string_view bucket, bool path_style,
                         std::string_view key, std::string_view query);

}  // namespace zerofs::objstore::s3
