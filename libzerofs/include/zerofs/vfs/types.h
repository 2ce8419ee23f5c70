// The vocabulary of the VFS: who is calling, what a file looks like, what a call may change.
//
// Numeric constants (modes, open flags, rename and xattr flags, fallocate modes, access
// masks, whence values) have the values of Linux, which 9P2000.L and FUSE carry unchanged
// and NFSv3 maps one to one; the constants below name them for code that does not include
// the Linux headers, and src/vfs checks them against those headers.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zerofs/index/records.h"

namespace zerofs::vfs {

using Ino = std::uint64_t;
using HandleId = std::uint64_t;
using index::FileType;
using index::Timespec;

// The root directory of every volume.
inline constexpr Ino kRootIno = 1;
// Returned by no Open; a SetAttrRequest without a handle.
inline constexpr HandleId kNoHandle = 0;
// The largest file (EFBIG beyond): 1 PiB, the nominal capacity statfs reports.
inline constexpr std::uint64_t kMaxFileSize = 1ULL << 50;
// One Read or Write moves at most this much (a Write of more is a short write).
inline constexpr std::uint64_t kMaxIoBytes = 64ULL << 20;

// The caller, as AUTH_SYS, 9P's n_uname/uid or FUSE's request header present it. Root
// (uid 0) has the capabilities Linux gives it (DAC override, CAP_FOWNER, CAP_CHOWN,
// CAP_FSETID, CAP_MKNOD, CAP_SYS_ADMIN for trusted.* xattrs).
struct Credentials {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> groups;  // supplementary groups

  static Credentials Root() { return {}; }
  static Credentials User(std::uint32_t uid, std::uint32_t gid,
                          std::vector<std::uint32_t> groups = {}) {
    return {uid, gid, std::move(groups)};
  }
  bool is_root() const { return uid == 0; }
  // The primary group or a supplementary one.
  bool InGroup(std::uint32_t g) const;
};

// What stat(2) shows. Directories report size 4096 and nlink 2 + subdirectories, as ext4.
struct Attr {
  Ino ino = 0;
  std::uint64_t generation = 0;  // with ino, tells a recreated file from a stale handle
  std::uint32_t mode = 0;        // type bits | permission bits (07777)
  std::uint32_t nlink = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;
  std::uint64_t blocks = 0;  // 512-byte units
  std::uint64_t rdev = 0;
  Timespec atime;
  Timespec mtime;
  Timespec ctime;
  Timespec btime;

  FileType type() const { return index::FileTypeOfMode(mode); }
  bool is_dir() const { return type() == FileType::kDirectory; }
  bool is_regular() const { return type() == FileType::kRegular; }
  bool is_symlink() const { return type() == FileType::kSymlink; }
};

// Mode bits (Linux values).
inline constexpr std::uint32_t kModeSetUid = 04000;
inline constexpr std::uint32_t kModeSetGid = 02000;
inline constexpr std::uint32_t kModeSticky = 01000;

// Access masks (R_OK, W_OK, X_OK); 0 is F_OK.
inline constexpr std::uint32_t kAccessRead = 4;
inline constexpr std::uint32_t kAccessWrite = 2;
inline constexpr std::uint32_t kAccessExecute = 1;

// Open flags (the Linux O_* values the VFS looks at; others are ignored).
inline constexpr std::uint32_t kOpenReadOnly = 0;
inline constexpr std::uint32_t kOpenWriteOnly = 1;
inline constexpr std::uint32_t kOpenReadWrite = 2;
inline constexpr std::uint32_t kOpenAccessMode = 3;
inline constexpr std::uint32_t kOpenTruncate = 01000;
inline constexpr std::uint32_t kOpenAppend = 02000;
inline constexpr std::uint32_t kOpenDirectory = 0200000;
inline constexpr std::uint32_t kOpenNoFollow = 0400000;

// Rename flags (RENAME_NOREPLACE, RENAME_EXCHANGE; RENAME_WHITEOUT is refused).
inline constexpr std::uint32_t kRenameNoReplace = 1;
inline constexpr std::uint32_t kRenameExchange = 2;
inline constexpr std::uint32_t kRenameWhiteout = 4;

// Setxattr flags (XATTR_CREATE, XATTR_REPLACE).
inline constexpr std::uint32_t kXattrCreate = 1;
inline constexpr std::uint32_t kXattrReplace = 2;

// Fallocate modes (FALLOC_FL_*): 0 allocates (and may extend the file).
inline constexpr std::uint32_t kFallocKeepSize = 0x01;
inline constexpr std::uint32_t kFallocPunchHole = 0x02;
inline constexpr std::uint32_t kFallocZeroRange = 0x10;

// Whence values of Seek.
inline constexpr int kSeekData = 3;
inline constexpr int kSeekHole = 4;

// How SetAttr changes a timestamp (utimensat's UTIME_OMIT / UTIME_NOW / a value; NFS's
// DONT_CHANGE / SET_TO_SERVER_TIME / SET_TO_CLIENT_TIME).
struct TimeUpdate {
  enum class Kind : std::uint8_t { kOmit = 0, kNow = 1, kValue = 2 };
  Kind kind = Kind::kOmit;
  Timespec value;

