// Path resolution and the convenience calls of paths.h, built only on the public
// Filesystem interface.
#include "zerofs/vfs/paths.h"

#include <cerrno>
#include <deque>

#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

constexpr std::uint64_t kChunkBytes = 1 << 20;
constexpr std::size_t kListBatch = 1024;

struct SplitPath {
  std::deque<std::string> components;
  bool absolute = false;
  bool trailing_slash = false;
};

SplitPath Split(std::string_view path) {
  SplitPath out;
  out.absolute = !path.empty() && path.front() == '/';
  out.trailing_slash = !path.empty() && path.back() == '/';
  std::size_t pos = 0;
  while (pos < path.size()) {
    const std::size_t slash = path.find('/', pos);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > pos) out.components.emplace_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

Status CheckPath(std::string_view path) {
  if (path.empty()) return Error(ENOENT, "empty path");
  if (path.size() >= kMaxPathBytes) return Error(ENAMETOOLONG, "path too long");
  return Status::Ok();
}

// Walks `components` from `start`, following symlinks (the last one only if `follow_last`).
Result<Attr> Walk(Filesystem& fs, const Credentials& cred, Attr start,
                  std::deque<std::string> components, bool follow_last) {
  Attr cur = std::move(start);
  int links = 0;
  while (!components.empty()) {
    std::string name = std::move(components.front());
    components.pop_front();
    if (!cur.is_dir()) return Error(ENOTDIR, "path component '" + name + "' under a non-directory");
    ZEROFS_ASSIGN_OR_RETURN(Attr next, fs.Lookup(cred, cur.ino, name));
    const bool last = components.empty();
    if (next.is_symlink() && (!last || follow_last)) {
      if (++links > kMaxSymlinkFollows) return Error(ELOOP, "too many levels of symbolic links");
      ZEROFS_ASSIGN_OR_RETURN(std::string target, fs.ReadLink(cred, next.ino));
      SplitPath t = Split(target);
      if (t.absolute) {
        ZEROFS_ASSIGN_OR_RETURN(cur, fs.GetAttr(kRootIno));
      }
      for (auto it = t.components.rbegin(); it != t.components.rend(); ++it) {
        components.push_front(std::move(*it));
      }
      continue;
    }
    cur = std::move(next);
  }
  return cur;
}

Status RemoveTree(Filesystem& fs, const Credentials& cred, Ino parent, const std::string& name,
                  const Attr& attr) {
  if (!attr.is_dir()) return fs.Unlink(cred, parent, name);
  ZEROFS_ASSIGN_OR_RETURN(HandleId h, fs.Open(cred, attr.ino, kOpenReadOnly | kOpenDirectory));
  std::vector<DirEntry> children;
  std::uint64_t cookie = 0;
  Status s;
  for (;;) {
    auto batch = fs.ReadDir(h, cookie, kListBatch);
    if (!batch.ok()) {
      s = batch.status();
      break;
    }
    if (batch->empty()) break;
    for (DirEntry& e : *batch) {
      cookie = e.cookie;
      if (e.name != "." && e.name != "..") children.push_back(std::move(e));
    }
  }
  (void)fs.Release(h);
  ZEROFS_RETURN_IF_ERROR(s);
  for (const DirEntry& e : children) {
    ZEROFS_ASSIGN_OR_RETURN(Attr child, fs.Lookup(cred, attr.ino, e.name));
    ZEROFS_RETURN_IF_ERROR(RemoveTree(fs, cred, attr.ino, e.name, child));
  }
  return fs.Rmdir(cred, parent, name);
}

}  // namespace

Result<Attr> ResolvePath(Filesystem& fs, const Credentials& cred, std::string_view path,
                         bool follow_last) {
  ZEROFS_RETURN_IF_ERROR(CheckPath(path));
  SplitPath p = Split(path);
  ZEROFS_ASSIGN_OR_RETURN(Attr root, fs.GetAttr(kRootIno));
  // A trailing slash asks for a directory, following a final symlink to get one.
  ZEROFS_ASSIGN_OR_RETURN(Attr found, Walk(fs, cred, std::move(root), std::move(p.components),
                                           follow_last || p.trailing_slash));
  if (p.trailing_slash && !found.is_dir()) return Error(ENOTDIR, "'" + std::string(path) + "'");
  return found;
}

Result<ParentAndName> ResolveParent(Filesystem& fs, const Credentials& cred,
                                    std::string_view path) {
  ZEROFS_RETURN_IF_ERROR(CheckPath(path));
  SplitPath p = Split(path);
  if (p.components.empty()) return Error(EINVAL, "'/' has no parent entry");
  ParentAndName out;
  out.name = std::move(p.components.back());
  p.components.pop_back();
  ZEROFS_ASSIGN_OR_RETURN(Attr root, fs.GetAttr(kRootIno));
  ZEROFS_ASSIGN_OR_RETURN(out.parent,
                          Walk(fs, cred, std::move(root), std::move(p.components), true));
  if (!out.parent.is_dir()) return Error(ENOTDIR, "parent of '" + std::string(path) + "'");
  return out;
}

