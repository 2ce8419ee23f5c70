// Opening a store from a URL.
//
//   s3://bucket            s3://bucket/some/prefix   (settings from S3Options)
//   file:///absolute/path  (a directory; created if missing)
//   memory://name          (process-wide store shared by name)
//
// A malformed URL is kInvalidArgument with a message that says what is wrong and what a
// valid URL looks like. The returned store is ready: S3Store has probed the server.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "zerofs/objstore/object_store.h"
#include "zerofs/objstore/s3_options.h"

namespace zerofs::objstore {

enum class Scheme : std::uint8_t { kS3, kFile, kMemory };

struct StoreUrl {
  Scheme scheme = Scheme::kMemory;
  std::string bucket;  // s3: the bucket; memory: the name
  std::string prefix;  // s3: key prefix without leading/trailing '/', may be empty
  std::string path;    // file: the absolute directory
};

Result<StoreUrl> ParseUrl(std::string_view url);

Result<std::shared_ptr<ObjectStore>> Open(std::string_view url, const S3Options& s3 = {});

}  // namespace zerofs::objstore
