#include "zerofs/objstore/local_store.h"

#include <dirent.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

#include "objstore/local_etag.h"
#include "objstore/local_files.h"
#include "objstore/local_listing.h"
#include "zerofs/common/log.h"

namespace zerofs::objstore {
namespace {

namespace fs = std::filesystem;
using local::EtagOfBytes;
using local::Hex;
using local::UniqueFd;

// Bounded set of lock files; unrelated keys that share a stripe merely serialize.
constexpr std::uint32_t kLockStripes = 256;
// A temporary file this old that nobody holds locked belongs to a writer that died.
constexpr std::chrono::seconds kStaleTempAge{60};
// A put retries when a concurrent delete removes its (empty) directory before the rename.
constexpr int kMaxPutAttempts = 16;
constexpr std::size_t kMaxDurableDirs = 1 << 16;

// FNV-1a: stable across processes and builds, unlike std::hash, because every process that
// opens the directory must pick the same lock file for a key.
std::uint64_t StableHash(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Quoted(std::string_view key) {
  return "'" + std::string(key) + "'";
}

Status KeyError(int err, std::string_view what, std::string_view key) {
  return Status::FromErrno(err, std::string(what) + " " + Quoted(key));
}

Status CheckKey(std::string_view key) {
  const std::string_view first = key.substr(0, key.find('/'));
  if (first.starts_with(LocalStore::kReservedPrefix)) {
    return Status::InvalidArgument("invalid object key " + Quoted(key) +
                                   ": names starting with '.zerofs-' are reserved");
  }
  return Status::Ok();
}

Status Conflict(std::string_view key, std::string_view why) {
  return Status::NotSupported("cannot store " + Quoted(key) + " in a local store: " +
                              std::string(why) + " (a file cannot also be a directory)");
}

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string_view, std::string_view> SplitKey(std::string_view key) {
  const std::size_t slash = key.rfind('/');
  if (slash == std::string_view::npos) return {{}, key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string_view Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

}  // namespace

// The file operations behind the Do* methods. A nested class so that it may use the
// store's descriptors while keeping them out of the public header's interface.
struct LocalStore::Impl {
  struct OpenObject {
    UniqueFd fd;
    struct stat st {};
    std::uint64_t size() const { return static_cast<std::uint64_t>(st.st_size); }
  };

  // A temporary file under .zerofs-local/tmp, removed on destruction unless committed.
  // Its flock tells Open()'s cleaner that a live writer owns it.
  struct TempFile {
    const LocalStore* store = nullptr;
    std::string name;
    UniqueFd fd;
    bool committed = false;
    TempFile() = default;
    TempFile(TempFile&& other) noexcept
        : store(other.store),
          name(std::move(other.name)),
          fd(std::move(other.fd)),
          committed(std::exchange(other.committed, true)) {}
    TempFile& operator=(TempFile&&) = delete;
    ~TempFile() {
      if (!committed && store != nullptr && !name.empty()) {
        ::unlinkat(store->tmp_fd_, name.c_str(), 0);
      }
    }
  };

  static Result<OpenObject> OpenAt(int dir_fd, const std::string& path, std::string_view key) {
    int err = 0;
    OpenObject obj;
    // O_NONBLOCK: a FIFO planted in the directory must not hang the store.
    obj.fd = local::OpenAt(dir_fd, path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK, &err);
    if (!obj.fd.valid()) {
      if (err == ENOENT || err == ENOTDIR || err == ELOOP) {
        return Status::NotFound(Quoted(key) + " does not exist");
      }
      return KeyError(err, "cannot open", key);
    }
    if (::fstat(obj.fd.get(), &obj.st) != 0) return KeyError(errno, "cannot stat", key);
    if (!S_ISREG(obj.st.st_mode)) return Status::NotFound(Quoted(key) + " does not exist");
    return obj;
  }

  static std::optional<std::string> CachedEtag(LocalStore& s, const OpenObject& obj) {
    if (!s.xattr_supported_.load(std::memory_order_relaxed)) return std::nullopt;
    int err = 0;
    std::optional<std::string> etag = local::ReadCachedEtag(obj.fd.get(), obj.st, &err);
    if (err == ENOTSUP) DisableXattrs(s);
    return etag;
  }

  // Best effort: without the cache the etag is recomputed on the next read.
  static void StoreEtag(LocalStore& s, int fd, std::string_view etag, const struct stat& st) {
    if (!s.xattr_supported_.load(std::memory_order_relaxed)) return;
    if (local::WriteCachedEtag(fd, etag, st) == ENOTSUP) DisableXattrs(s);
  }

  static void DisableXattrs(LocalStore& s) {
    if (s.xattr_supported_.exchange(false)) {
      ZEROFS_LOG(kWarn) << s.Describe()
                        << ": the filesystem has no user extended attributes; etags are "
                           "recomputed from the content on every read";
    }
  }

  static Result<std::string> Etag(LocalStore& s, const OpenObject& obj, std::string_view key) {
    if (auto cached = CachedEtag(s, obj)) return *std::move(cached);
    ZEROFS_ASSIGN_OR_RETURN(std::string etag,
                            local::EtagOfFile(obj.fd.get(), obj.size(), Quoted(key)));
    StoreEtag(s, obj.fd.get(), etag, obj.st);
    return etag;
  }

  // Takes the exclusive flock that serializes every put and delete of `key`, across
  // threads and processes: each call opens its own descriptor, and flock(2) locks
  // belong to the open file description.
  static Result<UniqueFd> LockKey(const LocalStore& s, std::string_view key) {
    char name[8];
    std::snprintf(name, sizeof name, "%02x", static_cast<unsigned>(StableHash(key) % kLockStripes));
    int err = 0;
    UniqueFd fd = local::OpenAt(s.locks_fd_, name, O_RDWR | O_CREAT | O_NOFOLLOW, &err, 0644);
    if (!fd.valid()) return KeyError(err, "cannot open the lock file for", key);
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return KeyError(errno, "cannot lock", key);
    }
    return fd;
  }

  // Makes the entry of directory `dir_fd` in `parent_fd` durable, unless this process
  // already did (a directory another process just created may not be durable yet).
  static Status EnsureDurable(LocalStore& s, int parent_fd, int dir_fd, bool created,
                              std::string_view key) {
    DirId id{};
    struct statx stx {};
    if (::statx(dir_fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &stx) == 0) {
      const std::int64_t btime = (stx.stx_mask & STATX_BTIME) != 0
                                     ? stx.stx_btime.tv_sec * 1'000'000'000 + stx.stx_btime.tv_nsec
                                     : 0;
      id = DirId{makedev(stx.stx_dev_major, stx.stx_dev_minor), stx.stx_ino, btime};
    } else {
      struct stat st {};
      if (::fstat(dir_fd, &st) != 0) return KeyError(errno, "cannot stat a directory of", key);
      id = DirId{st.st_dev, st.st_ino, 0};
    }
    if (!created) {
      std::lock_guard lock(s.durable_mu_);
      if (s.durable_dirs_.count(id) != 0) return Status::Ok();
    }
    if (int err = local::Fsync(parent_fd)) return KeyError(err, "cannot fsync a directory of", key);
    std::lock_guard lock(s.durable_mu_);
    if (s.durable_dirs_.size() >= kMaxDurableDirs) s.durable_dirs_.clear();
    s.durable_dirs_.insert(id);
    return Status::Ok();
  }

  // Opens directory `dir` ("" for the root), creating missing components. kNotFound means
  // a concurrent delete removed a component on the way; the caller retries.
  static Result<UniqueFd> OpenDirForPut(LocalStore& s, std::string_view dir, std::string_view key) {
    int err = 0;
    UniqueFd cur = local::OpenAt(s.root_fd_, ".", O_RDONLY | O_DIRECTORY, &err);
    if (!cur.valid()) return KeyError(err, "cannot open the store directory for", key);
    std::size_t start = 0;
    while (start < dir.size()) {
      std::size_t end = dir.find('/', start);
      if (end == std::string_view::npos) end = dir.size();
      const std::string component(dir.substr(start, end - start));
      constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
      bool created = false;
      UniqueFd next = local::OpenAt(cur.get(), component.c_str(), kDirFlags, &err);
      if (!next.valid() && err == ENOENT) {
        if (::mkdirat(cur.get(), component.c_str(), 0755) == 0) {
          created = true;
        } else if (errno != EEXIST) {  // EEXIST: a concurrent put created it first
          return KeyError(errno, "cannot create a directory for", key);
        }
        next = local::OpenAt(cur.get(), component.c_str(), kDirFlags, &err);
      }
      if (!next.valid()) {
        if (err == ENOTDIR || err == ELOOP) {
          return Conflict(key, "object " + Quoted(dir.substr(0, end)) + " exists");
        }
        return KeyError(err, "cannot open a directory for", key);
      }
      ZEROFS_RETURN_IF_ERROR(EnsureDurable(s, cur.get(), next.get(), created, key));
      cur = std::move(next);
      start = end + 1;
    }
    return cur;
  }

  static Result<TempFile> WriteTemp(LocalStore& s, std::string_view data, std::string_view etag,
                                    std::string_view key) {
    TempFile tmp;
    tmp.store = &s;
    int err = EEXIST;
    for (int attempt = 0; attempt < 4 && err == EEXIST; ++attempt) {
      unsigned char random[16];
      randombytes_buf(random, sizeof random);
      tmp.name = Hex(random, sizeof random) + ".tmp";
      tmp.fd = local::OpenAt(s.tmp_fd_, tmp.name.c_str(), O_WRONLY | O_CREAT | O_EXCL, &err, 0644);
    }
    if (!tmp.fd.valid()) {
      tmp.name.clear();
      return KeyError(err, "cannot create a temporary file for", key);
    }
    while (::flock(tmp.fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return KeyError(errno, "cannot lock the temporary file for", key);
    }
    if (int e = local::WriteAll(tmp.fd.get(), data)) return KeyError(e, "cannot write", key);
    struct stat st {};
    if (::fstat(tmp.fd.get(), &st) != 0) return KeyError(errno, "cannot stat", key);
    StoreEtag(s, tmp.fd.get(), etag, st);
    if (int e = local::Fsync(tmp.fd.get())) return KeyError(e, "cannot fsync", key);
    return tmp;
  }

  // The decisive check of a conditional put; called with the key's lock held.
  static Status CheckCondition(LocalStore& s, int dir_fd, const std::string& name,
                               std::string_view key, const PutOptions& options) {
    switch (options.condition) {
      case PutCondition::kNone: return Status::Ok();
      case PutCondition::kIfNoneMatch: {
        struct stat st {};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
          if (S_ISDIR(st.st_mode)) return Status::Ok();  // the rename reports the conflict
          return Status::PreconditionFailed(Quoted(key) + " exists (If-None-Match: *)");
        }
        if (errno == ENOENT) return Status::Ok();
        return KeyError(errno, "cannot stat", key);
      }
      case PutCondition::kIfMatch: {
        Result<OpenObject> current = OpenAt(dir_fd, name, key);
        if (!current.ok()) {
          if (current.status().IsNotFound()) {
            return Status::PreconditionFailed(Quoted(key) + " does not exist (If-Match)");
          }
          return current.status();
        }
        ZEROFS_ASSIGN_OR_RETURN(std::string etag, Etag(s, *current, key));
        if (etag != Unquote(options.if_match_etag)) {
          return Status::PreconditionFailed(Quoted(key) + " has etag " + etag + ", not " +
                                            options.if_match_etag + " (If-Match)");
        }
        return Status::Ok();
      }
    }
    return Status::Internal("unknown put condition");
  }

  // Unlinks `key` under its lock; adds its directory to `dirs` if something was removed.
  static Status Unlink(LocalStore& s, const std::string& key, std::vector<std::string>* dirs) {
    ZEROFS_ASSIGN_OR_RETURN(UniqueFd lock, LockKey(s, key));
    if (::unlinkat(s.root_fd_, key.c_str(), 0) == 0) {
      dirs->emplace_back(SplitKey(key).first);
      return Status::Ok();
    }
    // Nothing to delete: missing, a path through a file, or a directory of other keys.
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Status::Ok();
    return KeyError(errno, "cannot delete", key);
  }

  // Removes `dir` and its ancestors while they are empty. Failures are harmless: a
  // directory that is not empty, or already gone, stays as it is.
  static void Prune(const LocalStore& s, std::string_view dir) {
    while (!dir.empty()) {
      if (::unlinkat(s.root_fd_, std::string(dir).c_str(), AT_REMOVEDIR) != 0) return;
      dir = SplitKey(dir).first;
    }
  }

  static void RemoveStaleTempFiles(const LocalStore& s) {
    int err = 0;
    UniqueFd fd = local::OpenAt(s.tmp_fd_, ".", O_RDONLY | O_DIRECTORY, &err);
    if (!fd.valid()) return;
    DIR* dir = ::fdopendir(fd.Release());
    if (dir == nullptr) return;
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string_view name(entry->d_name);
      if (name.ends_with(".tmp")) names.emplace_back(name);
    }
    ::closedir(dir);
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const std::int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    const std::int64_t min_age_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(kStaleTempAge).count();
    int removed = 0;
    for (const std::string& name : names) {
      UniqueFd file =
          local::OpenAt(s.tmp_fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK, &err);
      struct stat st {};
      if (!file.valid() || ::fstat(file.get(), &st) != 0) continue;
      if (now_ns - local::MtimeNs(st) < min_age_ns) continue;
      // A live writer holds its temporary file locked until it is renamed away.
      if (::flock(file.get(), LOCK_EX | LOCK_NB) != 0) continue;
      if (::unlinkat(s.tmp_fd_, name.c_str(), 0) == 0) ++removed;
    }
    if (removed > 0) {
      ZEROFS_LOG(kInfo) << s.Describe() << ": removed " << removed
                        << " temporary file(s) left by interrupted writers";
    }
  }

  static Status FsyncPath(const fs::path& path) {
    int err = 0;
    UniqueFd fd = local::OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY, &err);
    if (!fd.valid()) return Status::FromErrno(err, "cannot open directory " + path.string());
    if (int e = local::Fsync(fd.get())) {
      return Status::FromErrno(e, "cannot fsync " + path.string());
    }
    return Status::Ok();
  }

