#include "zerofs/objstore/open.h"

#include "zerofs/objstore/local_store.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/s3_store.h"

namespace zerofs::objstore {
namespace {

Status BadUrl(std::string_view url, std::string_view why) {
  return Status::InvalidArgument(
      "invalid storage URL '" + std::string(url) + "': " + std::string(why) +
      " (expected s3://bucket[/prefix], file:///absolute/path or memory://name)");
}

std::string TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

bool ValidBucketName(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_' || (c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<StoreUrl> ParseUrl(std::string_view url) {
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return BadUrl(url, "no scheme");
  const std::string_view scheme = url.substr(0, sep);
  const std::string_view rest = url.substr(sep + 3);
  StoreUrl out;
  if (scheme == "s3") {
    out.scheme = Scheme::kS3;
    const size_t slash = rest.find('/');
    out.bucket = std::string(rest.substr(0, slash));
    if (out.bucket.empty()) return BadUrl(url, "no bucket name");
    if (!ValidBucketName(out.bucket)) {
      return BadUrl(url, "'" + out.bucket + "' is not a valid bucket name");
    }
    if (slash != std::string_view::npos) out.prefix = TrimSlashes(rest.substr(slash + 1));
    if (!out.prefix.empty()) {
      if (Status s = ValidateKey(out.prefix); !s.ok()) return BadUrl(url, s.message());
    }
    return out;
  }
  if (scheme == "file") {
    out.scheme = Scheme::kFile;
    if (rest.empty() || rest.front() != '/') {
      return BadUrl(url, "the path must be absolute (file:///path has three slashes)");
    }
    if (rest.find('\0') != std::string_view::npos) return BadUrl(url, "NUL byte in path");
    out.path = std::string(rest);
    while (out.path.size() > 1 && out.path.back() == '/') out.path.pop_back();
    return out;
  }
  if (scheme == "memory") {
    out.scheme = Scheme::kMemory;
    out.bucket = TrimSlashes(rest);
    if (out.bucket.empty()) return BadUrl(url, "no store name");
    return out;
  }
  return BadUrl(url, "unknown scheme '" + std::string(scheme) + "'");
}

Result<std::shared_ptr<ObjectStore>> Open(std::string_view url, const S3Options& s3) {
  ZEROFS_ASSIGN_OR_RETURN(StoreUrl parsed, ParseUrl(url));
  switch (parsed.scheme) {
    case Scheme::kMemory: return std::shared_ptr<ObjectStore>(MemoryStore::Named(parsed.bucket));
    case Scheme::kFile: {
      ZEROFS_ASSIGN_OR_RETURN(auto store, LocalStore::Open(parsed.path));
      return std::shared_ptr<ObjectStore>(std::move(store));
    }
    case Scheme::kS3: {
      ZEROFS_ASSIGN_OR_RETURN(auto store, S3Store::Open(parsed.bucket, parsed.prefix, s3));
      return std::shared_ptr<ObjectStore>(std::move(store));
    }
  }
  return Status::Internal("unreachable scheme");
}

}  // namespace zerofs::objstore
