// Handler: what the 9P server dispatches decoded requests to, one virtual per operation.
//
// The server owns the wire (framing, tags, Tversion, Tflush, msize); a Handler owns the
// meaning of fids. Each call gets the decoded request and the connection's RequestContext
// (its FidTable and negotiated msize) and returns the R-message or an errno, which the
// server sends as Rlerror. The VFS-backed handler (vfs_handler.h) is the implementation;
// the tests run it over a MemoryStore volume.
//
// Thread-safety: one Handler serves every connection of a server, and the requests of one
// connection run concurrently on a worker pool, so every method may be called from many
// threads at once. Handlers may block (a VFS call waiting on the bucket); a slow call
// delays only its own reply.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "zerofs/ninep/fid_table.h"
#include "zerofs/ninep/messages.h"

namespace zerofs::ninep {

// A Linux errno to send back as Rlerror.
struct Errno {
  std::uint32_t value = 0;
};

// Either a reply of type R or an errno.
template <typename R>
class [[nodiscard]] Answer {
 public:
  // Implicit both ways so a handler can `return reply;` or `return Errno{ENOENT};`. An
  // errno of 0 would read as success on the wire, so it becomes EIO.
  Answer(R reply) : reply_(std::move(reply)) {}  // NOLINT(google-explicit-constructor)
  Answer(Errno error)                            // NOLINT(google-explicit-constructor)
      : error_(error.value != 0 ? error.value : 5) {}
  bool ok() const { return reply_.has_value(); }
  std::uint32_t error() const { return error_; }
  R& operator*() { return *reply_; }
  const R& operator*() const { return *reply_; }
  R* operator->() { return &*reply_; }

 private:
  std::optional<R> reply_;
  std::uint32_t error_ = 0;
};

struct RequestContext {
  FidTable& fids;
  std::uint32_t msize = 0;
  // What Rlopen/Rlcreate should advertise: the most data one Tread/Twrite can carry.
  std::uint32_t iounit() const { return msize - static_cast<std::uint32_t>(kIoHeaderBytes); }
};

class Handler {
 public:
  virtual ~Handler() = default;

  // Tattach binds req.fid to the root of the tree named by aname.
  virtual Answer<Rattach> Attach(RequestContext& ctx, const Tattach& req) = 0;
  // Twalk: newfid is bound only when every name was walked (or there were none); a walk
  // that fails at the first name is an error, a later failure returns the qids so far.
  virtual Answer<Rwalk> Walk(RequestContext& ctx, const Twalk& req) = 0;
  virtual Answer<Rgetattr> Getattr(RequestContext& ctx, const Tgetattr& req) = 0;
  // Tclunk: the default removes the fid; override to release state (an xattr write
  // that completes on clunk), and still remove it.
  virtual Answer<Rclunk> Clunk(RequestContext& ctx, const Tclunk& req);

  // Tauth: the default answers ENOENT, "authentication not required" (diod's convention).
  virtual Answer<Rauth> Auth(RequestContext& ctx, const Tauth& req);
  // Optional operations answer EOPNOTSUPP unless overridden.
  virtual Answer<Rsetattr> Setattr(RequestContext& ctx, const Tsetattr& req);
  virtual Answer<Rlopen> Lopen(RequestContext& ctx, const Tlopen& req);
  virtual Answer<Rlcreate> Lcreate(RequestContext& ctx, const Tlcreate& req);
  // `req.count` is already clamped to the iounit.
  virtual Answer<Rread> Read(RequestContext& ctx, const Tread& req);
  virtual Answer<Rwrite> Write(RequestContext& ctx, const Twrite& req);
  // `req.count` is already clamped; the reply's data must not exceed it (AppendDirent).
  virtual Answer<Rreaddir> Readdir(RequestContext& ctx, const Treaddir& req);
  virtual Answer<Rmkdir> Mkdir(RequestContext& ctx, const Tmkdir& req);
  virtual Answer<Rmknod> Mknod(RequestContext& ctx, const Tmknod& req);
  virtual Answer<Rsymlink> Symlink(RequestContext& ctx, const Tsymlink& req);
  virtual Answer<Rreadlink> Readlink(RequestContext& ctx, const Treadlink& req);
  virtual Answer<Rlink> Link(RequestContext& ctx, const Tlink& req);
  virtual Answer<Runlinkat> Unlinkat(RequestContext& ctx, const Tunlinkat& req);
  virtual Answer<Rrenameat> Renameat(RequestContext& ctx, const Trenameat& req);
  virtual Answer<Rrename> Rename(RequestContext& ctx, const Trename& req);
  // Tremove removes the file and clunks the fid, even when the removal fails.
  virtual Answer<Rremove> Remove(RequestContext& ctx, const Tremove& req);
  virtual Answer<Rstatfs> Statfs(RequestContext& ctx, const Tstatfs& req);
  virtual Answer<Rfsync> Fsync(RequestContext& ctx, const Tfsync& req);
  virtual Answer<Rxattrwalk> Xattrwalk(RequestContext& ctx, const Txattrwalk& req);
  virtual Answer<Rxattrcreate> Xattrcreate(RequestContext& ctx, const Txattrcreate& req);
  virtual Answer<Rlock> Lock(RequestContext& ctx, const Tlock& req);
  virtual Answer<Rgetlock> Getlock(RequestContext& ctx, const Tgetlock& req);
};

// Runs one decoded request against `handler` and returns the reply to send: the handler's
// R-message, or Rlerror. Tversion and Tflush belong to the connection and are answered
// EPROTO here. Clamps Tread/Treaddir counts to the iounit, turns a reply that would not
// fit in msize into Rlerror(EIO), and an exception escaping the handler into Rlerror(EIO).
Reply Dispatch(Handler& handler, RequestContext& ctx, const Request& request);

// Tversion: answers msize = min(client, server_max_msize) and "9P2000.L" when the client
// speaks it, version "unknown" otherwise (9P2000, 9P2000.u, garbage). A client msize below
// kMinMsize is Rlerror(EINVAL): no useful session fits in it. `server_max_msize` is
// clamped to [kMinMsize, kMaxMsizeCap].
Reply NegotiateVersion(const Tversion& request, std::uint32_t server_max_msize);

}  // namespace zerofs::ninep
