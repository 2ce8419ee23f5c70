// VfsHandler: the 9P2000.L Handler that serves a zerofs::vfs::Filesystem (a volume).
//
// Every 9P2000.L message the Linux v9fs client sends maps onto one Filesystem call, and
// every VFS error travels to the client as the same errno in Rlerror. A fid names an inode
// (plus the credentials it was attached with); Tlopen/Tlcreate give it an open VFS handle,
// released when the fid is clunked, so a file unlinked while open stays readable and
// writable through its fid.
//
// Who is calling: Tattach's n_uname is the uid (the kernel with access=user attaches once
// per local uid and sends n_uname = that uid; without it, n_uname NONUNAME with uname
// "root" or a name is resolved through the server's user database). 9P carries no groups,
// so the primary gid and the supplementary groups are looked up on the server
// (getpwuid_r, getgrouplist); a uid the server does not know gets gid = uid and no
// supplementary groups. Tlcreate/Tmkdir/Tmknod/Tsymlink carry the creating process's gid
// (its fsgid, or the directory's gid when the directory is setgid): that gid becomes the
// new file's group, as on a local filesystem.
//
// Extended attributes: Txattrwalk with a name reads that attribute's value through the
// new fid (empty name: the NUL-terminated list of names); Txattrcreate turns a fid into a
// buffer that Twrite fills and Tclunk commits (SetXattr with the flags; a zero-size
// create with XATTR_REPLACE is removexattr, as the kernel sends it).
//
// Locks: Tlock/Tgetlock are POSIX byte-range locks in the Filesystem's lock table
// (zerofs/vfs/locks.h), which every protocol over the same Filesystem shares. The owner is
// (the connection's lock session, proc_id, client_id), so locks conflict across fids,
// connections, clients and protocols. A conflicting Tlock answers "blocked" at once (the
// kernel retries blocking requests itself), so no worker thread ever waits on a lock. Locks
// an owner took through a fid are released when that fid is clunked (POSIX: closing the
// file drops the process's locks); when the last fid of a connection that took a lock is
// gone (at the latest, when the connection closes) its whole session is released.
//
// Bounds: the fids per connection (FidTable), the xattr buffers (max_xattr_bytes each and
// max_xattr_buffer_bytes in total), the locks (the VFS's LockTableOptions: in all, per
// inode, per connection), the open handles (the VFS's max_handles).
//
// Thread-safety: every method may be called from many threads at once (see handler.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "zerofs/ninep/handler.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::ninep {

struct VfsHandlerOptions {
  // Look up the primary group and supplementary groups of an attaching uid in the
  // server's user database; off: gid = uid, no supplementary groups.
  bool lookup_groups = true;
  // Largest xattr value Txattrcreate accepts (Linux's XATTR_SIZE_MAX).
  std::uint64_t max_xattr_bytes = 64 * 1024;
  // All pending Txattrcreate buffers together (ENOSPC beyond).
  std::uint64_t max_xattr_buffer_bytes = 64ULL << 20;
};

class VfsHandler final : public Handler {
 public:
  explicit VfsHandler(std::shared_ptr<vfs::Filesystem> fs, VfsHandlerOptions options = {});
  ~VfsHandler() override;

  Answer<Rattach> Attach(RequestContext& ctx, const Tattach& req) override;
  Answer<Rwalk> Walk(RequestContext& ctx, const Twalk& req) override;
  Answer<Rgetattr> Getattr(RequestContext& ctx, const Tgetattr& req) override;
  Answer<Rclunk> Clunk(RequestContext& ctx, const Tclunk& req) override;
  Answer<Rsetattr> Setattr(RequestContext& ctx, const Tsetattr& req) override;
  Answer<Rlopen> Lopen(RequestContext& ctx, const Tlopen& req) override;
  Answer<Rlcreate> Lcreate(RequestContext& ctx, const Tlcreate& req) override;
  Answer<Rread> Read(RequestContext& ctx, const Tread& req) override;
  Answer<Rwrite> Write(RequestContext& ctx, const Twrite& req) override;
  Answer<Rreaddir> Readdir(RequestContext& ctx, const Treaddir& req) override;
  Answer<Rmkdir> Mkdir(RequestContext& ctx, const Tmkdir& req) override;
  Answer<Rmknod> Mknod(RequestContext& ctx, const Tmknod& req) override;
  Answer<Rsymlink> Symlink(RequestContext& ctx, const Tsymlink& req) override;
  Answer<Rreadlink> Readlink(RequestContext& ctx, const Treadlink& req) override;
  Answer<Rlink> Link(RequestContext& ctx, const Tlink& req) override;
  Answer<Runlinkat> Unlinkat(RequestContext& ctx, const Tunlinkat& req) override;
  Answer<Rrenameat> Renameat(RequestContext& ctx, const Trenameat& req) override;
  Answer<Rrename> Rename(RequestContext& ctx, const Trename& req) override;
  Answer<Rremove> Remove(RequestContext& ctx, const Tremove& req) override;
  Answer<Rstatfs> Statfs(RequestContext& ctx, const Tstatfs& req) override;
  Answer<Rfsync> Fsync(RequestContext& ctx, const Tfsync& req) override;
  Answer<Rxattrwalk> Xattrwalk(RequestContext& ctx, const Txattrwalk& req) override;
  Answer<Rxattrcreate> Xattrcreate(RequestContext& ctx, const Txattrcreate& req) override;
  Answer<Rlock> Lock(RequestContext& ctx, const Tlock& req) override;
  Answer<Rgetlock> Getlock(RequestContext& ctx, const Tgetlock& req) override;

  // Locks held now in the Filesystem's lock table, over all files and connections (tests).
  std::size_t LockCount() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace zerofs::ninep
