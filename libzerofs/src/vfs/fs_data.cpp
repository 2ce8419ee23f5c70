// FilesystemImpl: open handles and file data (read, write, truncate, fallocate, SEEK_DATA /
// SEEK_HOLE, fsync), and atime.
#include <cerrno>
#include <map>
#include <mutex>
#include <optional>

#include "filesystem_impl.h"
#include "permission.h"
#include "zerofs/common/log.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

using index::FileType;

constexpr std::uint64_t kExtentBytes = format::kMaxExtentBytes;
constexpr std::int64_t kDaySeconds = 24 * 60 * 60;

bool Before(const Timespec& a, const Timespec& b) {
  return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec);
}

}  // namespace

// ---- handles ----

Result<HandleId> FilesystemImpl::AddHandle(Handle handle) {
  std::lock_guard lock(handles_mu_);
  if (handles_.size() >= options_.max_handles) return Error(ENFILE, "too many open handles");
  const HandleId id = next_handle_++;
  ++open_counts_[handle.ino];
  handles_.emplace(id, std::move(handle));
  return id;
}

Result<FilesystemImpl::Handle> FilesystemImpl::GetHandle(HandleId handle) {
  std::lock_guard lock(handles_mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return Error(EBADF, "no open handle " + std::to_string(handle));
  return it->second;
}

Result<HandleId> FilesystemImpl::OpenLocked(const Credentials& cred, InodeRecord& rec,
                                            std::uint32_t flags, bool just_created,
                                            bool make_handle) {
  const std::uint32_t access = flags & kOpenAccessMode;
  if (access == kOpenAccessMode) return Error(EINVAL, "open: invalid access mode");
  Handle h;
  h.ino = rec.ino;
  h.cred = cred;
  h.readable = access == kOpenReadOnly || access == kOpenReadWrite;
  h.writable = access == kOpenWriteOnly || access == kOpenReadWrite;
  h.append = (flags & kOpenAppend) != 0;
  h.directory = rec.type() == FileType::kDirectory;
  const bool truncate = (flags & kOpenTruncate) != 0;
  const std::string what = "open inode " + std::to_string(rec.ino);
  if (rec.type() == FileType::kSymlink) return Error(ELOOP, what + ": a symlink");
  if ((flags & kOpenDirectory) != 0 && !h.directory) return Error(ENOTDIR, what);
  if (h.directory && (h.writable || truncate)) return Error(EISDIR, what + ": a directory");
  if (!just_created) {
    std::uint32_t mask = 0;
    if (h.readable) mask |= kAccessRead;
    if (h.writable || truncate) mask |= kAccessWrite;
    ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, rec, mask, what));
    if ((h.writable || truncate) && rec.type() == FileType::kRegular) {
      ZEROFS_RETURN_IF_ERROR(CheckWritable());
    }
    if (truncate && rec.type() == FileType::kRegular) {
      // O_TRUNC is ftruncate(0): times change even if the file was empty.
      engine::Transaction txn;
      CounterDelta delta;
      TruncateTo(txn, rec, 0, delta);
      rec.mtime = rec.ctime = Now();
      KillPrivsOnWrite(cred, rec);
      PutInode(txn, rec);
      ZEROFS_RETURN_IF_ERROR(Commit(txn, delta, {rec.ino}));
    }
  }
  if (!make_handle) return kNoHandle;
  return AddHandle(std::move(h));
}

Result<HandleId> FilesystemImpl::Open(const Credentials& cred, Ino ino, std::uint32_t flags) {
  std::shared_lock ns(ns_mu_);
  std::lock_guard inode_lock(InodeLock(ino));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  return OpenLocked(cred, rec, flags, false, true);
}

