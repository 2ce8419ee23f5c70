// MemoryNfsHandler: an NfsHandler over a small in-memory tree (directories, regular files,
// symlinks, device and fifo nodes), exported as "/". It makes the NFS server usable end to
// end before the VFS-backed handler exists, and is the reference the protocol tests run
// against. Everything is lost when the process exits.
//
// File handles are 16 bytes: this instance's random 8-byte id, then the fileid; a handle
// of another instance is NFS3ERR_STALE, so clients notice a restart. UNSTABLE writes are
// answered UNSTABLE with this instance's random write verifier and COMMIT returns the same
// one: in memory nothing more durable exists, and a restart (which loses everything)
// changes the verifier as DESIGN.md section 3 requires.
//
// Bounded: total file bytes (max_bytes) and node count (max_nodes) answer NFS3ERR_NOSPC
// when exceeded. Thread-safe: one mutex guards the tree.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "zerofs/nfs/handler.h"

namespace zerofs::nfs {

struct MemoryNfsOptions {
  std::uint64_t max_bytes = 1ULL << 30;  // sum of file sizes
  std::uint64_t max_nodes = 1U << 20;
  std::uint32_t root_mode = 0777;  // the root directory, so any AUTH_SYS user may write
};

class MemoryNfsHandler final : public NfsHandler {
 public:
  explicit MemoryNfsHandler(MemoryNfsOptions options = {});
  ~MemoryNfsHandler() override;

  // The write verifier of this instance (what WRITE UNSTABLE and COMMIT return).
  Verifier write_verifier() const { return write_verf_; }
  Fh3 RootHandle() const;

  MntRes Mnt(const CallContext& ctx, const std::string& path) override;
  std::vector<MountEntry> Dump(const CallContext& ctx) override;
  void Umnt(const CallContext& ctx, const std::string& path) override;
  void Umntall(const CallContext& ctx) override;
  std::vector<ExportEntry> Export(const CallContext& ctx) override;

  GetattrRes Getattr(const CallContext& ctx, const FhArgs& args) override;
  WccRes Setattr(const CallContext& ctx, const SetattrArgs& args) override;
  LookupRes Lookup(const CallContext& ctx, const LookupArgs& args) override;
  AccessRes Access(const CallContext& ctx, const AccessArgs& args) override;
  ReadlinkRes Readlink(const CallContext& ctx, const FhArgs& args) override;
  ReadRes Read(const CallContext& ctx, const ReadArgs& args) override;
  WriteRes Write(const CallContext& ctx, const WriteArgs& args) override;
  DiropRes Create(const CallContext& ctx, const CreateArgs& args) override;
  DiropRes Mkdir(const CallContext& ctx, const MkdirArgs& args) override;
  DiropRes Symlink(const CallContext& ctx, const SymlinkArgs& args) override;
  DiropRes Mknod(const CallContext& ctx, const MknodArgs& args) override;
  WccRes Remove(const CallContext& ctx, const RemoveArgs& args) override;
  WccRes Rmdir(const CallContext& ctx, const RemoveArgs& args) override;
  RenameRes Rename(const CallContext& ctx, const RenameArgs& args) override;
  LinkRes Link(const CallContext& ctx, const LinkArgs& args) override;
  ReaddirRes Readdir(const CallContext& ctx, const ReaddirArgs& args) override;
  ReaddirRes Readdirplus(const CallContext& ctx, const ReaddirplusArgs& args) override;
  FsstatRes Fsstat(const CallContext& ctx, const FhArgs& args) override;
  FsinfoRes Fsinfo(const CallContext& ctx, const FhArgs& args) override;
  PathconfRes Pathconf(const CallContext& ctx, const FhArgs& args) override;
  CommitRes Commit(const CallContext& ctx, const CommitArgs& args) override;

 private:
  struct Node;

  Node* Find(const Fh3& fh, Nfsstat3* status);  // REQUIRES(mu_)
  Fh3 HandleOf(std::uint64_t fileid) const;
  Fattr3 AttrOf(const Node& n) const;  // REQUIRES(mu_)
  WccAttr WccOf(const Node& n) const;  // REQUIRES(mu_)
  static bool Allowed(const Node& n, const AuthSys& cred, std::uint32_t want);
  Nfsstat3 CheckName(const std::string& name) const;
  // Creates a child of `dir` named `name`; fills `res`.
  Node* MakeNode(const CallContext& ctx, const DirOpArgs3& where, Ftype3 type, const Sattr3& attrs,
                 DiropRes& res);                    // REQUIRES(mu_)
  Nfsstat3 ApplySattr(Node& n, const Sattr3& s);    // REQUIRES(mu_)
  void Unlink(Node& dir, const std::string& name);  // REQUIRES(mu_)
  ReaddirRes List(const Fh3& dir, std::uint64_t cookie, const Verifier& verf,
                  std::uint32_t max_bytes, bool plus);

  const MemoryNfsOptions options_;
  const std::uint64_t instance_id_;
  const Verifier write_verf_;
  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Node>> nodes_;  // GUARDED_BY(mu_)
  std::uint64_t next_fileid_ = 2;                                   // GUARDED_BY(mu_)
  std::uint64_t bytes_used_ = 0;                                    // GUARDED_BY(mu_)
  std::set<std::pair<std::string, std::string>> mounts_;            // GUARDED_BY(mu_)
};

}  // namespace zerofs::nfs
