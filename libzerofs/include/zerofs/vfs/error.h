// VFS errors: POSIX errno values carried in a Status.
//
// Every failure of a Filesystem operation is a Status made by vfs::Error(errno, what): it
// records the errno in the Status (Status::posix_errno(), kept by WithContext and copies),
// its message names the errno for people ("[ENOTEMPTY] rmdir 'a' in directory 7: not
// empty"; nothing parses it), and its code is the nearest StatusCode (ENOENT ->
// kNotFound, EACCES/EPERM -> kPermissionDenied, ...), so that code which only knows
// Status still understands it. Protocol servers call ErrnoOf(status) and map the errno
// 1:1 onto their wire codes (NFS3ERR_*, 9P Rlerror, FUSE). A Status that carries no errno
// (an engine failure passed through, e.g. a fenced writer's kCancelled or a missing bucket
// object's kNotFound) maps by its code, to EIO unless a closer errno exists (kNoSpace ->
// ENOSPC); the Filesystem itself reports a read-only volume as EROFS.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "zerofs/common/status.h"

namespace zerofs::vfs {

// A failed Status carrying `errnum` (a positive errno value of Linux).
Status Error(int errnum, std::string_view what);

// The errno a Status stands for: 0 for OK, its posix_errno() when set, else the nearest
// errno of its code (kNoSpace -> ENOSPC, kNotSupported -> EOPNOTSUPP, everything else ->
// EIO: a store or engine failure under a file is an I/O error to the application, even
// when the store said "not found" or "permission denied").
int ErrnoOf(const Status& status);

// "ENOENT", "EACCES", ...; "E?" for a value this build does not name.
std::string_view ErrnoName(int errnum);

}  // namespace zerofs::vfs