Status FilesystemImpl::Release(HandleId handle) {
  Ino ino = 0;
  bool reclaim = false;
  {
    std::lock_guard lock(handles_mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return Error(EBADF, "no open handle " + std::to_string(handle));
    ino = it->second.ino;
    handles_.erase(it);
    auto count = open_counts_.find(ino);
    if (count != open_counts_.end() && --count->second == 0) {
      open_counts_.erase(count);
      reclaim = orphans_.contains(ino);
    }
  }
  if (reclaim) return ReclaimOrphan(ino);
  return Status::Ok();
}

// ---- reads ----

Status FilesystemImpl::TouchAtime(Ino ino, const InodeRecord& seen) {
  if (options_.atime == AtimeMode::kNoatime || volume_->read_only()) return Status::Ok();
  const Timespec now = Now();
  auto needs_update = [&](const InodeRecord& r) {
    if (r.atime == now) return false;
    if (options_.atime == AtimeMode::kStrictatime) return true;
    return !Before(r.mtime, r.atime) || !Before(r.ctime, r.atime) ||
           now.sec - r.atime.sec >= kDaySeconds;
  };
  if (!needs_update(seen)) return Status::Ok();
  std::lock_guard inode_lock(InodeLock(ino));
  auto rec = LoadInode(ino);
  if (!rec.ok()) return ErrnoOf(rec.status()) == ESTALE ? Status::Ok() : rec.status();
  if (!needs_update(*rec)) return Status::Ok();
  rec->atime = now;
  engine::Transaction txn;
  PutInode(txn, *rec);
  return Commit(txn, {}, {ino});
}

Result<std::string> FilesystemImpl::ReadData(Ino ino, std::uint64_t offset, std::uint64_t length) {
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  if (rec.type() == FileType::kDirectory) return Error(EISDIR, "read of a directory");
  if (rec.type() != FileType::kRegular) return Error(EINVAL, "read of a special file");
  std::string data;
  if (offset < rec.size && length > 0) {
    const std::uint64_t n = std::min({length, rec.size - offset, kMaxIoBytes});
    ZEROFS_ASSIGN_OR_RETURN(data, volume_->Read(ino, offset, n));
  }
  if (length > 0) ZEROFS_RETURN_IF_ERROR(TouchAtime(ino, rec));
  return data;
}

Result<std::string> FilesystemImpl::Read(HandleId handle, std::uint64_t offset,
                                         std::uint64_t length) {
  ZEROFS_ASSIGN_OR_RETURN(Handle h, GetHandle(handle));
  if (h.directory) return Error(EISDIR, "read of a directory handle");
  if (!h.readable) return Error(EBADF, "handle " + std::to_string(handle) + " is write-only");
  std::shared_lock ns(ns_mu_);
  return ReadData(h.ino, offset, length);
}

Result<std::string> FilesystemImpl::ReadInode(const Credentials& cred, Ino ino,
                                              std::uint64_t offset, std::uint64_t length) {
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  if (rec.type() == FileType::kRegular) {
    ZEROFS_RETURN_IF_ERROR(
        CheckAccess(cred, rec, kAccessRead, "read inode " + std::to_string(ino)));
  }
  return ReadData(ino, offset, length);
}

// ---- writes ----

void FilesystemImpl::TruncateTo(engine::Transaction& txn, InodeRecord& rec, std::uint64_t size,
                                CounterDelta& delta) {
  if (size < rec.size) txn.Truncate(rec.ino, rec.size, size);
  delta.bytes += static_cast<std::int64_t>(size) - static_cast<std::int64_t>(rec.size);
  rec.size = size;
}

Result<std::uint64_t> FilesystemImpl::WriteData(const Credentials& cred, Ino ino,
                                                std::uint64_t offset, std::string_view data,
                                                bool append) {
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  std::shared_lock ns(ns_mu_);
  std::lock_guard inode_lock(InodeLock(ino));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  if (rec.type() == FileType::kDirectory) return Error(EISDIR, "write to a directory");
  if (rec.type() != FileType::kRegular) return Error(EINVAL, "write to a special file");
  if (append) offset = rec.size;
  if (data.empty()) return std::uint64_t{0};
  if (offset >= kMaxFileSize) return Error(EFBIG, "write past the largest file size");
  const std::uint64_t n =
      std::min({std::uint64_t{data.size()}, kMaxFileSize - offset, kMaxIoBytes});
  engine::Transaction txn;
  txn.Write(ino, offset, data.substr(0, n));
  CounterDelta delta;
  if (offset + n > rec.size) {
    delta.bytes = static_cast<std::int64_t>(offset + n - rec.size);
    rec.size = offset + n;
  }
  rec.mtime = rec.ctime = Now();
  KillPrivsOnWrite(cred, rec);
  PutInode(txn, rec);
  ZEROFS_RETURN_IF_ERROR(Commit(txn, delta, {ino}));
  return n;
}

Result<std::uint64_t> FilesystemImpl::Write(HandleId handle, std::uint64_t offset,
                                            std::string_view data) {
  ZEROFS_ASSIGN_OR_RETURN(Handle h, GetHandle(handle));
  if (!h.writable) return Error(EBADF, "handle " + std::to_string(handle) + " is read-only");
  return WriteData(h.cred, h.ino, offset, data, h.append);
}

Result<std::uint64_t> FilesystemImpl::WriteInode(const Credentials& cred, Ino ino,
                                                 std::uint64_t offset, std::string_view data) {
  {
    std::shared_lock ns(ns_mu_);
    ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
    if (rec.type() == FileType::kRegular) {
      ZEROFS_RETURN_IF_ERROR(
          CheckAccess(cred, rec, kAccessWrite, "write inode " + std::to_string(ino)));
    }
  }
  return WriteData(cred, ino, offset, data, false);
}

Status FilesystemImpl::Fallocate(HandleId handle, std::uint32_t mode, std::uint64_t offset,
                                 std::uint64_t length) {
  if (length == 0 || offset > static_cast<std::uint64_t>(INT64_MAX)) {
    return Error(EINVAL, "fallocate: empty or negative range");
  }
  if ((mode & ~(kFallocKeepSize | kFallocPunchHole | kFallocZeroRange)) != 0) {
    return Error(EOPNOTSUPP, "fallocate: unsupported mode");
  }
  const bool punch = (mode & kFallocPunchHole) != 0;
  const bool zero = (mode & kFallocZeroRange) != 0;
  const bool keep_size = (mode & kFallocKeepSize) != 0;
  if (punch && (!keep_size || zero)) {
    return Error(EOPNOTSUPP, "fallocate: punch hole needs keep-size and excludes zero range");
  }
  ZEROFS_ASSIGN_OR_RETURN(Handle h, GetHandle(handle));
  if (!h.writable) return Error(EBADF, "fallocate: handle not open for writing");
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  std::shared_lock ns(ns_mu_);
  std::lock_guard inode_lock(InodeLock(h.ino));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(h.ino));
  if (rec.type() == FileType::kDirectory) return Error(EISDIR, "fallocate on a directory");
  if (rec.type() != FileType::kRegular) return Error(ENODEV, "fallocate on a special file");
  if (length > kMaxFileSize || offset > kMaxFileSize - length) {
    return Error(EFBIG, "fallocate past the largest file size");
  }
  const std::uint64_t end = offset + length;
  engine::Transaction txn;
  CounterDelta delta;
  if ((punch || zero) && offset < rec.size) {
    // Storage is released for whole extents; bytes past the size are zeros already.
    txn.ZeroRange(h.ino, offset, std::min(end, rec.size) - offset);
  }
  if (!punch && !keep_size && end > rec.size) {
    delta.bytes = static_cast<std::int64_t>(end - rec.size);
    rec.size = end;
  }
  // ext4 calls file_modified(): privileges dropped, mtime and ctime now, in every mode.
  rec.mtime = rec.ctime = Now();
  KillPrivsOnWrite(h.cred, rec);
  PutInode(txn, rec);
  return Commit(txn, delta, {h.ino});
}

