// FilesystemImpl: getattr, setattr (chmod, chown, truncate, utimensat) and access.
#include <cerrno>
#include <mutex>

#include "filesystem_impl.h"
#include "permission.h"
#include "zerofs/index/index_format.h"
#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

using index::FileType;

bool ValidTime(const TimeUpdate& t) {
  return t.kind != TimeUpdate::Kind::kValue || t.value.nsec <= format::kMaxNanoseconds;
}

}  // namespace

Result<Attr> FilesystemImpl::GetAttr(Ino ino) {
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  return ToAttr(rec);
}

Status FilesystemImpl::Access(const Credentials& cred, Ino ino, std::uint32_t mask) {
  if ((mask & ~(kAccessRead | kAccessWrite | kAccessExecute)) != 0) {
    return Error(EINVAL, "access: unknown mask bits");
  }
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  if ((mask & kAccessWrite) != 0 && volume_->read_only()) {
    return Error(EROFS, "access: the volume is open read-only");
  }
  return CheckAccess(cred, rec, mask, "access to inode " + std::to_string(ino));
}

Result<Attr> FilesystemImpl::SetAttr(const Credentials& cred, Ino ino, const SetAttrRequest& req) {
  if (!ValidTime(req.atime) || !ValidTime(req.mtime)) {
    return Error(EINVAL, "setattr: nanoseconds out of range");
  }
  const bool times = !req.atime.omitted() || !req.mtime.omitted();
  if (!req.mode && !req.uid && !req.gid && !req.size && !times) return GetAttr(ino);
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  const std::string what = "setattr of inode " + std::to_string(ino);

  std::shared_lock ns(ns_mu_);
  std::lock_guard inode_lock(InodeLock(ino));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));

  // The checks, in the order of do_truncate and setattr_prepare.
  bool by_handle = false;
  if (req.size) {
    if (rec.type() == FileType::kDirectory) return Error(EISDIR, what + ": a directory");
    if (rec.type() != FileType::kRegular) return Error(EINVAL, what + ": not a regular file");
    if (req.handle != kNoHandle) {
      ZEROFS_ASSIGN_OR_RETURN(Handle h, GetHandle(req.handle));
      if (h.ino != ino || !h.writable) return Error(EINVAL, what + ": handle not open for writing");
      by_handle = true;
    } else {
      ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, rec, kAccessWrite, what));
    }
    if (*req.size > kMaxFileSize) return Error(EFBIG, what + ": size too large");
  }
  if (req.uid && !MayChown(cred, rec, *req.uid)) return Error(EPERM, what + ": chown");
  if (req.gid && !MayChgrp(cred, rec, *req.gid)) return Error(EPERM, what + ": chgrp");
  if (req.mode && !IsOwnerOrRoot(cred, rec)) return Error(EPERM, what + ": chmod");
  if (times) {
    const bool touch =
        req.atime.kind == TimeUpdate::Kind::kNow && req.mtime.kind == TimeUpdate::Kind::kNow;
    if (!IsOwnerOrRoot(cred, rec)) {
      // Setting both to "now" needs only write access; anything else is the owner's.
      if (!touch) return Error(EPERM, what + ": set times");
      ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, rec, kAccessWrite, what));
    }
  }

  const Timespec now = Now();
  engine::Transaction txn;
  CounterDelta delta;
  if (req.size) {
    if (*req.size != rec.size || by_handle) rec.mtime = rec.ctime = now;
    TruncateTo(txn, rec, *req.size, delta);
    KillPrivsOnWrite(cred, rec);
  }
  if (req.uid || req.gid) {
    if (req.uid) rec.uid = *req.uid;
    if (req.gid) rec.gid = *req.gid;
    if (!req.mode) KillPrivsOnChown(rec);
    rec.ctime = now;
  }
  if (req.mode) {
    std::uint32_t mode = *req.mode & index::kModePermissionMask;
    // chmod by someone outside the file's group cannot keep setgid.
    if (!cred.is_root() && !cred.InGroup(rec.gid)) mode &= ~kModeSetGid;
    rec.mode = (rec.mode & index::kModeTypeMask) | mode;
    rec.ctime = now;
  }
  if (times) {
    if (!req.atime.omitted()) {
      rec.atime = req.atime.kind == TimeUpdate::Kind::kNow ? now : req.atime.value;
    }
    if (!req.mtime.omitted()) {
      rec.mtime = req.mtime.kind == TimeUpdate::Kind::kNow ? now : req.mtime.value;
    }
    rec.ctime = now;
  }
  PutInode(txn, rec);
  ZEROFS_RETURN_IF_ERROR(Commit(txn, delta, {ino}));
  return ToAttr(rec);
}

}  // namespace zerofs::vfs