  static Result<UniqueFd> MakeInternalDir(int parent_fd, const char* name, const fs::path& root) {
    if (::mkdirat(parent_fd, name, 0755) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "cannot create internal directory in " + root.string());
    }
    int err = 0;
    UniqueFd fd = local::OpenAt(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, &err);
    if (!fd.valid()) {
      return Status::FromErrno(err, "cannot open internal directory in " + root.string());
    }
    return fd;
  }
};

LocalStore::LocalStore(fs::path root, int root_fd, int tmp_fd, int locks_fd)
    : root_(std::move(root)), root_fd_(root_fd), tmp_fd_(tmp_fd), locks_fd_(locks_fd) {}

LocalStore::~LocalStore() {
  ::close(locks_fd_);
  ::close(tmp_fd_);
  ::close(root_fd_);
}

std::string LocalStore::Describe() const {
  return "file://" + root_.string();
}

Result<std::shared_ptr<LocalStore>> LocalStore::Open(const fs::path& path) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialize");
  std::error_code ec;
  fs::path root = fs::absolute(path, ec).lexically_normal();
  if (ec) return Status::FromErrno(ec.value(), "invalid store directory " + path.string());
  if (!root.has_filename() && root.has_parent_path() && root != root.root_path()) {
    root = root.parent_path();  // "/a/b/" -> "/a/b"
  }
  // Remember the deepest existing ancestor: every directory created below it gains an
  // entry in its parent that must be made durable.
  fs::path existing = root;
  while (!fs::exists(existing, ec) && existing != existing.root_path()) {
    existing = existing.parent_path();
  }
  fs::create_directories(root, ec);
  if (ec) return Status::FromErrno(ec.value(), "cannot create store directory " + root.string());
  if (existing != root) {
    for (fs::path dir = root.parent_path();; dir = dir.parent_path()) {
      ZEROFS_RETURN_IF_ERROR(Impl::FsyncPath(dir));
      if (dir == existing || dir == dir.root_path()) break;
    }
  }

  int err = 0;
  UniqueFd root_fd = local::OpenAt(AT_FDCWD, root.c_str(), O_RDONLY | O_DIRECTORY, &err);
  if (!root_fd.valid()) {
    if (err == ENOTDIR) return Status::InvalidArgument(root.string() + " is not a directory");
    return Status::FromErrno(err, "cannot open store directory " + root.string());
  }
  ZEROFS_ASSIGN_OR_RETURN(UniqueFd internal,
                          Impl::MakeInternalDir(root_fd.get(), kInternalDirName, root));
  ZEROFS_ASSIGN_OR_RETURN(UniqueFd tmp, Impl::MakeInternalDir(internal.get(), "tmp", root));
  ZEROFS_ASSIGN_OR_RETURN(UniqueFd locks, Impl::MakeInternalDir(internal.get(), "locks", root));

  std::shared_ptr<LocalStore> store(
      new LocalStore(root, root_fd.Release(), tmp.Release(), locks.Release()));
  // Prove the directory writable (mkdir of an existing directory says nothing) and probe
  // extended attributes on the same filesystem as the objects.
  {
    Result<Impl::TempFile> probe = Impl::WriteTemp(*store, "", EtagOfBytes(""), "probe");
    if (!probe.ok()) {
      return Status(probe.status().code(),
                    store->Describe() + " is not writable: " + probe.status().message());
    }
  }
  Impl::RemoveStaleTempFiles(*store);
  return store;
}

