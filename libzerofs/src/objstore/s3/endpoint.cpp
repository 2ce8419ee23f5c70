#include "objstore/s3/endpoint.h"

#include "objstore/s3/sigv4.h"

namespace zerofs::objstore::s3 {
namespace {

Status BadEndpoint(std::string_view endpoint, std::string_view why) {
  return Status::InvalidArgument("invalid [s3] endpoint '" + std::string(endpoint) + "': " +
                                 std::string(why) + " (expected e.g. http://127.0.0.1:7480)");
}

}  // namespace

Result<Endpoint> ParseEndpoint(std::string_view endpoint, std::string_view region) {
  if (endpoint.empty()) {
    if (region.empty()) return BadEndpoint(endpoint, "empty, and no region to default to");
    return Endpoint{"https", "s3." + std::string(region) + ".amazonaws.com", ""};
  }
  const std::size_t sep = endpoint.find("://");
  if (sep == std::string_view::npos) return BadEndpoint(endpoint, "no http:// or https://");
  Endpoint out;
  out.scheme = std::string(endpoint.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return BadEndpoint(endpoint, "scheme must be http or https");
  }
  std::string_view rest = endpoint.substr(sep + 3);
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.empty()) return BadEndpoint(endpoint, "no host");
  if (authority.find_first_of("@?# ") != std::string_view::npos) {
    return BadEndpoint(endpoint, "credentials, query or spaces in the URL");
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    return BadEndpoint(endpoint, "query or fragment in the URL");
  }
  // Drop a default port, as clients omit it from the Host header.
  const std::string_view default_port = out.scheme == "https" ? ":443" : ":80";
  if (authority.size() > default_port.size() &&
      authority.substr(authority.size() - default_port.size()) == default_port) {
    authority.remove_suffix(default_port.size());
  }
  out.host = std::string(authority);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.base_path = std::string(path);
  return out;
}

RequestTarget MakeTarget(const Endpoint& endpoint, std::string_view bucket, bool path_style,
                         std::string_view key, std::string_view query) {
  RequestTarget out;
  out.canonical_uri = endpoint.base_path;
  if (path_style) {
    out.host = endpoint.host;
    out.canonical_uri += '/';
    out.canonical_uri += UriEncode(bucket, true);
    if (!key.empty()) {
      out.canonical_uri += '/';
      out.canonical_uri += UriEncode(key, false);
    }
  } else {
    out.host = std::string(bucket) + "." + endpoint.host;
    out.canonical_uri += '/';
    out.canonical_uri += UriEncode(key, false);
  }
  out.url = endpoint.scheme + "://" + out.host + out.canonical_uri;
  if (!query.empty()) {
    out.url += '?';
    out.url += query;
  }
  return out;
}

}  // namespace zerofs::objstore::s3
