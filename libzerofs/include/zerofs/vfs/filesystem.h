// Filesystem: POSIX semantics over a Volume — what NFS, 9P, FUSE, NBD (whose exports are
// files under /.nbd/) and embedding applications use.
//
// Operations address inodes by number, as the protocols do: a directory and a name for the
// namespace, an inode or an open handle for data. Errors are errno values (error.h), chosen
// and ordered as Linux's ext4 chooses them: permission checks from the caller's credentials
// (including search permission on the directory of every name, sticky directories, setgid
// directories, the clearing of setuid/setgid, root's exemptions), timestamps in nanoseconds
// by ext4's rules (relatime by default), nlink counts including directories' "..", atomic
// rename with RENAME_NOREPLACE and RENAME_EXCHANGE. Every operation that changes something
// commits one engine Transaction, so a crash keeps or loses each one whole; the volume
// counters (statfs) change in the same transaction. An operation on an inode number that no
// longer exists fails with ESTALE.
//
// Durability: changes are visible at once and durable after Fsync (of the file), SyncAll,
// or the engine's next flush. Fsync is honest: it returns OK only when every change to the
// file made before it is in the bucket.
//
// Unlinked files that are still open (Open/Create handles) stay readable and writable until
// their last Release; then their data is released. The volume records them, so a file left
// open by a crash is reclaimed the next time the volume is opened (Open).
//
// Inode numbers are never reused (Volume::AllocateInode); Attr::generation is random per
// inode, for protocols whose handles carry one.
//
// POSIX byte-range locks live in the Filesystem's LockTable (locks()), in memory: every
// protocol served over one Filesystem takes its locks there, so they conflict across
// protocols, connections and clients.
//
// Thread-safety: every method may be called from any thread concurrently. Namespace changes
// are serialized; reads, data writes to different files and attribute reads run in parallel.
// A Filesystem must be destroyed before its Volume is closed, and a Volume serves one
// Filesystem at a time (the handle table and the volume counters live in it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/engine/volume.h"
#include "zerofs/vfs/locks.h"
#include "zerofs/vfs/types.h"

namespace zerofs::vfs {

enum class AtimeMode : std::uint8_t {
  kRelatime = 0,     // Linux's default: only when atime <= mtime or ctime, or once a day
  kNoatime = 1,      // reads never change atime
  kStrictatime = 2,  // every read and readdir updates atime (a commit per read)
};

struct FilesystemOptions {
  std::shared_ptr<engine::Volume> volume;
  // The time stamped on files; null: the system's real-time clock. Tests inject a clock.
  std::function<Timespec()> clock;
  AtimeMode atime = AtimeMode::kRelatime;
  // fs.protected_hardlinks (on in Debian): only the owner (or root) may hard-link a file
  // the caller could not read and write, or a special, setuid or setgid-executable file.
  bool protected_hardlinks = true;
  // The root directory as the first Open of an empty volume creates it.
  std::uint32_t root_mode = 0755;
  std::uint32_t root_uid = 0;
  std::uint32_t root_gid = 0;
  // What statfs reports as the size of the volume: the bucket has no fixed size.
  std::uint64_t capacity_bytes = 1ULL << 50;  // 1 PiB
  std::uint64_t capacity_inodes = 1ULL << 40;
  // Open handles at most (ENFILE beyond): a client cannot make the server hold unbounded
  // state.
  std::uint64_t max_handles = 1ULL << 20;
  // The bounds of the byte-range lock table (locks.h).
  LockTableOptions locks;
};

class Filesystem {
 public:
  // Opens the filesystem of `options.volume`: creates the root directory if the volume is
  // empty (one commit), and reclaims files that were unlinked while open when the volume
  // was last used.
  static Result<std::unique_ptr<Filesystem>> Open(FilesystemOptions options);
  virtual ~Filesystem() = default;

  // --- names ---
  // "." is the directory itself, ".." its parent (the root's is the root).
  virtual Result<Attr> Lookup(const Credentials& cred, Ino parent, std::string_view name) = 0;
  virtual Result<Attr> GetAttr(Ino ino) = 0;
  virtual Result<Attr> SetAttr(const Credentials& cred, Ino ino, const SetAttrRequest& req) = 0;
  // access(2): `mask` of kAccessRead/Write/Execute; 0 checks existence only.
  virtual Status Access(const Credentials& cred, Ino ino, std::uint32_t mask) = 0;

