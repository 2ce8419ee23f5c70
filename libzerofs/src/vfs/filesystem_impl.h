// FilesystemImpl: the Filesystem of filesystem.h over an engine::Volume.
//
// State: nothing of the namespace is cached; every operation reads the inode and entry
// records it needs from the Volume (RocksDB + the engine's in-memory batches) and commits
// one Transaction. In memory are only the open handles, the volume counters (mirrored from
// their record, which every counting transaction rewrites) and, per slot of inode numbers,
// the write batch of the last commit that touched one of them (for fsync).
//
// Locking, outermost first:
//   ns_mu_        exclusive for every change to the namespace (create, link, unlink, rmdir,
//                 rename, reclaiming an orphan), shared for everything else; so a namespace
//                 change reads, decides and commits with nothing moving under it. Writers
//                 go first (rw_lock.h); no thread takes it twice.
//   inode_mu_[i]  a stripe of inode numbers: held (with ns_mu_ shared) by operations that
//                 read-modify-write one inode record outside namespace changes (write,
//                 setattr, atime, xattrs, fallocate).
//   handles_mu_   the handle table, open counts and orphans.
//   counters_mu_  the volume counters, held across the Commit that rewrites them.
// The byte-range lock table (locks_) has its own mutex and takes no other.
// The files implementing this class: fs_core.cpp (records, commits, open, statfs),
// fs_names.cpp (lookup, create, mkdir, mknod, symlink, link), fs_remove.cpp (unlink, rmdir,
// reclaim), fs_rename.cpp, fs_attr.cpp, fs_data.cpp (handles, read, write, fallocate, seek,
// fsync), fs_dir.cpp (readdir), fs_xattr.cpp.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "rw_lock.h"
#include "zerofs/engine/transaction.h"
#include "zerofs/index/records.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::vfs {

using index::DirentRecord;
using index::InodeRecord;

class FilesystemImpl final : public Filesystem {
 public:
  explicit FilesystemImpl(FilesystemOptions options);
  // Creates the root if needed, loads the counters, reclaims orphans.
  Status Init();

  Result<Attr> Lookup(const Credentials& cred, Ino parent, std::string_view name) override;
  Result<Attr> GetAttr(Ino ino) override;
  Result<Attr> SetAttr(const Credentials& cred, Ino ino, const SetAttrRequest& req) override;
  Status Access(const Credentials& cred, Ino ino, std::uint32_t mask) override;
  Result<CreateResult> Create(const Credentials& cred, Ino parent, std::string_view name,
                              std::uint32_t mode, std::uint32_t open_flags, bool exclusive,
                              bool open) override;
  Result<Attr> Mkdir(const Credentials& cred, Ino parent, std::string_view name,
                     std::uint32_t mode) override;
  Result<Attr> Mknod(const Credentials& cred, Ino parent, std::string_view name, std::uint32_t mode,
                     std::uint64_t rdev) override;
  Result<Attr> Symlink(const Credentials& cred, Ino parent, std::string_view name,
                       std::string_view target) override;
  Result<std::string> ReadLink(const Credentials& cred, Ino ino) override;
  Result<Attr> Link(const Credentials& cred, Ino ino, Ino new_parent,
                    std::string_view name) override;
  Status Unlink(const Credentials& cred, Ino parent, std::string_view name) override;
  Status Rmdir(const Credentials& cred, Ino parent, std::string_view name) override;
  Status Rename(const Credentials& cred, Ino parent, std::string_view name, Ino new_parent,
                std::string_view new_name, std::uint32_t flags) override;

