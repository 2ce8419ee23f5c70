// Path helpers for embedders: name files by "/a/b/c" instead of (directory, name) pairs.
//
// Resolution is Linux's path walk over a Filesystem: search permission on every directory
// passed, "." and "..", repeated slashes, symbolic links followed (absolute targets from
// the root, relative ones from the link's directory) with ELOOP after kMaxSymlinkFollows,
// ENOTDIR when a non-directory has a component after it, ENAMETOOLONG for paths of
// kMaxPathBytes or more. Relative paths start at the root: an embedder has no working
// directory.
//
// The convenience calls (WriteFile, ReadFile, MakeDirs, ListDir, RemoveAll) are several
// Filesystem operations each, not atomic as a whole.
//
// Thread-safety: as the Filesystem they use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::vfs {

inline constexpr int kMaxSymlinkFollows = 40;
inline constexpr std::size_t kMaxPathBytes = 4096;

// The file `path` names. `follow_last`: a symlink as the last component is followed
// (stat) or returned itself (lstat).
Result<Attr> ResolvePath(Filesystem& fs, const Credentials& cred, std::string_view path,
                         bool follow_last = true);

// The directory that would hold `path`'s last component, and that component; EINVAL for
// "/" (which has no parent entry). A trailing slash is allowed and ignored.
struct ParentAndName {
  Attr parent;
  std::string name;
};
Result<ParentAndName> ResolveParent(Filesystem& fs, const Credentials& cred, std::string_view path);

// Creates `path` and any missing directories above it (mkdir -p); OK if it exists as a
// directory.
Status MakeDirs(Filesystem& fs, const Credentials& cred, std::string_view path,
                std::uint32_t mode = 0755);

// Creates or truncates the regular file `path` and writes `data` to it.
Status WriteFile(Filesystem& fs, const Credentials& cred, std::string_view path,
                 std::string_view data, std::uint32_t mode = 0644);

// The whole content of the regular file `path` (at most `max_bytes`: EFBIG beyond).
Result<std::string> ReadFile(Filesystem& fs, const Credentials& cred, std::string_view path,
                             std::uint64_t max_bytes = 1ULL << 30);

// Every entry of the directory `path` except "." and "..", in cookie order.
Result<std::vector<DirEntry>> ListDir(Filesystem& fs, const Credentials& cred,
                                      std::string_view path);

// Removes `path` and, for a directory, everything below it (rm -rf); ENOENT if absent.
Status RemoveAll(Filesystem& fs, const Credentials& cred, std::string_view path);

}  // namespace zerofs::vfs