Result<GetResult> LocalStore::DoGet(std::string_view key, std::optional<ByteRange> range) {
  ZEROFS_RETURN_IF_ERROR(CheckKey(key));
  const std::string k(key);
  ZEROFS_ASSIGN_OR_RETURN(Impl::OpenObject obj, Impl::OpenAt(root_fd_, k, key));
  const std::uint64_t size = obj.size();
  std::uint64_t offset = 0;
  std::uint64_t length = size;
  if (range.has_value()) {
    if (range->offset > size) {
      return Status::InvalidArgument(Quoted(key) + ": range starts at " +
                                     std::to_string(range->offset) + ", past the end (" +
                                     std::to_string(size) + " bytes)");
    }
    offset = range->offset;
    length = std::min(range->length, size - offset);
  }
  GetResult out;
  out.data.resize(length);
  std::size_t got = 0;
  if (int err = local::ReadFullAt(obj.fd.get(), out.data.data(), length, offset, &got)) {
    return KeyError(err, "cannot read", key);
  }
  if (got != length) return Status::IoError(Quoted(key) + " shrank while being read");
  std::optional<std::string> etag = Impl::CachedEtag(*this, obj);
  if (!etag.has_value()) {
    if (length == size) {
      etag = EtagOfBytes(out.data);
      Impl::StoreEtag(*this, obj.fd.get(), *etag, obj.st);
    } else {
      ZEROFS_ASSIGN_OR_RETURN(etag, Impl::Etag(*this, obj, key));
    }
  }
  out.info = ObjectInfo{k, size, *std::move(etag)};
  return out;
}