  Result<HandleId> Open(const Credentials& cred, Ino ino, std::uint32_t flags) override;
  Status Release(HandleId handle) override;
  Result<std::string> Read(HandleId handle, std::uint64_t offset, std::uint64_t length) override;
  Result<std::uint64_t> Write(HandleId handle, std::uint64_t offset,
                              std::string_view data) override;
  Result<std::string> ReadInode(const Credentials& cred, Ino ino, std::uint64_t offset,
                                std::uint64_t length) override;
  Result<std::uint64_t> WriteInode(const Credentials& cred, Ino ino, std::uint64_t offset,
                                   std::string_view data) override;
  Status Flush(HandleId handle) override;
  Status Fsync(HandleId handle, bool datasync) override;
  Status FsyncInode(Ino ino) override;
  Status Fallocate(HandleId handle, std::uint32_t mode, std::uint64_t offset,
                   std::uint64_t length) override;
  Result<std::uint64_t> Seek(HandleId handle, std::uint64_t offset, int whence) override;

  Result<std::vector<DirEntry>> ReadDir(HandleId handle, std::uint64_t cookie,
                                        std::size_t max_entries) override;
  Result<std::vector<DirEntry>> ReadDirInode(const Credentials& cred, Ino ino, std::uint64_t cookie,
                                             std::size_t max_entries) override;

  Result<std::string> GetXattr(const Credentials& cred, Ino ino, std::string_view name) override;
  Status SetXattr(const Credentials& cred, Ino ino, std::string_view name, std::string_view value,
                  std::uint32_t flags) override;
  Result<std::vector<std::string>> ListXattr(const Credentials& cred, Ino ino) override;
  Status RemoveXattr(const Credentials& cred, Ino ino, std::string_view name) override;

  Result<StatFs> StatFilesystem() override;
  Status SyncAll() override;
  engine::Volume& volume() override { return *volume_; }
  LockTable& locks() override { return locks_; }

 private:
  struct Handle {
    Ino ino = 0;
    Credentials cred;  // the opener's: writes clear setuid/setgid by its rights
    bool readable = false;
    bool writable = false;
    bool append = false;
    bool directory = false;
  };
  // Changes to the volume counters that a transaction carries.
  struct CounterDelta {
    std::int64_t bytes = 0;
    std::int64_t inodes = 0;
  };

  // ---- records (fs_core.cpp) ----
  Timespec Now() const;
  std::uint64_t NewGeneration();
  // ESTALE if the inode does not exist.
  Result<InodeRecord> LoadInode(Ino ino);
  // ENOTDIR unless a directory.
  Result<InodeRecord> LoadDir(Ino ino);
  Result<std::optional<DirentRecord>> FindEntry(Ino dir, std::string_view name);
  static void PutInode(engine::Transaction& txn, const InodeRecord& rec);
  // Adds `name` -> `ino` to `dir` (by name and by a new cookie); the caller puts `dir`.
  static void AddEntry(engine::Transaction& txn, InodeRecord& dir, std::string_view name, Ino ino,
                       index::FileType type);
  static void RemoveEntry(engine::Transaction& txn, Ino dir, std::string_view name,
                          const DirentRecord& entry);
  // Deletes the inode record, its xattrs and its data.
  Status DeleteInode(engine::Transaction& txn, const InodeRecord& rec);
  Result<bool> DirIsEmpty(Ino dir);
  Attr ToAttr(const InodeRecord& rec) const;
  // EROFS on a read-only volume.
  Status CheckWritable() const;
  // Commits `txn` with the counter changes; remembers its batch for `touched`.
  Status Commit(engine::Transaction& txn, CounterDelta delta, std::initializer_list<Ino> touched);
  void NoteBatch(Ino ino, engine::BatchNumber batch);
  std::mutex& InodeLock(Ino ino) { return inode_mu_[ino % inode_mu_.size()]; }

  // ---- names (fs_names.cpp) ----
  // Creates a non-directory or directory entry after every check; ns_mu_ held.
  Result<InodeRecord> MakeNode(const Credentials& cred, InodeRecord& parent, std::string_view name,
                               std::uint32_t mode, std::uint64_t rdev, std::string_view target);
  // The checks every create makes on the parent and name before the name is looked up.
  Result<InodeRecord> CreateParent(const Credentials& cred, Ino parent, std::string_view name,
                                   const char* op);