Result<std::uint64_t> FilesystemImpl::Seek(HandleId handle, std::uint64_t offset, int whence) {
  if (whence != kSeekData && whence != kSeekHole) return Error(EINVAL, "seek: unknown whence");
  ZEROFS_ASSIGN_OR_RETURN(Handle h, GetHandle(handle));
  std::shared_lock ns(ns_mu_);
  std::lock_guard inode_lock(InodeLock(h.ino));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(h.ino));
  if (rec.type() != FileType::kRegular) return Error(EINVAL, "seek: not a regular file");
  if (offset >= rec.size) return Error(ENXIO, "seek at or past the end of the file");
  // Which extents hold data: the changes not yet applied to the index (PendingExtents)
  // override the extent map. No change to this file can come in while its stripe is held.
  const std::uint64_t first = offset / kExtentBytes;
  const std::uint64_t last = (rec.size - 1) / kExtentBytes;
  const std::map<std::uint64_t, bool> pending = volume_->PendingExtents(h.ino, first, last);
  auto pending_says = [&](std::uint64_t idx) -> std::optional<bool> {
    auto it = pending.find(idx);
    if (it == pending.end()) return std::nullopt;
    return it->second;
  };
  const std::string start_after = first == 0 ? std::string() : index::ExtentKey(h.ino, first - 1);
  std::optional<std::uint64_t> found;  // DATA: first extent with data; HOLE: first without
  std::uint64_t expect = first;        // HOLE: every extent before it holds data
  // HOLE: extents from `expect` up to (not including) `until` are absent from the extent
  // map; they hold data only where pending changes wrote some.
  auto gap_until = [&](std::uint64_t until) {
    while (expect < until) {
      if (pending_says(expect) != true) {
        found = expect;
        return false;
      }
      ++expect;
    }
    return true;
  };
  Status parse;
  ZEROFS_RETURN_IF_ERROR(volume_->Scan(index::ExtentPrefix(h.ino), start_after,
                                       [&](std::string_view key, std::string_view) {
                                         auto parts = index::DecodeExtentKey(key);
                                         if (!parts.ok()) {
                                           parse = parts.status();
                                           return false;
                                         }
                                         const std::uint64_t idx = parts->extent_index;
                                         if (idx > last) return false;
                                         if (whence == kSeekData) {
                                           if (pending_says(idx) == false) return true;  // punched
                                           found = idx;
                                           return false;
                                         }
                                         if (!gap_until(idx)) return false;
                                         if (pending_says(idx) == false) {
                                           found = idx;
                                           return false;
                                         }
                                         ++expect;
                                         return true;
                                       }));
  ZEROFS_RETURN_IF_ERROR(parse);
  if (whence == kSeekData) {
    // Data written but not yet applied may come before what the extent map has.
    for (const auto& [idx, data] : pending) {
      if (!data) continue;
      if (!found.has_value() || idx < *found) found = idx;
      break;  // the map is ordered: the first one with data is the smallest
    }
    if (!found.has_value()) return Error(ENXIO, "seek: no data after the offset");
    return std::max(offset, *found * kExtentBytes);
  }
  if (!found.has_value()) gap_until(last + 1);
  const std::uint64_t hole = found.value_or(expect);
  return std::min(rec.size, std::max(offset, hole * kExtentBytes));
}

// ---- durability ----

Status FilesystemImpl::Flush(HandleId handle) {
  return GetHandle(handle).status();
}

Status FilesystemImpl::Fsync(HandleId handle, bool datasync) {
  (void)datasync;  // metadata and data commit together: fdatasync costs what fsync does
  ZEROFS_ASSIGN_OR_RETURN(Handle h, GetHandle(handle));
  return FsyncInode(h.ino);
}

Status FilesystemImpl::FsyncInode(Ino ino) {
  const engine::BatchNumber batch = last_batch_[ino % last_batch_.size()].load();
  if (batch == 0) return Status::Ok();  // nothing changed since the volume was opened
  Status s = volume_->Sync(batch);
  if (!s.ok()) return Error(EIO, "fsync of inode " + std::to_string(ino) + ": " + s.ToString());
  return Status::Ok();
}

}  // namespace zerofs::vfs