Result<ObjectInfo> LocalStore::DoHead(std::string_view key) {
  ZEROFS_RETURN_IF_ERROR(CheckKey(key));
  const std::string k(key);
  ZEROFS_ASSIGN_OR_RETURN(Impl::OpenObject obj, Impl::OpenAt(root_fd_, k, key));
  ZEROFS_ASSIGN_OR_RETURN(std::string etag, Impl::Etag(*this, obj, key));
  return ObjectInfo{k, obj.size(), std::move(etag)};
}

Result<ObjectInfo> LocalStore::DoPut(std::string_view key, std::string_view data,
                                     const PutOptions& options) {
  ZEROFS_RETURN_IF_ERROR(CheckKey(key));
  const std::string k(key);
  const auto [dir, name_view] = SplitKey(key);
  const std::string name(name_view);
  if (options.condition == PutCondition::kIfNoneMatch) {
    // Fail fast, before writing the data, when the create has already lost; the decisive
    // check is repeated under the lock.
    struct stat st {};
    if (::fstatat(root_fd_, k.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      return Status::PreconditionFailed(Quoted(key) + " exists (If-None-Match: *)");
    }
  }
  const std::string etag = EtagOfBytes(data);
  ZEROFS_ASSIGN_OR_RETURN(Impl::TempFile tmp, Impl::WriteTemp(*this, data, etag, key));
  for (int attempt = 1;; ++attempt) {
    const bool may_retry = attempt < kMaxPutAttempts;
    Result<UniqueFd> dir_fd = Impl::OpenDirForPut(*this, dir, key);
    if (!dir_fd.ok()) {
      if (dir_fd.status().IsNotFound() && may_retry) continue;
      return dir_fd.status();
    }
    ZEROFS_ASSIGN_OR_RETURN(UniqueFd lock, Impl::LockKey(*this, key));
    ZEROFS_RETURN_IF_ERROR(Impl::CheckCondition(*this, dir_fd->get(), name, key, options));
    if (::renameat(tmp_fd_, tmp.name.c_str(), dir_fd->get(), name.c_str()) != 0) {
      const int err = errno;
      // The directory was removed by a concurrent delete after we opened it.
      if (err == ENOENT && may_retry) continue;
      if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
        // A directory sits at the key: an empty one (left by an interrupted delete) may go.
        if (::unlinkat(dir_fd->get(), name.c_str(), AT_REMOVEDIR) == 0 && may_retry) continue;
        return Conflict(key, "other keys start with " + Quoted(k + "/"));
      }
      return KeyError(err, "cannot rename into place", key);
    }
    tmp.committed = true;
    // The object is visible now; success means it is also durable.
    if (int err = local::Fsync(dir_fd->get())) {
      return KeyError(err, "cannot fsync the directory of", key);
    }
    return ObjectInfo{k, data.size(), etag};
  }
}