  // ---- removal (fs_remove.cpp) ----
  // Drops one link of `rec` (a non-directory) in `txn`: nlink-1, and the inode itself when
  // that was the last link and no handle is open (else it becomes an orphan).
  Status DropLink(engine::Transaction& txn, InodeRecord& rec, CounterDelta& delta, Timespec now);
  // An empty directory lost its name (rmdir, or a rename over it): deleted in `txn`, or,
  // while a handle has it open, kept with nlink 0 as an orphan that lists nothing until
  // its last release. The caller counts the inode out of the statfs counters.
  Status RetireDirectory(engine::Transaction& txn, InodeRecord& rec, Timespec now);
  // The last handle of an orphan was released: delete it. Takes ns_mu_.
  Status ReclaimOrphan(Ino ino);
  Status ReclaimOrphansAtOpen();

  // ---- data (fs_data.cpp) ----
  Result<Handle> GetHandle(HandleId handle);
  Result<HandleId> AddHandle(Handle handle);
  Result<std::string> ReadData(Ino ino, std::uint64_t offset, std::uint64_t length);
  Result<std::uint64_t> WriteData(const Credentials& cred, Ino ino, std::uint64_t offset,
                                  std::string_view data, bool append);
  // Truncates `rec` to `size` in `txn` (data and used bytes); the caller stamps times.
  void TruncateTo(engine::Transaction& txn, InodeRecord& rec, std::uint64_t size,
                  CounterDelta& delta);
  // Updates atime after a read of `ino` if the atime mode asks for it.
  Status TouchAtime(Ino ino, const InodeRecord& seen);
  // The checks and truncation of open(2) on `rec` (ns_mu_ exclusive, or shared with the
  // inode's stripe); a handle if `make_handle` (else kNoHandle). A file this call created
  // is opened without permission checks, as Linux does.
  Result<HandleId> OpenLocked(const Credentials& cred, InodeRecord& rec, std::uint32_t flags,
                              bool just_created, bool make_handle);
  Result<std::vector<DirEntry>> ReadDirLocked(const InodeRecord& dir, std::uint64_t cookie,
                                              std::size_t max_entries);

  FilesystemOptions options_;
  engine::Volume* volume_;
  LockTable locks_;  // byte-range locks; its own mutex, innermost, never held across calls

  RwLock ns_mu_;
  std::array<std::mutex, 64> inode_mu_;

  std::mutex handles_mu_;
  std::unordered_map<HandleId, Handle> handles_;        // GUARDED_BY(handles_mu_)
  std::unordered_map<Ino, std::uint32_t> open_counts_;  // GUARDED_BY(handles_mu_)
  std::unordered_set<Ino> orphans_;                     // GUARDED_BY(handles_mu_)
  HandleId next_handle_ = 1;                            // GUARDED_BY(handles_mu_)

  std::mutex counters_mu_;
  index::VolumeCounters counters_;  // GUARDED_BY(counters_mu_)

  std::mutex generation_mu_;
  std::uint64_t generation_state_;  // GUARDED_BY(generation_mu_)

  // Slot ino % size: the newest batch of a commit touching an inode of that slot, so
  // fsync waits for at least its file's last change (and perhaps a little more).
  std::array<std::atomic<engine::BatchNumber>, 4096> last_batch_{};
};

// Linux's rules for names: ENOENT for an empty name, ENAMETOOLONG beyond 255 bytes, EINVAL
// for '/' or NUL. "." and ".." pass; each operation treats them itself.
Status CheckName(std::string_view name);
bool IsDotOrDotDot(std::string_view name);
// "'name' in directory 7", for messages (the name cut at 64 bytes).
std::string DescribeName(std::string_view name, Ino dir);

// Files unlinked while open (zerofs/vfs/orphans.h), as index keys.
std::string OrphanKey(Ino ino);
std::string OrphanPrefix();
Result<Ino> DecodeOrphanKey(std::string_view key);

}  // namespace zerofs::vfs
