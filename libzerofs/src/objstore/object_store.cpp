#include "zerofs/objstore/object_store.h"

namespace zerofs::objstore {

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid object key '" + std::string(key) + "': " +
                                   std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.size() > 1024) return bad("longer than 1024 bytes");
  if (key.front() == '/' || key.back() == '/') return bad("starts or ends with '/'");
  if (key.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view part = key.substr(start, end - start);
    if (part.empty()) return bad("has an empty path component");
    if (part == "." || part == "..") return bad("has a '.' or '..' component");
    start = end + 1;
  }
  return Status::Ok();
}

Result<GetResult> ObjectStore::Get(std::string_view key, std::optional<ByteRange> range) {
  ZEROFS_RETURN_IF_ERROR(ValidateKey(key));
  return DoGet(key, range);
}

Result<ObjectInfo> ObjectStore::Put(std::string_view key, std::string_view data,
                                    const PutOptions& options) {
  ZEROFS_RETURN_IF_ERROR(ValidateKey(key));
  if (options.condition == PutCondition::kIfMatch && options.if_match_etag.empty()) {
    return Status::InvalidArgument(std::string(key) + ": If-Match put without an etag");
  }
  return DoPut(key, data, options);
}

Result<ObjectInfo> ObjectStore::Head(std::string_view key) {
  ZEROFS_RETURN_IF_ERROR(ValidateKey(key));
  return DoHead(key);
}

Result<ListPageResult> ObjectStore::ListPage(std::string_view prefix, std::string_view start_after,
                                             std::uint32_t max_keys) {
  if (max_keys == 0 || max_keys > 1000) {
    return Status::InvalidArgument("list of '" + std::string(prefix) +
                                   "': max_keys must be between 1 and 1000");
  }
  if (prefix.find('\0') != std::string_view::npos || prefix.size() > 1024) {
    return Status::InvalidArgument("invalid list prefix '" + std::string(prefix) + "'");
  }
  return DoListPage(prefix, start_after, max_keys);
}

Status ObjectStore::Delete(std::string_view key) {
  ZEROFS_RETURN_IF_ERROR(ValidateKey(key));
  return DoDelete(key);
}

Status ObjectStore::DeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) ZEROFS_RETURN_IF_ERROR(ValidateKey(key));
  if (keys.empty()) return Status::Ok();
  return DoDeleteMany(keys);
}

Status ObjectStore::DoDeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) ZEROFS_RETURN_IF_ERROR(DoDelete(key));
  return Status::Ok();
}

Result<std::vector<ObjectInfo>> ObjectStore::List(std::string_view prefix,
                                                  std::size_t max_objects) {
  std::vector<ObjectInfo> out;
  std::string start_after;
  for (;;) {
    ZEROFS_ASSIGN_OR_RETURN(ListPageResult page, ListPage(prefix, start_after, 1000));
    for (ObjectInfo& info : page.objects) {
      if (!start_after.empty() && info.key <= start_after) {
        return Status::Corruption("listing of '" + std::string(prefix) +
                                  "' went backwards at key '" + info.key + "'");
      }
      start_after = info.key;
      out.push_back(std::move(info));
      if (out.size() > max_objects) {
        return Status::InvalidArgument("listing of '" + std::string(prefix) + "' exceeds " +
                                       std::to_string(max_objects) + " objects");
      }
    }
    if (!page.truncated) break;
    if (page.objects.empty()) {
      return Status::Corruption("listing of '" + std::string(prefix) +
                                "' returned an empty truncated page");
    }
  }
  return out;
}

}  // namespace zerofs::objstore