Result<ListPageResult> LocalStore::DoListPage(std::string_view prefix, std::string_view start_after,
                                              std::uint32_t max_keys) {
  // One key more than the page holds tells whether the listing goes on.
  const std::size_t limit = std::size_t{max_keys} + 1;
  std::string after(start_after);
  for (;;) {
    ListPageResult page;
    std::string last_offered;
    const local::KeyVisitor visit = [&](const std::string& key) -> Status {
      last_offered = key;
      if (page.objects.size() == max_keys) return Status::Ok();
      Result<Impl::OpenObject> obj = Impl::OpenAt(root_fd_, key, key);
      if (!obj.ok()) {
        if (obj.status().IsNotFound()) return Status::Ok();  // deleted while we listed
        return obj.status();
      }
      ZEROFS_ASSIGN_OR_RETURN(std::string etag, Impl::Etag(*this, *obj, key));
      page.objects.push_back(ObjectInfo{key, obj->size(), std::move(etag)});
      return Status::Ok();
    };
    ZEROFS_ASSIGN_OR_RETURN(
        const std::size_t offered,
        local::WalkKeys(root_fd_, prefix, after, kReservedPrefix, limit, visit));
    // Keys may follow when the walk stopped at its limit. A page whose keys all vanished
    // meanwhile would be empty yet truncated, which callers may take for a broken
    // listing: walk on past them instead.
    page.truncated = offered == limit;
    if (!page.truncated || !page.objects.empty()) return page;
    after = last_offered;
  }
}

Status LocalStore::DoDelete(std::string_view key) {
  const std::string k(key);
  return DoDeleteMany(std::span<const std::string>(&k, 1));
}

Status LocalStore::DoDeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) ZEROFS_RETURN_IF_ERROR(CheckKey(key));
  std::vector<std::string> dirs;
  Status status;
  for (const std::string& key : keys) {
    status = Impl::Unlink(*this, key, &dirs);
    if (!status.ok()) break;
  }
  // Descendants before their ancestors (reverse order), so pruning a child can empty its
  // parent.
  std::sort(dirs.begin(), dirs.end(), std::greater<>());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (const std::string& dir : dirs) {
    int err = 0;
    UniqueFd fd = local::OpenAt(root_fd_, dir.empty() ? "." : dir.c_str(),
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW, &err);
    if (!fd.valid()) continue;  // removed meanwhile: nothing left in it to make durable
    if (int e = local::Fsync(fd.get()); e != 0 && status.ok()) {
      status = Status::FromErrno(e, "cannot fsync directory " + Quoted(dir) + " after delete");
    }
  }
  for (const std::string& dir : dirs) Impl::Prune(*this, dir);
  return status;
}

}  // namespace zerofs::objstore
