// Filesystem: the FUSE operations of zerofs-mount, spoken as 9P2000.L to a zerofs-9p server.
//
// It is written against plain types (no libfuse here) so that tests can drive it directly;
// fuse_ops.cpp adapts it to fuse_lowlevel.h.
//
// Nodes. FUSE node ids are numbers this class hands out (the root is 1); the inode number
// the kernel shows (st_ino) is the server's qid.path, and one qid.path maps to one node.
// Every node remembers one (parent, name) it is known under, so that it can be walked to
// again from the root: a node's fids are only a cache. A fid per (node, user) is kept for
// the node's next operation, up to FsOptions::max_cached_fids in all (then the oldest are
// clunked), and dropped when the kernel forgets the node. A node holds a reference on its
// parent node, so a known path never dangles.
//
// Reconnects. Each public operation runs in a retry loop (Run): when the connection dies
// under it, it gets a new session from the Client and starts again; fids of the dead
// session are re-walked by name on first use, open files re-opened with their flags (minus
// O_CREAT, O_EXCL, O_TRUNC). Operations that change the namespace were perhaps executed
// by the server before the connection died; on their retry, "already exists" (mkdir,
// mknod, symlink, link, create) and "does not exist" (unlink, rmdir, rename) count as
// success, as an NFS client with a duplicate-request cache would see it.
//
// Durability. A server that restarts keeps only what was fsynced. Each node records the
// session epoch of its first write not yet covered by an fsync; an fsync (and the close of
// a handle that wrote) that finds the node was written in an older session reports EIO:
// those writes may be gone. fsync clears the report (as Linux reports a writeback error
// once), close does not.
//
// Thread-safety: every method may be called concurrently (libfuse's worker threads). One
// mutex guards the node and handle tables; no network call is made while holding it.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "errno_or.h"
#include "session.h"
#include "zerofs/ninep/codec.h"

namespace zerofs::mount {

// Who asks: the uid/gid of the calling process (FUSE's request context).
struct Caller {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t pid = 0;
};

struct Entry {
  std::uint64_t ino = 0;  // the FUSE node id
  struct stat attr {};
};

struct FsOptions {
  // Open files for reading too when the kernel's writeback cache is on: it reads pages it
  // only partly writes, even through O_WRONLY files.
  bool writeback = false;
  std::size_t max_cached_fids = 8192;
  // Identifies this mount in Tlock/Tgetlock.
  std::string lock_client_id = "zerofs-mount";
};

// Tlock/Tgetlock in terms of struct flock.
struct LockRequest {
  short type = F_UNLCK;     // F_RDLCK, F_WRLCK, F_UNLCK
  std::uint64_t start = 0;
  std::uint64_t length = 0;  // 0: to the end of the file
  std::uint32_t pid = 0;
};

class Filesystem {
 public:
  static constexpr std::uint64_t kRootId = 1;

  Filesystem(Client& client, FsOptions options);
  ~Filesystem();

  ErrnoOr<Entry> Lookup(const Caller& c, std::uint64_t parent, const std::string& name);
  void Forget(std::uint64_t ino, std::uint64_t nlookup);
  // `fh`, when set, is an open handle of `ino` (fstat).
  ErrnoOr<struct stat> Getattr(const Caller& c, std::uint64_t ino,
                               std::optional<std::uint64_t> fh);
  // `request.valid` and its fields as in Tsetattr; `request.fid` is ignored. `fh`, when
  // set, is an open handle of `ino` (ftruncate, fchmod), used when the node cannot be
  // walked to any more (unlinked while open).
  ErrnoOr<struct stat> Setattr(const Caller& c, std::uint64_t ino, ninep::Tsetattr request,
                               std::optional<std::uint64_t> fh);
  ErrnoOr<std::string> Readlink(const Caller& c, std::uint64_t ino);
  ErrnoOr<Entry> Mknod(const Caller& c, std::uint64_t parent, const std::string& name,
                       std::uint32_t mode, std::uint64_t rdev);
  ErrnoOr<Entry> Mkdir(const Caller& c, std::uint64_t parent, const std::string& name,
                       std::uint32_t mode);
  ErrnoOr<Entry> Symlink(const Caller& c, const std::string& target, std::uint64_t parent,
                         const std::string& name);
  ErrnoOr<Entry> Link(const Caller& c, std::uint64_t ino, std::uint64_t new_parent,
                      const std::string& new_name);
  int Unlink(const Caller& c, std::uint64_t parent, const std::string& name);
  int Rmdir(const Caller& c, std::uint64_t parent, const std::string& name);
  // `flags`: 0 or RENAME_NOREPLACE (checked here, not atomically: 9P's Trenameat has no
  // flags); RENAME_EXCHANGE and anything else is EINVAL.
  int Rename(const Caller& c, std::uint64_t parent, const std::string& name,
             std::uint64_t new_parent, const std::string& new_name, unsigned int flags);

  // Returns the handle number (FUSE's fh).
  ErrnoOr<std::uint64_t> Open(const Caller& c, std::uint64_t ino, int flags);
  ErrnoOr<std::pair<Entry, std::uint64_t>> Create(const Caller& c, std::uint64_t parent,
                                                  const std::string& name, std::uint32_t mode,
                                                  int flags);
  ErrnoOr<std::string> Read(std::uint64_t fh, std::uint64_t offset, std::size_t size);
  ErrnoOr<std::size_t> Write(std::uint64_t fh, std::uint64_t offset, std::string_view data);
  int Flush(std::uint64_t fh);
  int Fsync(std::uint64_t fh, bool datasync);
  void Release(std::uint64_t fh);
  // 9P2000.L has no fallocate: its visible effects are emulated. Mode 0 grows the file
  // (Tsetattr), KEEP_SIZE alone does nothing, PUNCH_HOLE and ZERO_RANGE write zeros (no
  // space is reserved or freed); other modes are EOPNOTSUPP.
  int Fallocate(std::uint64_t fh, int mode, std::uint64_t offset, std::uint64_t length);