Status MakeDirs(Filesystem& fs, const Credentials& cred, std::string_view path,
                std::uint32_t mode) {
  ZEROFS_RETURN_IF_ERROR(CheckPath(path));
  SplitPath p = Split(path);
  std::string prefix;
  for (const std::string& c : p.components) {
    prefix += "/" + c;
    auto found = ResolvePath(fs, cred, prefix);
    if (found.ok()) {
      if (!found->is_dir()) return Error(ENOTDIR, "'" + prefix + "' is not a directory");
      continue;
    }
    if (ErrnoOf(found.status()) != ENOENT) return found.status();
    ZEROFS_ASSIGN_OR_RETURN(ParentAndName pn, ResolveParent(fs, cred, prefix));
    auto made = fs.Mkdir(cred, pn.parent.ino, pn.name, mode);
    if (!made.ok() && ErrnoOf(made.status()) != EEXIST) return made.status();
  }
  return Status::Ok();
}

Status WriteFile(Filesystem& fs, const Credentials& cred, std::string_view path,
                 std::string_view data, std::uint32_t mode) {
  HandleId h = kNoHandle;
  auto existing = ResolvePath(fs, cred, path);
  if (existing.ok()) {
    if (existing->is_dir()) return Error(EISDIR, "'" + std::string(path) + "'");
    ZEROFS_ASSIGN_OR_RETURN(h, fs.Open(cred, existing->ino, kOpenWriteOnly | kOpenTruncate));
  } else if (ErrnoOf(existing.status()) == ENOENT) {
    ZEROFS_ASSIGN_OR_RETURN(ParentAndName pn, ResolveParent(fs, cred, path));
    ZEROFS_ASSIGN_OR_RETURN(CreateResult created, fs.Create(cred, pn.parent.ino, pn.name, mode,
                                                            kOpenWriteOnly | kOpenTruncate, false));
    h = created.handle;
  } else {
    return existing.status();
  }
  Status s;
  std::uint64_t offset = 0;
  while (s.ok() && offset < data.size()) {
    auto n = fs.Write(h, offset, data.substr(offset, kChunkBytes));
    if (!n.ok()) {
      s = n.status();
    } else {
      offset += *n;
    }
  }
  Status released = fs.Release(h);
  ZEROFS_RETURN_IF_ERROR(s);
  return released;
}

Result<std::string> ReadFile(Filesystem& fs, const Credentials& cred, std::string_view path,
                             std::uint64_t max_bytes) {
  ZEROFS_ASSIGN_OR_RETURN(Attr attr, ResolvePath(fs, cred, path));
  if (attr.is_dir()) return Error(EISDIR, "'" + std::string(path) + "'");
  if (attr.size > max_bytes) return Error(EFBIG, "'" + std::string(path) + "' is too large");
  ZEROFS_ASSIGN_OR_RETURN(HandleId h, fs.Open(cred, attr.ino, kOpenReadOnly));
  std::string out;
  Status s;
  for (;;) {
    auto chunk = fs.Read(h, out.size(), kChunkBytes);
    if (!chunk.ok()) {
      s = chunk.status();
      break;
    }
    if (chunk->empty()) break;
    if (out.size() + chunk->size() > max_bytes) {
      s = Error(EFBIG, "'" + std::string(path) + "' grew too large");
      break;
    }
    out += *chunk;
  }
  Status released = fs.Release(h);
  ZEROFS_RETURN_IF_ERROR(s);
  ZEROFS_RETURN_IF_ERROR(released);
  return out;
}

Result<std::vector<DirEntry>> ListDir(Filesystem& fs, const Credentials& cred,
                                      std::string_view path) {
  ZEROFS_ASSIGN_OR_RETURN(Attr attr, ResolvePath(fs, cred, path));
  ZEROFS_ASSIGN_OR_RETURN(HandleId h, fs.Open(cred, attr.ino, kOpenReadOnly | kOpenDirectory));
  std::vector<DirEntry> out;
  std::uint64_t cookie = 0;
  Status s;
  for (;;) {
    auto batch = fs.ReadDir(h, cookie, kListBatch);
    if (!batch.ok()) {
      s = batch.status();
      break;
    }
    if (batch->empty()) break;
    for (DirEntry& e : *batch) {
      cookie = e.cookie;
      if (e.name != "." && e.name != "..") out.push_back(std::move(e));
    }
  }
  Status released = fs.Release(h);
  ZEROFS_RETURN_IF_ERROR(s);
  ZEROFS_RETURN_IF_ERROR(released);
  return out;
}

Status RemoveAll(Filesystem& fs, const Credentials& cred, std::string_view path) {
  ZEROFS_ASSIGN_OR_RETURN(ParentAndName pn, ResolveParent(fs, cred, path));
  ZEROFS_ASSIGN_OR_RETURN(Attr attr, fs.Lookup(cred, pn.parent.ino, pn.name));
  return RemoveTree(fs, cred, pn.parent.ino, pn.name, attr);
}

}  // namespace zerofs::vfs
