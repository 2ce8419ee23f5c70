// FilesystemImpl: unlink, rmdir, and the life of files unlinked while open (orphans).
#include <cerrno>
#include <mutex>

#include "filesystem_impl.h"
#include "permission.h"
#include "zerofs/common/log.h"
#include "zerofs/index/keys.h"
#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

using index::FileType;

std::int64_t DataBytes(const InodeRecord& rec) {
  return rec.type() == FileType::kRegular ? static_cast<std::int64_t>(rec.size) : 0;
}

// What reclaiming an orphan takes off the inode count: a directory removed while open left
// the count at rmdir (statfs shows it gone, as Linux does); a file is counted until its
// last release.
std::int64_t OrphanInodes(const InodeRecord& rec) {
  return rec.type() == FileType::kDirectory ? 0 : -1;
}

}  // namespace

Status FilesystemImpl::DropLink(engine::Transaction& txn, InodeRecord& rec, CounterDelta& delta,
                                Timespec now) {
  if (rec.nlink > 0) --rec.nlink;
  rec.ctime = now;
  if (rec.nlink > 0) {
    PutInode(txn, rec);
    return Status::Ok();
  }
  bool open = false;
  {
    std::lock_guard lock(handles_mu_);
    auto it = open_counts_.find(rec.ino);
    open = it != open_counts_.end() && it->second > 0;
    if (open) orphans_.insert(rec.ino);
  }
  if (open) {
    // Stays readable through its handles; the last Release (or the next Open of the
    // filesystem, after a crash) deletes it.
    PutInode(txn, rec);
    txn.Put(OrphanKey(rec.ino), {});
    return Status::Ok();
  }
  ZEROFS_RETURN_IF_ERROR(DeleteInode(txn, rec));
  delta.inodes -= 1;
  delta.bytes -= DataBytes(rec);
  return Status::Ok();
}

Status FilesystemImpl::Unlink(const Credentials& cred, Ino parent, std::string_view name) {
  std::unique_lock ns(ns_mu_);
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, LoadDir(parent));
  const std::string what = "unlink " + DescribeName(name, parent);
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessExecute, what));
  ZEROFS_RETURN_IF_ERROR(CheckName(name));
  if (IsDotOrDotDot(name)) return Error(EISDIR, what);
  ZEROFS_ASSIGN_OR_RETURN(std::optional<DirentRecord> entry, FindEntry(parent, name));
  if (!entry.has_value()) return Error(ENOENT, what + ": no such entry");
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(entry->ino));
  ZEROFS_RETURN_IF_ERROR(MayDelete(cred, dir, rec, false, what));

  const Timespec now = Now();
  dir.mtime = dir.ctime = now;
  engine::Transaction txn;
  RemoveEntry(txn, parent, name, *entry);
  PutInode(txn, dir);
  CounterDelta delta;
  ZEROFS_RETURN_IF_ERROR(DropLink(txn, rec, delta, now));
  return Commit(txn, delta, {dir.ino, rec.ino});
}

Status FilesystemImpl::Rmdir(const Credentials& cred, Ino parent, std::string_view name) {
  std::unique_lock ns(ns_mu_);
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord dir, LoadDir(parent));
  const std::string what = "rmdir " + DescribeName(name, parent);
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessExecute, what));
  ZEROFS_RETURN_IF_ERROR(CheckName(name));
  if (name == ".") return Error(EINVAL, what);
  if (name == "..") return Error(ENOTEMPTY, what);
  ZEROFS_ASSIGN_OR_RETURN(std::optional<DirentRecord> entry, FindEntry(parent, name));
  if (!entry.has_value()) return Error(ENOENT, what + ": no such entry");
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(entry->ino));
  ZEROFS_RETURN_IF_ERROR(MayDelete(cred, dir, rec, true, what));
  ZEROFS_ASSIGN_OR_RETURN(bool empty, DirIsEmpty(rec.ino));
  if (!empty) return Error(ENOTEMPTY, what + ": not empty");

  const Timespec now = Now();
  dir.mtime = dir.ctime = now;
  if (dir.nlink > 2) --dir.nlink;
  engine::Transaction txn;
  RemoveEntry(txn, parent, name, *entry);
  PutInode(txn, dir);
  ZEROFS_RETURN_IF_ERROR(RetireDirectory(txn, rec, now));
  return Commit(txn, {0, -1}, {dir.ino, rec.ino});
}

Status FilesystemImpl::RetireDirectory(engine::Transaction& txn, InodeRecord& rec, Timespec now) {
  bool open = false;
  {
    std::lock_guard lock(handles_mu_);
    auto it = open_counts_.find(rec.ino);
    open = it != open_counts_.end() && it->second > 0;
    if (open) orphans_.insert(rec.ino);
  }
  if (!open) return DeleteInode(txn, rec);
  // Its handles still stat it (nlink 0) and list nothing; the last Release deletes it.
  rec.nlink = 0;
  rec.ctime = now;
  PutInode(txn, rec);
  txn.Put(OrphanKey(rec.ino), {});
  return Status::Ok();
}

Status FilesystemImpl::ReclaimOrphan(Ino ino) {
  std::unique_lock ns(ns_mu_);
  {
    std::lock_guard lock(handles_mu_);
    auto it = open_counts_.find(ino);
    if (it != open_counts_.end() && it->second > 0) return Status::Ok();  // opened again
    orphans_.erase(ino);
  }
  if (volume_->read_only()) return Status::Ok();
  auto rec = LoadInode(ino);
  if (!rec.ok()) return ErrnoOf(rec.status()) == ESTALE ? Status::Ok() : rec.status();
  if (rec->nlink != 0) return Status::Ok();
  engine::Transaction txn;
  ZEROFS_RETURN_IF_ERROR(DeleteInode(txn, *rec));
  txn.Delete(OrphanKey(ino));
  return Commit(txn, {-DataBytes(*rec), OrphanInodes(*rec)}, {ino});
}

Status FilesystemImpl::ReclaimOrphansAtOpen() {
  std::vector<Ino> inos;
  ZEROFS_RETURN_IF_ERROR(
      volume_->Scan(OrphanPrefix(), {}, [&](std::string_view key, std::string_view) {
        auto ino = DecodeOrphanKey(key);
        if (ino.ok()) inos.push_back(*ino);
        return true;
      }));
  for (Ino ino : inos) {
    ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value, volume_->Get(index::InodeKey(ino)));
    engine::Transaction txn;
    txn.Delete(OrphanKey(ino));
    CounterDelta delta;
    if (value.has_value()) {
      ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, index::DecodeInodeRecord(*value));
      if (rec.nlink == 0) {
        ZEROFS_RETURN_IF_ERROR(DeleteInode(txn, rec));
        delta = {-DataBytes(rec), OrphanInodes(rec)};
      }
    }
    ZEROFS_RETURN_IF_ERROR(Commit(txn, delta, {ino}));
  }
  if (!inos.empty()) {
    ZEROFS_LOG(kInfo) << "reclaimed " << inos.size() << " file(s) unlinked while open";
  }
  return Status::Ok();
}

}  // namespace zerofs::vfs
