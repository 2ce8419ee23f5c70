// WalkKeys: the regular files of a directory tree, offered in the byte order of their keys
// (paths relative to the root with '/' separators), as an S3 listing orders them.
//
// readdir(3) returns entries in no particular order, and a directory's keys do not sort
// where its name does: "a-b" < "a/b" < "a0" because '-' < '/' < '0'. Every key below
// directory "a" starts with "a/", and no sibling entry shares that prefix, so the keys of
// a directory form one contiguous run, placed where "a/" sorts among its siblings. Sorting
// each directory's entries by name, with '/' appended to directory names, and recursing
// in that order therefore yields every key in order. Subtrees wholly before `start_after`
// and directories outside `prefix` are never opened.
//
// A walk offers at most `limit` keys. Each directory is read once per walk, but only its
// `limit` smallest files (and the subdirectories sorting before them) are kept and sorted,
// so memory and sorting stay bounded by the page size, not by the size of the directory.
//
// Internal to LocalStore (header-only, one user). Thread-safety: no shared state; the tree
// may change during the walk (entries that vanish are skipped).
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "objstore/local_files.h"
#include "zerofs/objstore/object_store.h"

namespace zerofs::objstore::local {

// Called for each key offered, in order; an error aborts the walk.
using KeyVisitor = std::function<Status(const std::string& key)>;

namespace walk_internal {

struct Entry {
  std::string sort_name;  // the name, with '/' appended for a directory
  bool is_dir = false;
  friend bool operator<(const Entry& a, const Entry& b) { return a.sort_name < b.sort_name; }
};

struct Walk {
  int root_fd;
  std::string_view start_after;
  std::string_view reserved_prefix;
  std::size_t limit;
  const KeyVisitor& visit;
  std::size_t offered = 0;
};

// Whether an entry of a directory can hold keys after start_after, given `rest`: the part
// of start_after after the directory's own path.
inline bool AfterStart(const Entry& e, std::string_view rest) {
  if (e.is_dir) return rest.starts_with(e.sort_name) || std::string_view(e.sort_name) > rest;
  return std::string_view(e.sort_name) > rest;
}

// Reads directory `dir` ("" for the root) into `entries`, sorted, keeping what may hold
// one of the next `keep` keys: names starting with `name_prefix`, after start_after, and
// not reserved (at the root).
inline Status ReadDir(const Walk& w, const std::string& dir, std::string_view name_prefix,
                      std::size_t keep, std::vector<Entry>* entries) {
  const std::string base = dir.empty() ? std::string() : dir + "/";
  std::string_view rest;  // empty: every key here sorts after start_after
  if (!w.start_after.empty()) {
    if (!w.start_after.starts_with(base)) {
      if (std::string_view(base) < w.start_after) return Status::Ok();  // all before it
    } else {
      rest = w.start_after.substr(base.size());
    }
  }
  int err = 0;
  UniqueFd fd =
      OpenAt(w.root_fd, dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, &err);
  if (!fd.valid()) {
    // Gone, or not a directory: it holds no keys.
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) return Status::Ok();
    return Status::FromErrno(err, "cannot list directory '" + dir + "'");
  }
  DIR* handle = ::fdopendir(fd.get());
  if (handle == nullptr) return Status::FromErrno(errno, "cannot list directory '" + dir + "'");
  fd.Release();                      // now owned by `handle`
  std::priority_queue<Entry> files;  // the `keep` smallest, largest on top
  std::vector<Entry> dirs;
  errno = 0;
  while (const dirent* ent = ::readdir(handle)) {
    const std::string_view name(ent->d_name);
    if (name == "." || name == ".." || !name.starts_with(name_prefix) ||
        (dir.empty() && name.starts_with(w.reserved_prefix))) {
      continue;
    }
    unsigned char type = ent->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(::dirfd(handle), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type != DT_DIR && type != DT_REG) continue;  // symlinks, sockets... are not objects
    Entry entry{type == DT_DIR ? std::string(name) + "/" : std::string(name), type == DT_DIR};
    if (!AfterStart(entry, rest)) continue;
    if (entry.is_dir) {
      dirs.push_back(std::move(entry));
    } else if (files.size() < keep) {
      files.push(std::move(entry));
    } else if (entry < files.top()) {
      files.pop();
      files.push(std::move(entry));
    }
  }
  const int read_err = errno;
  ::closedir(handle);
  if (read_err != 0) return Status::FromErrno(read_err, "cannot list directory '" + dir + "'");
  // With `keep` files found, directories sorting after all of them cannot contribute.
  if (files.size() == keep && keep > 0) {
    const Entry& last = files.top();
    std::erase_if(dirs, [&](const Entry& d) { return last < d; });
  }
  entries->reserve(files.size() + dirs.size());
  for (; !files.empty(); files.pop()) entries->push_back(files.top());
  for (Entry& d : dirs) entries->push_back(std::move(d));
  std::sort(entries->begin(), entries->end());
  return Status::Ok();
}

inline Status WalkDir(Walk& w, const std::string& dir, std::string_view name_prefix) {
  if (w.offered == w.limit) return Status::Ok();
  std::vector<Entry> entries;
  ZEROFS_RETURN_IF_ERROR(ReadDir(w, dir, name_prefix, w.limit - w.offered, &entries));
  const std::string base = dir.empty() ? std::string() : dir + "/";
  for (const Entry& entry : entries) {
    if (w.offered == w.limit) return Status::Ok();
    std::string full = base + entry.sort_name;
    if (entry.is_dir) {
      full.pop_back();  // the '/'
      ZEROFS_RETURN_IF_ERROR(WalkDir(w, full, {}));
    } else {
      ++w.offered;
      ZEROFS_RETURN_IF_ERROR(w.visit(full));
    }
  }
  return Status::Ok();
}

}  // namespace walk_internal

// Offers, in order, the first `limit` keys that start with `prefix` and sort after
// `start_after` (fewer if there are fewer). Root entries starting with `reserved_prefix`
// are skipped. Returns the number of keys offered.
inline Result<std::size_t> WalkKeys(int root_fd, std::string_view prefix,
                                    std::string_view start_after, std::string_view reserved_prefix,
                                    std::size_t limit, const KeyVisitor& visit) {
  // Start in the deepest directory the prefix names completely: "segments/00" walks
  // "segments" for names starting with "00".
  const std::size_t slash = prefix.rfind('/');
  std::string dir;
  std::string_view name_prefix = prefix;
  if (slash != std::string_view::npos) {
    dir = std::string(prefix.substr(0, slash));
    name_prefix = prefix.substr(slash + 1);
    // No valid key lies below an invalid path ("a//", "../x") or a reserved name.
    if (!ValidateKey(dir).ok() || dir.starts_with(reserved_prefix)) return std::size_t{0};
  }
  walk_internal::Walk w{root_fd, start_after, reserved_prefix, limit, visit};
  ZEROFS_RETURN_IF_ERROR(walk_internal::WalkDir(w, dir, name_prefix));
  return w.offered;
}

}  // namespace zerofs::objstore::local
