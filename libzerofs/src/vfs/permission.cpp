#include "permission.h"

#include <cerrno>
#include <string>

#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

using index::FileType;

constexpr std::uint32_t kGroupExec = 0010;
constexpr std::uint32_t kAnyExec = 0111;

bool IsDir(const index::InodeRecord& rec) {
  return rec.type() == FileType::kDirectory;
}

}  // namespace

bool Credentials::InGroup(std::uint32_t g) const {
  if (gid == g) return true;
  for (std::uint32_t s : groups) {
    if (s == g) return true;
  }
  return false;
}

Status CheckAccess(const Credentials& cred, const index::InodeRecord& rec, std::uint32_t mask,
                   std::string_view what) {
  mask &= kAccessRead | kAccessWrite | kAccessExecute;
  if (mask == 0) return Status::Ok();
  if (cred.is_root()) {
    // CAP_DAC_OVERRIDE: everything but executing a file nobody may execute.
    if ((mask & kAccessExecute) == 0 || IsDir(rec) || (rec.mode & kAnyExec) != 0) {
      return Status::Ok();
    }
    return Error(EACCES, std::string(what) + ": no execute permission");
  }
  std::uint32_t bits;
  if (cred.uid == rec.uid) {
    bits = (rec.mode >> 6) & 7;
  } else if (cred.InGroup(rec.gid)) {
    bits = (rec.mode >> 3) & 7;
  } else {
    bits = rec.mode & 7;
  }
  if ((bits & mask) == mask) return Status::Ok();
  return Error(EACCES, std::string(what) + ": permission denied");
}

bool IsOwnerOrRoot(const Credentials& cred, const index::InodeRecord& rec) {
  return cred.is_root() || cred.uid == rec.uid;
}

bool StickyAllows(const Credentials& cred, const index::InodeRecord& dir,
                  const index::InodeRecord& victim) {
  if ((dir.mode & kModeSticky) == 0) return true;
  return cred.uid == victim.uid || cred.uid == dir.uid || cred.is_root();
}

Status MayDelete(const Credentials& cred, const index::InodeRecord& dir,
                 const index::InodeRecord& victim, bool expect_dir, std::string_view what) {
  ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, dir, kAccessWrite | kAccessExecute, what));
  if (!StickyAllows(cred, dir, victim)) {
    return Error(EPERM, std::string(what) + ": sticky directory");
  }
  if (expect_dir && !IsDir(victim)) return Error(ENOTDIR, std::string(what) + ": not a directory");
  if (!expect_dir && IsDir(victim)) return Error(EISDIR, std::string(what) + ": is a directory");
  return Status::Ok();
}

bool KillPrivsOnWrite(const Credentials& cred, index::InodeRecord& rec) {
  if (cred.is_root() || rec.type() != FileType::kRegular) return false;
  const std::uint32_t before = rec.mode;
  rec.mode &= ~kModeSetUid;
  if ((rec.mode & kGroupExec) != 0) rec.mode &= ~kModeSetGid;
  return rec.mode != before;
}

void KillPrivsOnChown(index::InodeRecord& rec) {
  if (IsDir(rec)) return;
  rec.mode &= ~kModeSetUid;
  if ((rec.mode & kGroupExec) != 0) rec.mode &= ~kModeSetGid;
}

void InitOwner(const Credentials& cred, const index::InodeRecord& parent, index::InodeRecord& rec) {
  rec.uid = cred.uid;
  const bool setgid_parent = (parent.mode & kModeSetGid) != 0;
  if (setgid_parent) {
    rec.gid = parent.gid;
    if (IsDir(rec)) rec.mode |= kModeSetGid;
  } else {
    rec.gid = cred.gid;
  }
  // mode_strip_sgid: a setgid, group-executable file in a setgid directory of a group the
  // caller is not in would give the caller that group's rights.
  if (!IsDir(rec) && setgid_parent &&
      (rec.mode & (kModeSetGid | kGroupExec)) == (kModeSetGid | kGroupExec) &&
      !cred.InGroup(parent.gid) && !cred.is_root()) {
    rec.mode &= ~kModeSetGid;
  }
}

bool MayChown(const Credentials& cred, const index::InodeRecord& rec, std::uint32_t new_uid) {
  if (cred.uid == rec.uid && new_uid == rec.uid) return true;
  return cred.is_root();
}

bool MayChgrp(const Credentials& cred, const index::InodeRecord& rec, std::uint32_t new_gid) {
  if (cred.uid == rec.uid && (new_gid == rec.gid || cred.InGroup(new_gid))) return true;
  return cred.is_root();
}

}  // namespace zerofs::vfs
