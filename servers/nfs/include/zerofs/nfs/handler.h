// NfsHandler: what the NFS server asks of a filesystem, one virtual per NFSv3 and MOUNT v3
// procedure (RFC 1813). The server decodes a call, passes the caller's credentials and the
// decoded arguments, and encodes the returned result; a handler never sees XDR.
//
// The implementation is VfsNfsHandler (vfs_handler.h, a volume's Filesystem: what
// zerofs-nfs serves; the tests run it over a MemoryStore volume). Calls arrive concurrently
// from the server's worker threads, so an implementation must be thread-safe. A handler reports failures in the result's status (an nfsstat3 /
// mountstat3); an exception escaping a call becomes an RPC SYSTEM_ERR reply.
//
// Durability contract (DESIGN.md section 3): a WRITE may answer UNSTABLE only with a
// verifier that changes whenever buffered writes could have been lost (a restart); COMMIT
// returns only once every write it covers is durable, with the same verifier.
#pragma once

#include <string>
#include <vector>

#include "zerofs/nfs/nfs3_types.h"
#include "zerofs/nfs/rpc.h"

namespace zerofs::nfs {

// The uid and gid an AUTH_NONE caller gets (Linux's nobody / nogroup).
inline constexpr std::uint32_t kNobodyId = 65534;

// Who is calling: the client's claimed AUTH_SYS uid/gid/gids, or for AUTH_NONE
// (`anonymous`) uid and gid kNobodyId with no supplementary groups.
struct CallContext {
  AuthSys cred;
  bool anonymous = false;
  std::string peer;  // "ADDR:PORT", for logs
};

class NfsHandler {
 public:
  virtual ~NfsHandler() = default;

  // MOUNT v3.
  virtual MntRes Mnt(const CallContext& ctx, const std::string& path) = 0;
  virtual std::vector<MountEntry> Dump(const CallContext& ctx) = 0;
  virtual void Umnt(const CallContext& ctx, const std::string& path) = 0;
  virtual void Umntall(const CallContext& ctx) = 0;
  virtual std::vector<ExportEntry> Export(const CallContext& ctx) = 0;

  // NFSv3, in procedure-number order (NULL is answered by the server itself).
  virtual GetattrRes Getattr(const CallContext& ctx, const FhArgs& args) = 0;
  virtual WccRes Setattr(const CallContext& ctx, const SetattrArgs& args) = 0;
  virtual LookupRes Lookup(const CallContext& ctx, const LookupArgs& args) = 0;
  virtual AccessRes Access(const CallContext& ctx, const AccessArgs& args) = 0;
  virtual ReadlinkRes Readlink(const CallContext& ctx, const FhArgs& args) = 0;
  virtual ReadRes Read(const CallContext& ctx, const ReadArgs& args) = 0;
  virtual WriteRes Write(const CallContext& ctx, const WriteArgs& args) = 0;
  virtual DiropRes Create(const CallContext& ctx, const CreateArgs& args) = 0;
  virtual DiropRes Mkdir(const CallContext& ctx, const MkdirArgs& args) = 0;
  virtual DiropRes Symlink(const CallContext& ctx, const SymlinkArgs& args) = 0;
  virtual DiropRes Mknod(const CallContext& ctx, const MknodArgs& args) = 0;
  virtual WccRes Remove(const CallContext& ctx, const RemoveArgs& args) = 0;
  virtual WccRes Rmdir(const CallContext& ctx, const RemoveArgs& args) = 0;
  virtual RenameRes Rename(const CallContext& ctx, const RenameArgs& args) = 0;
  virtual LinkRes Link(const CallContext& ctx, const LinkArgs& args) = 0;
  virtual ReaddirRes Readdir(const CallContext& ctx, const ReaddirArgs& args) = 0;
  virtual ReaddirRes Readdirplus(const CallContext& ctx, const ReaddirplusArgs& args) = 0;
  virtual FsstatRes Fsstat(const CallContext& ctx, const FhArgs& args) = 0;
  virtual FsinfoRes Fsinfo(const CallContext& ctx, const FhArgs& args) = 0;
  virtual PathconfRes Pathconf(const CallContext& ctx, const FhArgs& args) = 0;
  virtual CommitRes Commit(const CallContext& ctx, const CommitArgs& args) = 0;
};

}  // namespace zerofs::nfs
