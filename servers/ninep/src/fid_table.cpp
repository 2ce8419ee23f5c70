// FidTable; see fid_table.h.
#include "zerofs/ninep/fid_table.h"

#include <cerrno>

#include "zerofs/ninep/protocol.h"

namespace zerofs::ninep {

std::shared_ptr<FidHandle> FidTable::Get(std::uint32_t fid) const {
  std::lock_guard lock(mu_);
  auto it = fids_.find(fid);
  return it == fids_.end() ? nullptr : it->second;
}

int FidTable::Insert(std::uint32_t fid, std::shared_ptr<FidHandle> handle) {
  if (fid == kNoFid || handle == nullptr) return EBADF;
  std::lock_guard lock(mu_);
  if (fids_.count(fid) != 0) return EBADF;
  if (fids_.size() >= max_fids_) return EMFILE;
  fids_.emplace(fid, std::move(handle));
  return 0;
}

int FidTable::Replace(std::uint32_t fid, std::shared_ptr<FidHandle> handle) {
  if (handle == nullptr) return EBADF;
  std::lock_guard lock(mu_);
  auto it = fids_.find(fid);
  if (it == fids_.end()) return EBADF;
  it->second = std::move(handle);
  return 0;
}

std::shared_ptr<FidHandle> FidTable::Remove(std::uint32_t fid) {
  std::lock_guard lock(mu_);
  auto it = fids_.find(fid);
  if (it == fids_.end()) return nullptr;
  std::shared_ptr<FidHandle> out = std::move(it->second);
  fids_.erase(it);
  return out;
}

std::vector<std::shared_ptr<FidHandle>> FidTable::Clear() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<FidHandle>> out;
  out.reserve(fids_.size());
  for (auto& [fid, handle] : fids_) out.push_back(std::move(handle));
  fids_.clear();
  return out;
}

std::size_t FidTable::size() const {
  std::lock_guard lock(mu_);
  return fids_.size();
}

}  // namespace zerofs::ninep
