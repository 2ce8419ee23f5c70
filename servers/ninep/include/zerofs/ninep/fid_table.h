// FidTable: the fids of one 9P connection, each naming an opaque handle object.
//
// A fid is a 32-bit number the client picks (Tattach, Twalk newfid, Txattrwalk newfid)
// and later clunks. The table maps it to a FidHandle that the Handler defines (a VFS
// inode reference, an open file, a directory cursor...). The table owns shared references
// to the handles; an operation in progress keeps its own reference, so a concurrent Tclunk
// cannot free a handle under it. The number of fids is bounded so a client cannot make the
// server allocate without limit.
//
// Thread-safety: every method may be called from any thread (the connection's requests run
// concurrently on a worker pool). Handles synchronize their own mutable state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace zerofs::ninep {

// Base of whatever a Handler attaches to a fid.
class FidHandle {
 public:
  virtual ~FidHandle() = default;
};

class FidTable {
 public:
  static constexpr std::size_t kDefaultMaxFids = 65536;

  explicit FidTable(std::size_t max_fids = kDefaultMaxFids) : max_fids_(max_fids) {}
  FidTable(const FidTable&) = delete;
  FidTable& operator=(const FidTable&) = delete;

  // nullptr when `fid` is not in use.
  std::shared_ptr<FidHandle> Get(std::uint32_t fid) const;
  template <typename T>
  std::shared_ptr<T> GetAs(std::uint32_t fid) const {
    return std::dynamic_pointer_cast<T>(Get(fid));
  }

  // 0 on success, or the errno for Rlerror: EBADF for NOFID or a fid already in use,
  // EMFILE when the table is full.
  int Insert(std::uint32_t fid, std::shared_ptr<FidHandle> handle);
  // Points an existing fid at a new handle (Tlcreate turns the directory fid into the
  // new file). EBADF when `fid` is not in use.
  int Replace(std::uint32_t fid, std::shared_ptr<FidHandle> handle);
  // Removes `fid` and returns its handle; nullptr when it was not in use.
  std::shared_ptr<FidHandle> Remove(std::uint32_t fid);
  // Removes every fid (Tversion starts a new session; the connection closed).
  std::vector<std::shared_ptr<FidHandle>> Clear();

  std::size_t size() const;
  std::size_t max_fids() const { return max_fids_; }

 private:
  const std::size_t max_fids_;
  mutable std::mutex mu_;
  std::unordered_map<std::uint32_t, std::shared_ptr<FidHandle>> fids_;  // GUARDED_BY(mu_)
};

}  // namespace zerofs::ninep
