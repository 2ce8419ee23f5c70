// MemoryHandler: a 9P Handler over a small in-memory tree, the reference the tests and
// the zerofs-9p binary use until the VFS-backed handler exists.
//
// It keeps directories, regular files and symlinks in RAM (lost when the process exits)
// with POSIX-like answers: attach, walk (including ".."), getattr, setattr (mode, size,
// times), lopen, lcreate, read, write, readdir, mkdir, symlink, readlink, unlinkat,
// remove, statfs, fsync (a no-op) and clunk. It does not check permissions. Every
// operation holds one tree-wide mutex, which is fine for tests and useless for speed.
// Sizes are bounded (max_file_bytes, max_nodes) so a test client cannot exhaust memory.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "zerofs/ninep/handler.h"

namespace zerofs::ninep {

struct MemoryHandlerOptions {
  std::uint64_t max_file_bytes = 64ULL << 20;
  std::uint64_t max_total_bytes = 256ULL << 20;
  std::uint64_t max_nodes = 100000;
};

class MemoryHandler final : public Handler {
 public:
  explicit MemoryHandler(MemoryHandlerOptions options = {});
  ~MemoryHandler() override;

  Answer<Rattach> Attach(RequestContext& ctx, const Tattach& req) override;
  Answer<Rwalk> Walk(RequestContext& ctx, const Twalk& req) override;
  Answer<Rgetattr> Getattr(RequestContext& ctx, const Tgetattr& req) override;
  Answer<Rsetattr> Setattr(RequestContext& ctx, const Tsetattr& req) override;
  Answer<Rlopen> Lopen(RequestContext& ctx, const Tlopen& req) override;
  Answer<Rlcreate> Lcreate(RequestContext& ctx, const Tlcreate& req) override;
  Answer<Rread> Read(RequestContext& ctx, const Tread& req) override;
  Answer<Rwrite> Write(RequestContext& ctx, const Twrite& req) override;
  Answer<Rreaddir> Readdir(RequestContext& ctx, const Treaddir& req) override;
  Answer<Rmkdir> Mkdir(RequestContext& ctx, const Tmkdir& req) override;
  Answer<Rsymlink> Symlink(RequestContext& ctx, const Tsymlink& req) override;
  Answer<Rreadlink> Readlink(RequestContext& ctx, const Treadlink& req) override;
  Answer<Runlinkat> Unlinkat(RequestContext& ctx, const Tunlinkat& req) override;
  Answer<Rremove> Remove(RequestContext& ctx, const Tremove& req) override;
  Answer<Rstatfs> Statfs(RequestContext& ctx, const Tstatfs& req) override;
  Answer<Rfsync> Fsync(RequestContext& ctx, const Tfsync& req) override;

 private:
  struct Tree;
  std::unique_ptr<Tree> tree_;
};

}  // namespace zerofs::ninep
