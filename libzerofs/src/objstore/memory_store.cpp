#include "zerofs/objstore/memory_store.h"

#include <sodium.h>

#include <cstdio>
#include <unordered_map>

namespace zerofs::objstore {
namespace {

std::string MakeEtag(std::string_view data, std::uint64_t generation) {
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  std::string out;
  char buf[3];
  for (unsigned char b : hash) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  out += '-';
  out += std::to_string(generation);
  return out;
}

}  // namespace

MemoryStore::MemoryStore(std::string name) : name_(std::move(name)) {}
MemoryStore::~MemoryStore() = default;

std::shared_ptr<MemoryStore> MemoryStore::Named(const std::string& name) {
  static std::mutex registry_mu;
  static std::unordered_map<std::string, std::weak_ptr<MemoryStore>> registry;
  std::lock_guard lock(registry_mu);
  if (auto existing = registry[name].lock()) return existing;
  auto store = std::make_shared<MemoryStore>(name);
  registry[name] = store;
  return store;
}

Result<GetResult> MemoryStore::DoGet(std::string_view key, std::optional<ByteRange> range) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound(std::string(key));
  const std::string& data = it->second.data;
  GetResult out;
  out.info = {std::string(key), data.size(), it->second.etag};
  if (!range.has_value()) {
    out.data = data;
    return out;
  }
  if (range->offset > data.size()) {
    return Status::InvalidArgument(std::string(key) + ": range starts at " +
                                   std::to_string(range->offset) + ", past the end (" +
                                   std::to_string(data.size()) + " bytes)");
  }
  out.data = data.substr(range->offset, range->length);
  return out;
}

Result<ObjectInfo> MemoryStore::DoPut(std::string_view key, std::string_view data,
                                    const PutOptions& options) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  switch (options.condition) {
    case PutCondition::kNone: break;
    case PutCondition::kIfNoneMatch:
      if (it != objects_.end()) {
        return Status::PreconditionFailed(std::string(key) + ": exists (If-None-Match: *)");
      }
      break;
    case PutCondition::kIfMatch:
      if (it == objects_.end()) {
        return Status::PreconditionFailed(std::string(key) + ": does not exist (If-Match)");
      }
      if (it->second.etag != options.if_match_etag) {
        return Status::PreconditionFailed(std::string(key) + ": etag is not " +
                                          options.if_match_etag + " (If-Match)");
      }
      break;
  }
  Object obj{std::string(data), MakeEtag(data, ++generation_)};
  ObjectInfo info{std::string(key), data.size(), obj.etag};
  if (it != objects_.end()) {
    bytes_ -= it->second.data.size();
    it->second = std::move(obj);
  } else {
    objects_.emplace(std::string(key), std::move(obj));
  }
  bytes_ += data.size();
  return info;
}

Result<ObjectInfo> MemoryStore::DoHead(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound(std::string(key));
  return ObjectInfo{std::string(key), it->second.data.size(), it->second.etag};
}

Result<ListPageResult> MemoryStore::DoListPage(std::string_view prefix, std::string_view start_after,
                                             std::uint32_t max_keys) {
  std::lock_guard lock(mu_);
  ListPageResult page;
  auto it = start_after.empty() || start_after < prefix ? objects_.lower_bound(prefix)
                                                        : objects_.upper_bound(start_after);
  for (; it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (page.objects.size() == max_keys) {
      page.truncated = true;
      break;
    }
    page.objects.push_back({it->first, it->second.data.size(), it->second.etag});
  }
  return page;
}

Status MemoryStore::DoDelete(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    bytes_ -= it->second.data.size();
    objects_.erase(it);
  }
  return Status::Ok();
}

std::string MemoryStore::Describe() const { return "memory://" + name_; }

std::uint64_t MemoryStore::BytesStored() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::size_t MemoryStore::ObjectCount() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

}  // namespace zerofs::objstore
