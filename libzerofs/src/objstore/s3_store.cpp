#include "zerofs/objstore/s3_store.h"

#include "objstore/s3/credentials.h"
#include "objstore/s3/endpoint.h"
#include "objstore/s3/store_impl.h"
#include "zerofs/common/log.h"

namespace zerofs::objstore {
namespace {

std::string TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<std::shared_ptr<S3Store>> S3Store::Open(const std::string& bucket, const std::string& prefix,
                                               const S3Options& config) {
  if (bucket.empty()) return Status::InvalidArgument("S3 store without a bucket name");
  if (config.max_parallel == 0) {
    return Status::InvalidArgument("[s3] max_parallel must be at least 1");
  }
  const std::string region = config.region.empty() ? "us-east-1" : config.region;
  ZEROFS_ASSIGN_OR_RETURN(s3::Endpoint endpoint, s3::ParseEndpoint(config.endpoint, region));
  ZEROFS_ASSIGN_OR_RETURN(s3::Credentials credentials, s3::ResolveCredentials(config));

  s3::S3ClientOptions options;
  options.endpoint = std::move(endpoint);
  options.bucket = bucket;
  options.path_style = config.path_style;
  options.region = region;
  options.credentials = std::move(credentials);
  options.http.max_parallel = config.max_parallel;
  options.http.connect_timeout_ms = config.connect_timeout_ms;
  options.http.request_timeout_ms = config.request_timeout_ms;
  options.http.verify_tls = config.verify_tls;
  options.http.ca_file = config.ca_file;
  options.max_retries = config.max_retries;
  options.retry_base_delay_ms = config.retry_base_delay_ms;
  options.retry_max_delay_ms = config.retry_max_delay_ms;

  auto impl = std::make_unique<Impl>(std::move(options), TrimSlashes(prefix), config);
  ZEROFS_RETURN_IF_ERROR(impl->CheckBucket());
  ZEROFS_ASSIGN_OR_RETURN(impl->conditionals, impl->ProbeConditionalPuts());
  const ConditionalSupport& c = impl->conditionals;
  if (!c.create || !c.replace) {
    ZEROFS_LOG(kWarn) << impl->Describe() << ": the server does not enforce conditional puts"
                      << " (If-None-Match: " << (c.create ? "yes" : "no")
                      << ", If-Match: " << (c.replace ? "yes" : "no")
                      << "); a volume here runs single-writer, without fencing or HA";
  } else {
    ZEROFS_LOG(kInfo) << "opened " << impl->Describe() << " (conditional puts enforced, If-Match "
                      << (c.if_match_quoted ? "quoted" : "unquoted")
                      << (c.multipart ? ""
                                      : "; not on multipart completion, so conditional puts "
                                        "are limited to 5 GiB")
                      << ")";
  }
  return std::shared_ptr<S3Store>(new S3Store(std::move(impl)));
}

S3Store::S3Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3Store::~S3Store() = default;

Result<GetResult> S3Store::DoGet(std::string_view key, std::optional<ByteRange> range) {
  return impl_->Get(key, range);
}

Result<ObjectInfo> S3Store::DoPut(std::string_view key, std::string_view data,
                                  const PutOptions& options) {
  return impl_->Put(key, data, options);
}

Result<ObjectInfo> S3Store::DoHead(std::string_view key) {
  return impl_->Head(key);
}

Result<ListPageResult> S3Store::DoListPage(std::string_view prefix, std::string_view start_after,
                                           std::uint32_t max_keys) {
  return impl_->ListPage(prefix, start_after, max_keys);
}

Status S3Store::DoDelete(std::string_view key) {
  return impl_->Delete(key);
}

Status S3Store::DoDeleteMany(std::span<const std::string> keys) {
  return impl_->DeleteMany(keys);
}

Capabilities S3Store::capabilities() const {
  return {impl_->conditionals.create, impl_->conditionals.replace,
          impl_->client().options().max_retries + 1};
}

std::string S3Store::Describe() const {
  return impl_->Describe();
}

}  // namespace zerofs::objstore