  static TimeUpdate Omit() { return {}; }
  static TimeUpdate Now() { return {Kind::kNow, {}}; }
  static TimeUpdate At(Timespec t) { return {Kind::kValue, t}; }
  bool omitted() const { return kind == Kind::kOmit; }
};

// The attributes one SetAttr call changes; unset fields stay. The checks and their order
// are those of Linux's notify_change: size (write permission, or a handle open for
// writing), then owner, group, mode, times.
struct SetAttrRequest {
  std::optional<std::uint32_t> mode;  // permission bits only (07777); the type never changes
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
  std::optional<std::uint64_t> size;
  TimeUpdate atime;
  TimeUpdate mtime;
  // ftruncate: the size change is allowed by this handle (open for writing) rather than by
  // the caller's write permission, and it updates mtime and ctime even if the size stays.
  HandleId handle = kNoHandle;

  static SetAttrRequest Chmod(std::uint32_t mode) {
    SetAttrRequest r;
    r.mode = mode;
    return r;
  }
  // chown(2) with -1 as nullopt.
  static SetAttrRequest Chown(std::optional<std::uint32_t> uid, std::optional<std::uint32_t> gid) {
    SetAttrRequest r;
    r.uid = uid;
    r.gid = gid;
    return r;
  }
  static SetAttrRequest Truncate(std::uint64_t size, HandleId handle = kNoHandle) {
    SetAttrRequest r;
    r.size = size;
    r.handle = handle;
    return r;
  }
  static SetAttrRequest Times(TimeUpdate atime, TimeUpdate mtime) {
    SetAttrRequest r;
    r.atime = atime;
    r.mtime = mtime;
    return r;
  }
};

// One directory entry. `cookie` resumes a listing right after this entry. "." and ".."
// have cookies 1 and 2; real entries keep theirs (>= 3) for as long as they exist.
struct DirEntry {
  std::string name;
  Ino ino = 0;
  FileType type = FileType::kUnknown;
  std::uint64_t cookie = 0;
};

struct StatFs {
  std::uint32_t block_size = 4096;
  std::uint64_t total_blocks = 0;
  std::uint64_t free_blocks = 0;
  std::uint64_t available_blocks = 0;
  std::uint64_t total_files = 0;
  std::uint64_t free_files = 0;
  std::uint32_t name_max = 255;
  // Logical bytes of file data and live inodes, as the volume counters hold them.
  std::uint64_t used_bytes = 0;
  std::uint64_t inodes = 0;
};

// What Create returns: the file, whether this call made it, and its open handle.
struct CreateResult {
  Attr attr;
  bool created = false;
  HandleId handle = kNoHandle;
};

}  // namespace zerofs::vfs