  ErrnoOr<std::uint64_t> Opendir(const Caller& c, std::uint64_t ino);
  // Entries after the cookie `offset` (0: from the start), about `size` bytes of them.
  ErrnoOr<std::vector<ninep::Dirent>> Readdir(std::uint64_t fh, std::uint64_t offset,
                                              std::size_t size);
  int Fsyncdir(std::uint64_t fh, bool datasync);
  void Releasedir(std::uint64_t fh) { Release(fh); }

  ErrnoOr<struct statvfs> Statfs(const Caller& c);

  int Setxattr(const Caller& c, std::uint64_t ino, const std::string& name,
               std::string_view value, int flags);
  // The whole value / the NUL-separated names; the caller checks them against the
  // kernel's buffer size (ERANGE).
  ErrnoOr<std::string> Getxattr(const Caller& c, std::uint64_t ino, const std::string& name);
  ErrnoOr<std::string> Listxattr(const Caller& c, std::uint64_t ino);
  int Removexattr(const Caller& c, std::uint64_t ino, const std::string& name);

  ErrnoOr<LockRequest> Getlk(std::uint64_t fh, const LockRequest& lock);
  // `interrupted` is polled while a blocking lock waits (the kernel's FUSE_INTERRUPT).
  int Setlk(std::uint64_t fh, const LockRequest& lock, bool wait,
            const std::function<bool()>& interrupted);

  int Access(const Caller& c, std::uint64_t ino, int mask);

  // For tests and logs.
  std::size_t node_count();
  std::size_t cached_fid_count();

 private:
  struct Node;
  struct Handle;
  // What one attempt of an operation did, for the retry after a lost connection.
  struct Attempt {
    bool maybe_done = false;     // an earlier attempt's mutation may have run
    bool mutation_sent = false;  // this attempt has sent its mutation
  };
  using SessionPtr = std::shared_ptr<Session>;

  template <typename T, typename Fn>
  ErrnoOr<T> Run(Fn&& fn);
  int RunStatus(const std::function<int(const SessionPtr&, Attempt&)>& fn);

  ErrnoOr<FidPtr> NodeFid(const SessionPtr& s, std::uint32_t uid, std::uint64_t ino,
                          int depth = 0);
  ErrnoOr<std::pair<FidPtr, ninep::Qid>> Walk(const SessionPtr& s, const FidPtr& from,
                                              std::vector<std::string> names);
  ErrnoOr<ninep::Rgetattr> GetattrFid(const SessionPtr& s, const FidPtr& fid);
  ErrnoOr<Entry> LookupOn(const SessionPtr& s, std::uint32_t uid, std::uint64_t parent,
                          const std::string& name);
  ErrnoOr<FidPtr> OpenFid(const SessionPtr& s, std::uint32_t uid, std::uint64_t ino,
                          std::uint32_t flags, std::uint32_t* iounit);
  ErrnoOr<FidPtr> HandleFid(const SessionPtr& s, const std::shared_ptr<Handle>& h);
  std::shared_ptr<Handle> FindHandle(std::uint64_t fh);
  std::uint64_t AddHandle(std::shared_ptr<Handle> h);
  int RemoveName(std::uint64_t parent, const std::string& name);
  std::uint32_t OpenFlags(int flags) const;
  ErrnoOr<std::string> ReadXattr(const SessionPtr& s, const FidPtr& fid,
                                 const std::string& name);

  // The table. Everything below takes mu_.
  Entry Remember(std::uint64_t parent, const std::string& name, const ninep::Rgetattr& attr,
                 FidPtr fid, std::uint32_t uid, std::uint64_t epoch);
  void SetNameLocked(Node* node, std::uint64_t parent, const std::string& name,
                     std::vector<std::uint64_t>* released);
  void UnnameLocked(Node* node, std::vector<std::uint64_t>* released);
  void MaybeEraseLocked(std::uint64_t id, std::vector<FidPtr>* garbage);
  void CacheFidLocked(Node* node, std::uint32_t uid, FidPtr fid, std::vector<FidPtr>* garbage);
  // Durability bookkeeping (see the header comment).
  void NoteEpochLocked(Node* node, std::uint64_t epoch);

  Client& client_;
  const FsOptions options_;
  std::atomic<bool> renameat_unsupported_{false};

  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Node>> nodes_;      // guarded by mu_
  std::unordered_map<std::uint64_t, std::uint64_t> by_qid_;             // qid.path -> id
  std::map<std::pair<std::uint64_t, std::string>, std::uint64_t> names_;  // (parent, name)
  std::deque<std::pair<std::uint64_t, std::weak_ptr<Fid>>> fid_fifo_;   // eviction order
  std::unordered_map<std::uint64_t, std::shared_ptr<Handle>> handles_;  // guarded by mu_
  std::uint64_t next_id_ = kRootId + 1;                                 // guarded by mu_
  std::uint64_t next_fh_ = 1;                                           // guarded by mu_
};

// st_* from an Rgetattr.
struct stat ToStat(const ninep::Rgetattr& attr);

}  // namespace zerofs::mount
