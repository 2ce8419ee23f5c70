// FilesystemImpl: readdir with stable cookies.
//
// A directory's entries are listed from the cookie table ('c' parent cookie), where each
// entry keeps the cookie it got when it was created until it is removed. A listing that
// resumes after cookie c therefore continues with exactly the entries whose cookies are
// larger: an entry added meanwhile has a larger cookie than every existing one (it comes
// later, once), and an entry removed meanwhile only disappears; no other entry is skipped
// or repeated.
#include <cerrno>
#include <mutex>

#include "filesystem_impl.h"
#include "permission.h"
#include "zerofs/index/index_format.h"
#include "zerofs/index/keys.h"
#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

constexpr std::uint64_t kDotCookie = 1;
constexpr std::uint64_t kDotDotCookie = 2;
static_assert(format::kFirstDirCookie == kDotDotCookie + 1);

}  // namespace

Result<std::vector<DirEntry>> FilesystemImpl::ReadDirLocked(const InodeRecord& dir,
                                                            std::uint64_t cookie,
                                                            std::size_t max_entries) {
  if (max_entries == 0) return Error(EINVAL, "readdir of zero entries");
  std::vector<DirEntry> out;
  if (cookie < kDotCookie) out.push_back({".", dir.ino, index::FileType::kDirectory, kDotCookie});
  if (cookie < kDotDotCookie && out.size() < max_entries) {
    out.push_back({"..", dir.parent, index::FileType::kDirectory, kDotDotCookie});
  }
  if (out.size() < max_entries) {
    const std::string start_after =
        cookie >= format::kFirstDirCookie ? index::DirCookieKey(dir.ino, cookie) : std::string();
    Status parse;
    ZEROFS_RETURN_IF_ERROR(
        volume_->Scan(index::DirCookiePrefix(dir.ino), start_after,
                      [&](std::string_view key, std::string_view value) {
                        auto parts = index::DecodeDirCookieKey(key);
                        auto rec = index::DecodeDirCookieRecord(value);
                        if (!parts.ok() || !rec.ok()) {
                          parse = parts.ok() ? rec.status() : parts.status();
                          return false;
                        }
                        out.push_back({std::move(rec->name), rec->ino, rec->type, parts->cookie});
                        return out.size() < max_entries;
                      }));
    ZEROFS_RETURN_IF_ERROR(parse);
  }
  ZEROFS_RETURN_IF_ERROR(TouchAtime(dir.ino, dir));
  return out;
}

Result<std::vector<DirEntry>> FilesystemImpl::ReadDir(HandleId handle, std::uint64_t cookie,
                                                      std::size_t max_entries) {
  ZEROFS_ASSIGN_OR_RETURN(Handle h, GetHandle(handle));
  if (!h.directory) return Error(ENOTDIR, "readdir of a handle that is not a directory");
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, LoadInode(h.ino));
  // A directory removed while open lists nothing, not even "." and "..", as on Linux.
  if (dir.nlink == 0) return std::vector<DirEntry>();
  ZEROFS_ASSIGN_OR_RETURN(dir, LoadDir(h.ino));
  return ReadDirLocked(dir, cookie, max_entries);
}

Result<std::vector<DirEntry>> FilesystemImpl::ReadDirInode(const Credentials& cred, Ino ino,
                                                           std::uint64_t cookie,
                                                           std::size_t max_entries) {
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, LoadDir(ino));
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessRead, "readdir of " + std::to_string(ino)));
  return ReadDirLocked(dir, cookie, max_entries);
}

}  // namespace zerofs::vfs
