// The libfuse low-level operation table of zerofs-mount: each callback unpacks the kernel's
// request, calls Filesystem and replies. Kept apart from Filesystem so that the latter can
// be tested without a kernel.
//
// Thread-safety: the callbacks run on libfuse's worker threads, concurrently.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <cstdint>

#include "filesystem.h"

namespace zerofs::mount {

struct FuseContext {
  Filesystem* fs = nullptr;
  double attr_timeout = 1.0;
  double entry_timeout = 1.0;
  bool writeback = false;
  std::uint32_t max_write = 1U << 20;
};

// The operations; fuse_session_new gets a FuseContext* as userdata. With `server_locks`,
// POSIX locks (fcntl) go to the server as Tlock/Tgetlock, so that they hold across
// clients; without, the kernel keeps them local to this mount.
fuse_lowlevel_ops FuseOperations(bool server_locks);

}  // namespace zerofs::mount
