// VFS errors: POSIX errno values carried in a Status.
//
// Every failure of a Filesystem operation is a Status made by vfs::Error(errno, what): its
// message starts with the errno's symbolic name in brackets ("[ENOTEMPTY] rmdir 'a' in
// directory 7: not empty") and its code is the nearest StatusCode (ENOENT -> kNotFound,
// EACCES/EPERM -> kPermissionDenied, ...), so that code which only knows Status still
// understands it. Protocol servers call ErrnoOf(status) and map the errno 1:1 onto their
// wire codes (NFS3ERR_*, 9P Rlerror, FUSE). A Status that did not come from vfs::Error (an
// engine failure passed through, e.g. a fenced writer's kCancelled) maps by its code, to EIO
// unless a closer errno exists (kNoSpace -> ENOSPC); the Filesystem itself reports a
// read-only volume as EROFS.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "zerofs/common/status.h"

namespace zerofs::vfs {

// A failed Status carrying `errnum` (a positive errno value of Linux).
Status Error(int errnum, std::string_view what);

// The errno a Status stands for: 0 for OK, the bracketed errno of a vfs::Error, else the
// nearest errno of its code (kNoSpace -> ENOSPC, kNotSupported -> EOPNOTSUPP, everything
// else -> EIO).
int ErrnoOf(const Status& status);

// "ENOENT", "EACCES", ...; "E?" for a value this build does not name.
std::string_view ErrnoName(int errnum);

}  // namespace zerofs::vfs
