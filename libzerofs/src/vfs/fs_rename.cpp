// FilesystemImpl::Rename: rename(2) and renameat2's RENAME_NOREPLACE and RENAME_EXCHANGE,
// with the checks of Linux's do_renameat2 and vfs_rename in their order, applied in one
// transaction.
#include <cerrno>
#include <mutex>

#include "filesystem_impl.h"
#include "permission.h"
#include "zerofs/index/keys.h"
#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

using index::FileType;

// Directory trees are never deeper than this; a longer walk means a corrupt parent chain.
constexpr int kMaxDepth = 1 << 20;

}  // namespace

Status FilesystemImpl::Rename(const Credentials& cred, Ino parent, std::string_view name,
                              Ino new_parent, std::string_view new_name, std::uint32_t flags) {
  if ((flags & ~(kRenameNoReplace | kRenameExchange | kRenameWhiteout)) != 0) {
    return Error(EINVAL, "rename: unknown flags");
  }
  if ((flags & kRenameNoReplace) != 0 && (flags & kRenameExchange) != 0) {
    return Error(EINVAL, "rename: RENAME_NOREPLACE with RENAME_EXCHANGE");
  }
  if ((flags & kRenameWhiteout) != 0) return Error(EINVAL, "rename: RENAME_WHITEOUT");
  const bool exchange = (flags & kRenameExchange) != 0;
  const bool noreplace = (flags & kRenameNoReplace) != 0;

  std::unique_lock ns(ns_mu_);
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  const std::string what =
      "rename " + DescribeName(name, parent) + " to " + DescribeName(new_name, new_parent);
  const bool same_dir = parent == new_parent;
  InodeRecord odir_rec;
  InodeRecord ndir_rec;
  ZEROFS_ASSIGN_OR_RETURN(odir_rec, LoadDir(parent));
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, odir_rec, kAccessExecute, what));
  if (!same_dir) {
    ZEROFS_ASSIGN_OR_RETURN(ndir_rec, LoadDir(new_parent));
    ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, ndir_rec, kAccessExecute, what));
  }
  InodeRecord& odir = odir_rec;
  InodeRecord& ndir = same_dir ? odir_rec : ndir_rec;
  ZEROFS_RETURN_IF_ERROR(CheckName(name));
  ZEROFS_RETURN_IF_ERROR(CheckName(new_name));
  if (IsDotOrDotDot(name)) return Error(EBUSY, what);
  if (IsDotOrDotDot(new_name)) return Error(noreplace ? EEXIST : EBUSY, what);

  ZEROFS_ASSIGN_OR_RETURN(std::optional<DirentRecord> src, FindEntry(parent, name));
  if (!src.has_value()) return Error(ENOENT, what + ": no such entry");
  ZEROFS_ASSIGN_OR_RETURN(std::optional<DirentRecord> dst, FindEntry(new_parent, new_name));
  if (noreplace && dst.has_value()) return Error(EEXIST, what + ": target exists");
  if (exchange && !dst.has_value()) return Error(ENOENT, what + ": no target to exchange");

  ZEROFS_ASSIGN_OR_RETURN(InodeRecord srec, LoadInode(src->ino));
  InodeRecord drec;
  if (dst.has_value() && dst->ino != src->ino) {
    ZEROFS_ASSIGN_OR_RETURN(drec, LoadInode(dst->ino));
  }
  const bool is_dir = srec.type() == FileType::kDirectory;
  const bool new_is_dir = dst.has_value() && drec.type() == FileType::kDirectory;

  // A directory cannot move below itself; a target cannot be an ancestor of the source.
  auto is_ancestor_or_self = [&](Ino a, Ino d) -> Result<bool> {
    Ino cur = d;
    for (int depth = 0; depth < kMaxDepth; ++depth) {
      if (cur == a) return true;
      if (cur == kRootIno) return false;
      ZEROFS_ASSIGN_OR_RETURN(InodeRecord up, LoadInode(cur));
      cur = up.parent;
    }
    return Status::Corruption("directory parent chain of inode " + std::to_string(d) + " loops");
  };
  if (!same_dir) {
    if (is_dir) {
      ZEROFS_ASSIGN_OR_RETURN(bool below, is_ancestor_or_self(srec.ino, new_parent));
      if (below) return Error(EINVAL, what + ": a directory into itself");
    }
    if (new_is_dir) {
      ZEROFS_ASSIGN_OR_RETURN(bool above, is_ancestor_or_self(drec.ino, parent));
      if (above) return Error(exchange ? EINVAL : ENOTEMPTY, what + ": target holds the source");
    }
  }
  // Two names of one inode: nothing to do (POSIX).
  if (dst.has_value() && dst->ino == src->ino) return Status::Ok();

  ZEROFS_RETURN_IF_ERROR(MayDelete(cred, odir, srec, is_dir, what));
  if (!dst.has_value()) {
    ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, ndir, kAccessWrite | kAccessExecute, what));
  } else {
    ZEROFS_RETURN_IF_ERROR(MayDelete(cred, ndir, drec, exchange ? new_is_dir : is_dir, what));
  }
  if (!same_dir) {
    // A directory that changes parent has its ".." rewritten.
    if (is_dir) ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, srec, kAccessWrite, what));
    if (exchange && new_is_dir) ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, drec, kAccessWrite, what));
  }
  if (!exchange && new_is_dir) {
    ZEROFS_ASSIGN_OR_RETURN(bool empty, DirIsEmpty(drec.ino));
    if (!empty) return Error(ENOTEMPTY, what + ": target directory not empty");
  }

  const Timespec now = Now();
  engine::Transaction txn;
  CounterDelta delta;
  if (exchange) {
    // Each name keeps its cookie and now names the other inode.
    txn.Put(index::DirentKey(parent, name),
            index::EncodeDirentRecord({drec.ino, drec.type(), src->cookie}));
    txn.Put(index::DirCookieKey(parent, src->cookie),
            index::EncodeDirCookieRecord({std::string(name), drec.ino, drec.type()}));
    txn.Put(index::DirentKey(new_parent, new_name),
            index::EncodeDirentRecord({srec.ino, srec.type(), dst->cookie}));
    txn.Put(index::DirCookieKey(new_parent, dst->cookie),
            index::EncodeDirCookieRecord({std::string(new_name), srec.ino, srec.type()}));
    if (!same_dir) {
      if (is_dir) srec.parent = new_parent;
      if (new_is_dir) drec.parent = parent;
      if (is_dir && !new_is_dir) {
        --odir.nlink;
        ++ndir.nlink;
      } else if (!is_dir && new_is_dir) {
        ++odir.nlink;
        --ndir.nlink;
      }
    }
    drec.ctime = now;
    PutInode(txn, drec);
  } else {
    if (dst.has_value()) {
      RemoveEntry(txn, new_parent, new_name, *dst);
      if (new_is_dir) {
        ZEROFS_RETURN_IF_ERROR(RetireDirectory(txn, drec, now));
        delta.inodes -= 1;
        --ndir.nlink;
      } else {
        ZEROFS_RETURN_IF_ERROR(DropLink(txn, drec, delta, now));
      }
    }
    RemoveEntry(txn, parent, name, *src);
    AddEntry(txn, ndir, new_name, srec.ino, srec.type());
    if (is_dir && !same_dir) {
      srec.parent = new_parent;
      --odir.nlink;
      ++ndir.nlink;
    }
  }
  srec.ctime = now;
  PutInode(txn, srec);
  odir.mtime = odir.ctime = now;
  PutInode(txn, odir);
  if (!same_dir) {
    ndir.mtime = ndir.ctime = now;
    PutInode(txn, ndir);
  }
  const Ino target = dst.has_value() ? drec.ino : srec.ino;
  return Commit(txn, delta, {srec.ino, target, parent, new_parent});
}

}  // namespace zerofs::vfs
