// Placeholder until the S3Store implementation lands.
#include "zerofs/objstore/s3_store.h"

namespace zerofs::objstore {
class S3Store::Impl {};
Result<std::shared_ptr<S3Store>> S3Store::Open(const std::string&, const std::string&, const S3Config&) {
  return Status::NotSupported("S3Store not implemented");
}
S3Store::S3Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3Store::~S3Store() = default;
Result<GetResult> S3Store::DoGet(std::string_view, std::optional<ByteRange>) { return Status::NotSupported("x"); }
Result<ObjectInfo> S3Store::DoPut(std::string_view, std::string_view, const PutOptions&) { return Status::NotSupported("x"); }
Result<ObjectInfo> S3Store::DoHead(std::string_view) { return Status::NotSupported("x"); }
Result<ListPageResult> S3Store::DoListPage(std::string_view, std::string_view, std::uint32_t) { return Status::NotSupported("x"); }
Status S3Store::DoDelete(std::string_view) { return Status::NotSupported("x"); }
Status S3Store::DoDeleteMany(std::span<const std::string>) { return Status::NotSupported("x"); }
Capabilities S3Store::capabilities() const { return {}; }
std::string S3Store::Describe() const { return "s3://"; }
}  // namespace zerofs::objstore
