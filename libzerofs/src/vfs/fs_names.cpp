// FilesystemImpl: lookup and the operations that create names (create, mkdir, mknod,
// symlink, link). Checks come in the order Linux makes them: the parent is a directory and
// searchable, the name is valid, the name is free (EEXIST), the parent is writable (EACCES),
// then the operation's own rules.
#include <cerrno>
#include <mutex>

#include "filesystem_impl.h"
#include "permission.h"
#include "zerofs/index/index_format.h"
#include "zerofs/index/keys.h"
#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

using index::FileType;

constexpr std::uint64_t kDirectorySize = 4096;
constexpr std::uint32_t kMaxLinks = 65000;  // ext4's EXT4_LINK_MAX

}  // namespace

Result<Attr> FilesystemImpl::Lookup(const Credentials& cred, Ino parent, std::string_view name) {
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, LoadDir(parent));
  ZEROFS_RETURN_IF_ERROR(
      CheckAccess(cred, dir, kAccessExecute, "lookup in directory " + std::to_string(parent)));
  ZEROFS_RETURN_IF_ERROR(CheckName(name));
  if (name == ".") return ToAttr(dir);
  if (name == "..") {
    ZEROFS_ASSIGN_OR_RETURN(InodeRecord up, LoadInode(dir.parent));
    return ToAttr(up);
  }
  ZEROFS_ASSIGN_OR_RETURN(std::optional<DirentRecord> entry, FindEntry(parent, name));
  if (!entry.has_value()) return Error(ENOENT, "no " + DescribeName(name, parent));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(entry->ino));
  return ToAttr(rec);
}

Result<InodeRecord> FilesystemImpl::CreateParent(const Credentials& cred, Ino parent,
                                                 std::string_view name, const char* op) {
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, LoadDir(parent));
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessExecute,
                                     std::string(op) + " in directory " + std::to_string(parent)));
  ZEROFS_RETURN_IF_ERROR(CheckName(name));
  if (IsDotOrDotDot(name)) return Error(EEXIST, std::string(op) + " " + DescribeName(name, parent));
  ZEROFS_ASSIGN_OR_RETURN(std::optional<DirentRecord> entry, FindEntry(parent, name));
  if (entry.has_value()) {
    return Error(EEXIST, std::string(op) + " " + DescribeName(name, parent) + ": exists");
  }
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessWrite | kAccessExecute,
                                     std::string(op) + " " + DescribeName(name, parent)));
  return dir;
}

Result<InodeRecord> FilesystemImpl::MakeNode(const Credentials& cred, InodeRecord& parent,
                                             std::string_view name, std::uint32_t mode,
                                             std::uint64_t rdev, std::string_view target) {
  ZEROFS_ASSIGN_OR_RETURN(Ino ino, volume_->AllocateInode());
  const Timespec now = Now();
  InodeRecord rec;
  rec.ino = ino;
  rec.mode = mode;
  const bool is_dir = rec.type() == FileType::kDirectory;
  rec.parent = is_dir ? parent.ino : 0;
  rec.nlink = is_dir ? 2 : 1;
  rec.rdev = rdev;
  rec.atime = rec.mtime = rec.ctime = rec.btime = now;
  rec.generation = NewGeneration();
  if (is_dir) {
    rec.size = kDirectorySize;
    rec.next_dir_cookie = format::kFirstDirCookie;
  }
  if (rec.type() == FileType::kSymlink) {
    rec.symlink_target = std::string(target);
    rec.size = target.size();
  }
  InitOwner(cred, parent, rec);

  parent.mtime = parent.ctime = now;
  if (is_dir) ++parent.nlink;
  engine::Transaction txn;
  PutInode(txn, rec);
  AddEntry(txn, parent, name, ino, rec.type());
  PutInode(txn, parent);
  ZEROFS_RETURN_IF_ERROR(Commit(txn, {0, 1}, {ino, parent.ino}));
  return rec;
}

Result<CreateResult> FilesystemImpl::Create(const Credentials& cred, Ino parent,
                                            std::string_view name, std::uint32_t mode,
                                            std::uint32_t open_flags, bool exclusive, bool open) {
  // Checked before anything is created: O_CREAT | O_DIRECTORY is EINVAL (Linux >= 6.4).
  if ((open_flags & kOpenDirectory) != 0 || (open_flags & kOpenAccessMode) == kOpenAccessMode) {
    return Error(EINVAL, "create with O_DIRECTORY or an invalid access mode");
  }
  std::unique_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, LoadDir(parent));
  ZEROFS_RETURN_IF_ERROR(
      CheckAccess(cred, dir, kAccessExecute, "create in directory " + std::to_string(parent)));
  ZEROFS_RETURN_IF_ERROR(CheckName(name));
  std::optional<DirentRecord> entry;
  if (IsDotOrDotDot(name)) {
    entry = DirentRecord{name == "." ? dir.ino : dir.parent, FileType::kDirectory, 0};
  } else {
    ZEROFS_ASSIGN_OR_RETURN(entry, FindEntry(parent, name));
  }
  CreateResult result;
  if (entry.has_value()) {
    if (exclusive) return Error(EEXIST, "create " + DescribeName(name, parent) + ": exists");
    ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(entry->ino));
    if (rec.type() == FileType::kDirectory) {
      return Error(EISDIR, "create " + DescribeName(name, parent) + ": is a directory");
    }
    if (rec.type() != FileType::kRegular) {
      return Error(EEXIST, "create " + DescribeName(name, parent) + ": exists, not a file");
    }
    ZEROFS_ASSIGN_OR_RETURN(result.handle, OpenLocked(cred, rec, open_flags, false, open));
    result.attr = ToAttr(rec);
    return result;
  }
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessWrite | kAccessExecute,
                                     "create " + DescribeName(name, parent)));
  ZEROFS_ASSIGN_OR_RETURN(
      InodeRecord rec,
      MakeNode(cred, dir, name, index::kModeRegular | (mode & index::kModePermissionMask), 0, {}));
  result.created = true;
  ZEROFS_ASSIGN_OR_RETURN(result.handle, OpenLocked(cred, rec, open_flags, true, open));
  result.attr = ToAttr(rec);
  return result;
}

