// Placeholder until the LocalStore implementation lands.
#include "zerofs/objstore/local_store.h"

namespace zerofs::objstore {
Result<std::shared_ptr<LocalStore>> LocalStore::Open(const std::filesystem::path& root) {
  return Status::NotSupported("LocalStore not implemented: " + root.string());
}
LocalStore::LocalStore(std::filesystem::path root) : root_(std::move(root)) {}
LocalStore::~LocalStore() = default;
Result<GetResult> LocalStore::DoGet(std::string_view, std::optional<ByteRange>) { return Status::NotSupported("x"); }
Result<ObjectInfo> LocalStore::DoPut(std::string_view, std::string_view, const PutOptions&) { return Status::NotSupported("x"); }
Result<ObjectInfo> LocalStore::DoHead(std::string_view) { return Status::NotSupported("x"); }
Result<ListPageResult> LocalStore::DoListPage(std::string_view, std::string_view, std::uint32_t) { return Status::NotSupported("x"); }
Status LocalStore::DoDelete(std::string_view) { return Status::NotSupported("x"); }
std::string LocalStore::Describe() const { return "file://" + root_.string(); }
}  // namespace zerofs::objstore
