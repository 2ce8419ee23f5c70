// Helpers shared by the source files of VfsNfsHandler: errno -> nfsstat3, NFS attribute
// requests -> vfs::SetAttrRequest, credentials. Internal to servers/nfs.
#pragma once

#include <cerrno>
#include <cstdint>

#include "zerofs/nfs/handler.h"
#include "zerofs/vfs/error.h"
#include "zerofs/vfs/types.h"

namespace zerofs::nfs::vfs_handler_internal {

inline Nfsstat3 StatOfErrno(int err) {
  switch (err) {
    case 0: return Nfsstat3::kOk;
    case EPERM: return Nfsstat3::kPerm;
    // NFSv3 has no "busy": renaming or removing "." / ".." or the root is not permitted
    // (Linux's knfsd answers NFS3ERR_PERM for the dot names too).
    case EBUSY: return Nfsstat3::kPerm;
    case ENOENT: return Nfsstat3::kNoent;
    case ENXIO: return Nfsstat3::kNxio;
    case EACCES: return Nfsstat3::kAcces;
    case EEXIST: return Nfsstat3::kExist;
    case EXDEV: return Nfsstat3::kXdev;
    case ENODEV: return Nfsstat3::kNodev;
    case ENOTDIR: return Nfsstat3::kNotdir;
    case EISDIR: return Nfsstat3::kIsdir;
    case EINVAL: return Nfsstat3::kInval;
    case EFBIG: return Nfsstat3::kFbig;
    case ENOSPC: return Nfsstat3::kNospc;
    case EROFS: return Nfsstat3::kRofs;
    case EMLINK: return Nfsstat3::kMlink;
    case ENAMETOOLONG: return Nfsstat3::kNametoolong;
    case ENOTEMPTY: return Nfsstat3::kNotempty;
    case EDQUOT: return Nfsstat3::kDquot;
    case ESTALE: return Nfsstat3::kStale;
    case EOPNOTSUPP: return Nfsstat3::kNotsupp;
    // A symlink where a directory or file was needed: what Linux's knfsd answers.
    case ELOOP: return Nfsstat3::kNotdir;
    // Too many open handles or a busy engine: the client should retry later.
    case ENFILE:
    case EAGAIN: return Nfsstat3::kJukebox;
    default: return Nfsstat3::kIo;
  }
}

inline Nfsstat3 StatOf(const Status& s) {
  return StatOfErrno(vfs::ErrnoOf(s));
}
template <typename T>
Nfsstat3 StatOf(const Result<T>& r) {
  return StatOf(r.status());
}

inline vfs::Credentials CredOf(const CallContext& ctx) {
  return vfs::Credentials::User(ctx.cred.uid, ctx.cred.gid, ctx.cred.gids);
}

inline vfs::TimeUpdate TimeOf(TimeHow how, const NfsTime3& t) {
  switch (how) {
    case TimeHow::kDontChange: return vfs::TimeUpdate::Omit();
    case TimeHow::kServerTime: return vfs::TimeUpdate::Now();
    case TimeHow::kClientTime:
      return vfs::TimeUpdate::At({static_cast<std::int64_t>(t.seconds), t.nseconds});
  }
  return vfs::TimeUpdate::Omit();
}

// `s` as a SetAttrRequest; `with_mode` false leaves the mode out (CREATE applied it).
inline vfs::SetAttrRequest RequestOf(const Sattr3& s, bool with_mode = true) {
  vfs::SetAttrRequest r;
  if (with_mode && s.mode) r.mode = *s.mode & 07777;
  r.uid = s.uid;
  r.gid = s.gid;
  r.size = s.size;
  r.atime = TimeOf(s.atime_how, s.atime);
  r.mtime = TimeOf(s.mtime_how, s.mtime);
  return r;
}

inline bool Empty(const vfs::SetAttrRequest& r) {
  return !r.mode && !r.uid && !r.gid && !r.size && r.atime.omitted() && r.mtime.omitted();
}

}  // namespace zerofs::nfs::vfs_handler_internal
