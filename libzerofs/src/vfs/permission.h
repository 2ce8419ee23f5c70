// Permission rules of the VFS: Linux's generic_permission and the ownership rules of
// notify_change, may_delete and inode_init_owner, as pure functions of the caller's
// credentials and inode records. They return the errno Linux returns (EACCES for a denied
// access, EPERM where an ownership rule or capability decides) or OK.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "zerofs/common/status.h"
#include "zerofs/index/records.h"
#include "zerofs/vfs/types.h"

namespace zerofs::vfs {

// `mask` of kAccessRead/Write/Execute against the mode bits (owner, group, other class).
// Root may read and write anything and search any directory; it may execute a file only
// if some execute bit is set.
Status CheckAccess(const Credentials& cred, const index::InodeRecord& rec, std::uint32_t mask,
                   std::string_view what);

bool IsOwnerOrRoot(const Credentials& cred, const index::InodeRecord& rec);

// The sticky-directory rule of may_delete: in a sticky `dir`, only the owner of `victim`,
// the owner of `dir` or root may remove or rename `victim`.
bool StickyAllows(const Credentials& cred, const index::InodeRecord& dir,
                  const index::InodeRecord& victim);

// may_delete(dir, victim, is_dir): write and search on `dir` (EACCES), the sticky rule
// (EPERM), and the type of `victim` (ENOTDIR when a directory was expected, EISDIR when
// not).
Status MayDelete(const Credentials& cred, const index::InodeRecord& dir,
                 const index::InodeRecord& victim, bool expect_dir, std::string_view what);

// file_remove_privs: a write or truncation by someone other than root clears setuid, and
// setgid when group-execute is set, on a regular file. Returns true if the mode changed.
bool KillPrivsOnWrite(const Credentials& cred, index::InodeRecord& rec);

// chown's rule: a change of owner or group of a non-directory clears setuid, and setgid
// when group-execute is set, whoever makes it.
void KillPrivsOnChown(index::InodeRecord& rec);

// The owner, group and mode of a new inode in `parent` (inode_init_owner + mode_strip_sgid):
// the group of a setgid directory is inherited and so is its setgid bit by directories;
// a non-directory created there keeps setgid only if the caller is in that group or root.
void InitOwner(const Credentials& cred, const index::InodeRecord& parent, index::InodeRecord& rec);

// chown_ok / chgrp_ok of setattr_prepare.
bool MayChown(const Credentials& cred, const index::InodeRecord& rec, std::uint32_t new_uid);
bool MayChgrp(const Credentials& cred, const index::InodeRecord& rec, std::uint32_t new_gid);

}  // namespace zerofs::vfs