Result<Attr> FilesystemImpl::Mkdir(const Credentials& cred, Ino parent, std::string_view name,
                                   std::uint32_t mode) {
  std::unique_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, CreateParent(cred, parent, name, "mkdir"));
  // mkdir keeps only the permission and sticky bits; setgid comes from the parent.
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec,
                          MakeNode(cred, dir, name, index::kModeDirectory | (mode & 01777), 0, {}));
  return ToAttr(rec);
}

Result<Attr> FilesystemImpl::Mknod(const Credentials& cred, Ino parent, std::string_view name,
                                   std::uint32_t mode, std::uint64_t rdev) {
  std::uint32_t type = mode & index::kModeTypeMask;
  if (type == 0) type = index::kModeRegular;
  switch (type) {
    case index::kModeRegular:
    case index::kModeFifo:
    case index::kModeSocket:
    case index::kModeCharDevice:
    case index::kModeBlockDevice: break;
    case index::kModeDirectory: return Error(EPERM, "mknod of a directory");
    default: return Error(EINVAL, "mknod of an unknown file type");
  }
  const bool device = type == index::kModeCharDevice || type == index::kModeBlockDevice;
  std::unique_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, CreateParent(cred, parent, name, "mknod"));
  if (device && !cred.is_root()) {
    return Error(EPERM, "mknod " + DescribeName(name, parent) + ": devices need root");
  }
  ZEROFS_ASSIGN_OR_RETURN(
      InodeRecord rec,
      MakeNode(cred, dir, name, type | (mode & index::kModePermissionMask), device ? rdev : 0, {}));
  return ToAttr(rec);
}

Result<Attr> FilesystemImpl::Symlink(const Credentials& cred, Ino parent, std::string_view name,
                                     std::string_view target) {
  if (target.empty()) return Error(ENOENT, "symlink with an empty target");
  if (target.size() >= format::kMaxSymlinkTargetBytes) {
    return Error(ENAMETOOLONG, "symlink target of " + std::to_string(target.size()) + " bytes");
  }
  if (target.find('\0') != std::string_view::npos) return Error(EINVAL, "symlink target has NUL");
  std::unique_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, CreateParent(cred, parent, name, "symlink"));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec,
                          MakeNode(cred, dir, name, index::kModeSymlink | 0777, 0, target));
  return ToAttr(rec);
}

Result<std::string> FilesystemImpl::ReadLink(const Credentials& cred, Ino ino) {
  (void)cred;  // readlink needs no permission on the link itself
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  if (rec.type() != FileType::kSymlink) {
    return Error(EINVAL, "readlink: inode " + std::to_string(ino) + " is not a symlink");
  }
  ZEROFS_RETURN_IF_ERROR(TouchAtime(ino, rec));
  return rec.symlink_target;
}

Result<Attr> FilesystemImpl::Link(const Credentials& cred, Ino ino, Ino new_parent,
                                  std::string_view name) {
  std::unique_lock ns(ns_mu_);
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, LoadDir(new_parent));
  const std::string what = "link " + DescribeName(name, new_parent);
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessExecute, what));
  ZEROFS_RETURN_IF_ERROR(CheckName(name));
  if (IsDotOrDotDot(name)) return Error(EEXIST, what);
  ZEROFS_ASSIGN_OR_RETURN(std::optional<DirentRecord> entry, FindEntry(new_parent, name));
  if (entry.has_value()) return Error(EEXIST, what + ": exists");
  if (options_.protected_hardlinks && !IsOwnerOrRoot(cred, rec)) {
    // may_linkat: a file the caller could not open for reading and writing, or one whose
    // link would keep setuid/setgid rights around, is the owner's to link.
    const bool risky = rec.type() != FileType::kRegular || (rec.mode & kModeSetUid) != 0 ||
                       (rec.mode & (kModeSetGid | 0010)) == (kModeSetGid | 0010) ||
                       !CheckAccess(cred, rec, kAccessRead | kAccessWrite, what).ok();
    if (risky) return Error(EPERM, what + ": protected hard link");
  }
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessWrite | kAccessExecute, what));
  if (rec.type() == FileType::kDirectory) return Error(EPERM, what + ": a directory");
  if (rec.nlink == 0) return Error(ENOENT, what + ": the file was removed");
  if (rec.nlink >= kMaxLinks) return Error(EMLINK, what + ": too many links");

  const Timespec now = Now();
  ++rec.nlink;
  rec.ctime = now;
  dir.mtime = dir.ctime = now;
  engine::Transaction txn;
  AddEntry(txn, dir, name, rec.ino, rec.type());
  PutInode(txn, dir);
  PutInode(txn, rec);
  ZEROFS_RETURN_IF_ERROR(Commit(txn, {}, {rec.ino, dir.ino}));
  return ToAttr(rec);
}

}  // namespace zerofs::vfs