  // open(O_CREAT): `mode` holds the permission bits (the caller applied the umask).
  // `exclusive` (O_EXCL) fails with EEXIST if the name exists; otherwise an existing
  // regular file is opened with `open_flags` (and truncated by kOpenTruncate). With
  // `open` false no handle is made (NFS CREATE).
  virtual Result<CreateResult> Create(const Credentials& cred, Ino parent, std::string_view name,
                                      std::uint32_t mode, std::uint32_t open_flags, bool exclusive,
                                      bool open = true) = 0;
  virtual Result<Attr> Mkdir(const Credentials& cred, Ino parent, std::string_view name,
                             std::uint32_t mode) = 0;
  // `mode` includes the type: regular (or no type bits), fifo, socket, char or block device
  // (root only). Directories and symlinks have their own calls.
  virtual Result<Attr> Mknod(const Credentials& cred, Ino parent, std::string_view name,
                             std::uint32_t mode, std::uint64_t rdev) = 0;
  virtual Result<Attr> Symlink(const Credentials& cred, Ino parent, std::string_view name,
                               std::string_view target) = 0;
  virtual Result<std::string> ReadLink(const Credentials& cred, Ino ino) = 0;
  // A new name `name` in `new_parent` for `ino`.
  virtual Result<Attr> Link(const Credentials& cred, Ino ino, Ino new_parent,
                            std::string_view name) = 0;
  virtual Status Unlink(const Credentials& cred, Ino parent, std::string_view name) = 0;
  virtual Status Rmdir(const Credentials& cred, Ino parent, std::string_view name) = 0;
  // `flags`: 0, kRenameNoReplace or kRenameExchange.
  virtual Status Rename(const Credentials& cred, Ino parent, std::string_view name, Ino new_parent,
                        std::string_view new_name, std::uint32_t flags) = 0;

  // --- open files ---
  // Checks permission for `flags` (access mode, kOpenTruncate) once; the handle then reads
  // and writes with the rights it was opened with. Directories open read-only (for
  // ReadDir); symlinks do not open (ELOOP).
  virtual Result<HandleId> Open(const Credentials& cred, Ino ino, std::uint32_t flags) = 0;
  virtual Status Release(HandleId handle) = 0;
  // Up to `length` bytes at `offset` (fewer at the end of the file).
  virtual Result<std::string> Read(HandleId handle, std::uint64_t offset, std::uint64_t length) = 0;
  // Returns the bytes written (all of `data`, unless it would pass the largest file size).
  // A handle opened with kOpenAppend writes at the end of the file whatever `offset` says.
  virtual Result<std::uint64_t> Write(HandleId handle, std::uint64_t offset,
                                      std::string_view data) = 0;
  // Stateless variants (NFS): the permission check is made on every call.
  virtual Result<std::string> ReadInode(const Credentials& cred, Ino ino, std::uint64_t offset,
                                        std::uint64_t length) = 0;
  virtual Result<std::uint64_t> WriteInode(const Credentials& cred, Ino ino, std::uint64_t offset,
                                           std::string_view data) = 0;
  virtual Status Flush(HandleId handle) = 0;
  // fsync/fdatasync: OK once every change to the file made before the call is durable.
  virtual Status Fsync(HandleId handle, bool datasync) = 0;
  virtual Status FsyncInode(Ino ino) = 0;
  // fallocate(2): 0 (allocate; extends the size unless kFallocKeepSize),
  // kFallocPunchHole | kFallocKeepSize, kFallocZeroRange [| kFallocKeepSize].
  virtual Status Fallocate(HandleId handle, std::uint32_t mode, std::uint64_t offset,
                           std::uint64_t length) = 0;
  // lseek with kSeekData / kSeekHole: ENXIO at or past the end, or when no data follows.
  virtual Result<std::uint64_t> Seek(HandleId handle, std::uint64_t offset, int whence) = 0;

  // --- directories ---
  // Entries after `cookie` (0: from the start, including "." and ".."), at most
  // `max_entries`. An empty result means the end.
  virtual Result<std::vector<DirEntry>> ReadDir(HandleId handle, std::uint64_t cookie,
                                                std::size_t max_entries) = 0;
  virtual Result<std::vector<DirEntry>> ReadDirInode(const Credentials& cred, Ino ino,
                                                     std::uint64_t cookie,
                                                     std::size_t max_entries) = 0;

  // --- extended attributes (user., trusted., security.; system.* is EOPNOTSUPP) ---
  virtual Result<std::string> GetXattr(const Credentials& cred, Ino ino, std::string_view name) = 0;
  // `flags`: 0, kXattrCreate (EEXIST if present) or kXattrReplace (ENODATA if absent).
  virtual Status SetXattr(const Credentials& cred, Ino ino, std::string_view name,
                          std::string_view value, std::uint32_t flags) = 0;
  // The names the caller may see (trusted.* only for root), in name order.
  virtual Result<std::vector<std::string>> ListXattr(const Credentials& cred, Ino ino) = 0;
  virtual Status RemoveXattr(const Credentials& cred, Ino ino, std::string_view name) = 0;

  // --- the volume ---
  virtual Result<StatFs> StatFilesystem() = 0;
  // Every change made before the call is durable.
  virtual Status SyncAll() = 0;
  virtual engine::Volume& volume() = 0;
  // The byte-range locks of the volume's files, shared by every protocol using this
  // Filesystem.
  virtual LockTable& locks() = 0;
};

}  // namespace zerofs::vfs
