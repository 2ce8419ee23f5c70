#include "zerofs/cache/disk_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "cache/disk_cache_entry.h"
#include "zerofs/common/coding.h"
#include "zerofs/common/log.h"

namespace zerofs::cache {

namespace {

constexpr std::string_view kTempPrefix = ".tmp-";
constexpr std::size_t kEntryNameBytes = 16 + 1 + 16;
// A hit updates its entry's modification time when it is older than this.
constexpr std::time_t kTouchIntervalSeconds = 60;
// Below this, a full disk disables the cache rather than shrinking it further.
constexpr std::uint64_t kMinUsefulLimitBytes = 1 << 20;

int SubdirOf(const FrameId& id) {
  return static_cast<int>(MixFrameId(id) >> 56);
}

std::string SubdirName(int subdir) {
  return coding::HexU64(static_cast<std::uint64_t>(subdir), 2);
}

std::string EntryName(const FrameId& id) {
  return coding::HexU64(id.seq) + "-" + coding::HexU64(id.offset);
}

std::string RelativePath(const FrameId& id) {
  return SubdirName(SubdirOf(id)) + "/" + EntryName(id);
}

std::optional<FrameId> ParseEntryName(std::string_view name) {
  constexpr std::size_t kDigits = coding::kHexU64Digits;
  if (name.size() != kEntryNameBytes || name[kDigits] != '-') return std::nullopt;
  const auto seq = coding::ParseHexU64(name.substr(0, kDigits));
  const auto offset = coding::ParseHexU64(name.substr(kDigits + 1));
  if (!seq.has_value() || !offset.has_value()) return std::nullopt;
  return FrameId{*seq, *offset};
}

std::uint64_t ChargeFor(std::uint64_t file_bytes) {
  return (file_bytes + DiskCache::kBlockBytes - 1) / DiskCache::kBlockBytes *
         DiskCache::kBlockBytes;
}

// Writes all of `data`; 0 or an errno value.
int WriteFully(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

// Reads the whole file behind `fd` (at most `max_bytes`) and its status; 0 or an errno
// value. EFBIG when the file is larger than `max_bytes`.
int ReadFully(int fd, std::size_t max_bytes, std::string* out, struct stat* st_out) {
  struct stat& st = *st_out;
  if (::fstat(fd, &st) != 0) return errno;
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_bytes) return EFBIG;
  out->resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out->size()) {
    const ssize_t n = ::pread(fd, out->data() + done, out->size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;  // shrank while we read: the decoder reports the short file
    done += static_cast<std::size_t>(n);
  }
  out->resize(done);
  return 0;
}

std::string ErrnoText(int err) {
  return std::strerror(err);
}

}  // namespace

Result<std::unique_ptr<DiskCache>> DiskCache::Open(const std::filesystem::path& dir,
                                                   std::uint64_t capacity_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::IoError("disk cache: cannot create " + dir.string() + ": " + ec.message());
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Status::FromErrno(errno, "disk cache: opening " + dir.string());
  const int lock_fd = ::openat(dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) {
    const int err = errno;
    ::close(dir_fd);
    return Status::FromErrno(err, "disk cache: creating " + (dir / "LOCK").string());
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd);
    ::close(dir_fd);
    if (err == EWOULDBLOCK) {
      return Status::IoError("disk cache: " + dir.string() +
                             " is in use by another process (or another cache in this one)");
    }
    return Status::FromErrno(err, "disk cache: locking " + (dir / "LOCK").string());
  }
  std::unique_ptr<DiskCache> cache(new DiskCache(dir, dir_fd, lock_fd, capacity_bytes));
  ZEROFS_RETURN_IF_ERROR(cache->Scan());
  const DiskCacheStats stats = cache->Stats();
  ZEROFS_LOG(kInfo) << "disk cache " << dir.string() << ": " << stats.entries << " entries, "
                    << stats.bytes << " of " << capacity_bytes << " bytes";
  return cache;
}

DiskCache::DiskCache(std::filesystem::path dir, int dir_fd, int lock_fd,
                     std::uint64_t capacity_bytes)
    : dir_(std::move(dir)),
      dir_fd_(dir_fd),
      lock_fd_(lock_fd),
      capacity_bytes_(capacity_bytes),
      limit_bytes_(capacity_bytes) {}

DiskCache::~DiskCache() {
  ::close(lock_fd_);
  ::close(dir_fd_);
}

std::filesystem::path DiskCache::EntryPath(const FrameId& id) const {
  return dir_ / RelativePath(id);
}

Status DiskCache::Scan() {
  struct Found {
    FrameId id;
    std::uint64_t charge;
    std::int64_t mtime_ns;
  };
  std::vector<Found> found;
  std::uint64_t torn = 0;
  for (int sub = 0; sub < kSubdirCount; ++sub) {
    const std::string name = SubdirName(sub);
    const int sub_fd = ::openat(dir_fd_, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sub_fd < 0 && errno == ENOENT) continue;  // created by the first entry it gets
    if (sub_fd < 0)
      return Status::FromErrno(errno, "disk cache: opening " + (dir_ / name).string());
    DIR* listing = ::fdopendir(sub_fd);
    if (listing == nullptr) {
      const int err = errno;
      ::close(sub_fd);
      return Status::FromErrno(err, "disk cache: listing " + (dir_ / name).string());
    }
    while (const dirent* e = ::readdir(listing)) {
      const std::string_view file = e->d_name;
      if (file == "." || file == "..") continue;
      if (file.substr(0, kTempPrefix.size()) == kTempPrefix) {
        // A write that a crash interrupted.
        ::unlinkat(sub_fd, e->d_name, 0);
        continue;
      }
      const std::optional<FrameId> id = ParseEntryName(file);
      if (!id.has_value()) continue;  // not ours; leave it alone
      struct stat st {};
      if (::fstatat(sub_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
      const auto size = static_cast<std::uint64_t>(st.st_size);
      if (SubdirOf(*id) != sub || size < disk_entry::kHeaderBytes) {
        // Misplaced (never found by Lookup) or torn before its header was complete.
        ::unlinkat(sub_fd, e->d_name, 0);
        ++torn;
        continue;
      }
      found.push_back({*id, ChargeFor(size),
                       std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec});
    }
    ::closedir(listing);
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.id < b.id;
  });
  std::lock_guard lock(mu_);
  counters_.dropped_damaged += torn;
  for (const Found& f : found) {
    lru_.push_front(f.id);
    index_.emplace(f.id, Entry{f.charge, next_generation_++, lru_.begin()});
    bytes_ += f.charge;
  }
  EvictLocked();
  return Status::Ok();
}

void DiskCache::RemoveLocked(std::map<FrameId, Entry>::iterator it) {
  const std::string path = RelativePath(it->first);
  if (::unlinkat(dir_fd_, path.c_str(), 0) != 0 && errno != ENOENT) {
    OnIoErrorLocked(errno, "deleting " + path);
  }
  bytes_ -= it->second.charge;
  lru_.erase(it->second.lru);
  index_.erase(it);
}

void DiskCache::EvictLocked() {
  while (bytes_ > limit_bytes_ && !lru_.empty()) {
    RemoveLocked(index_.find(lru_.back()));
    ++counters_.evictions;
  }
}

void DiskCache::OnIoErrorLocked(int err, std::string_view what) {
  ++counters_.io_errors;
  if (err == ENOSPC || err == EDQUOT) {
    // Make room for the rest of the disk's users: give back an eighth of what we hold.
    const std::uint64_t shrunk = bytes_ - bytes_ / 8;
    limit_bytes_ = std::min(limit_bytes_, shrunk < kMinUsefulLimitBytes ? 0 : shrunk);
    if (!logged_no_space_) {
      logged_no_space_ = true;
      ZEROFS_LOG(kWarn) << "disk cache " << dir_.string() << ": " << what << ": " << ErrnoText(err)
                        << "; limiting the cache to " << limit_bytes_ << " bytes (configured "
                        << capacity_bytes_ << ")";
    }
    EvictLocked();
    return;
  }
  if (enabled_) {
    enabled_ = false;
    ZEROFS_LOG(kError) << "disk cache " << dir_.string() << " disabled: " << what << ": "
                       << ErrnoText(err) << "; reads that miss memory now go to the bucket";
  }
}

void DiskCache::DropDamaged(const FrameId& id, std::uint64_t generation, const Status& why) {
  std::lock_guard lock(mu_);
  const auto it = index_.find(id);
  if (it == index_.end() || it->second.generation != generation) return;
  ++counters_.dropped_damaged;
  if (!logged_damage_) {
    logged_damage_ = true;
    ZEROFS_LOG(kWarn) << "disk cache " << dir_.string() << ": deleting damaged entry ("
                      << why.message() << "); further ones are logged at debug level";
  } else {
    ZEROFS_LOG(kDebug) << "disk cache: deleting damaged entry (" << why.message() << ")";
  }
  RemoveLocked(it);
}

Result<std::optional<std::string>> DiskCache::Lookup(const FrameId& id) {
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    const auto it = enabled_ ? index_.find(id) : index_.end();
    if (it == index_.end()) {
      ++counters_.misses;
      return std::optional<std::string>();
    }
    generation = it->second.generation;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  const std::string path = RelativePath(id);
  const int fd = ::openat(dir_fd_, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    DropDamaged(id, generation, Status::FromErrno(err, "opening " + path));
    std::lock_guard lock(mu_);
    ++counters_.misses;
    return std::optional<std::string>();
  }
  std::string file;
  struct stat st {};
  const int err = ReadFully(fd, disk_entry::kHeaderBytes + disk_entry::kMaxDataBytes, &file, &st);
  Status problem = err != 0 ? Status::FromErrno(err, "reading " + path) : Status::Ok();
  std::size_t data_bytes = 0;
  if (problem.ok()) {
    Result<std::string_view> data = disk_entry::Decode(file, id);
    if (data.ok()) {
      data_bytes = data->size();
    } else {
      problem = data.status();
    }
  }
  if (problem.ok() && std::time(nullptr) - st.st_mtim.tv_sec > kTouchIntervalSeconds) {
    // Remember the hit across restarts (Open orders entries by modification time), but
    // not on every hit: each touch is a metadata write.
    ::futimens(fd, nullptr);
  }
  ::close(fd);
  if (!problem.ok()) {
    DropDamaged(id, generation, problem);
    std::lock_guard lock(mu_);
    ++counters_.misses;
    return std::optional<std::string>();
  }
  file.erase(0, file.size() - data_bytes);
  std::lock_guard lock(mu_);
  ++counters_.hits;
  return std::optional<std::string>(std::move(file));
}

void DiskCache::Insert(const FrameId& id, std::string_view bytes) {
  if (bytes.size() > disk_entry::kMaxDataBytes) return;
  const std::uint64_t charge = ChargeFor(disk_entry::kHeaderBytes + bytes.size());
  std::string temp;
  {
    std::lock_guard lock(mu_);
    if (!enabled_ || charge > limit_bytes_ || index_.count(id) != 0) return;
    temp = SubdirName(SubdirOf(id)) + "/" + std::string(kTempPrefix) + std::to_string(next_temp_++);
  }
  const std::string entry = disk_entry::Encode(id, bytes);
  int err = 0;
  constexpr int kCreateFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  int fd = ::openat(dir_fd_, temp.c_str(), kCreateFlags, 0600);
  if (fd < 0 && errno == ENOENT) {
    // The subdirectory's first entry. EEXIST: another insert created it meanwhile.
    const std::string sub = SubdirName(SubdirOf(id));
    if (::mkdirat(dir_fd_, sub.c_str(), 0700) == 0 || errno == EEXIST) {
      fd = ::openat(dir_fd_, temp.c_str(), kCreateFlags, 0600);
    }
  }
  if (fd < 0) {
    err = errno;
  } else {
    err = WriteFully(fd, entry);
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err != 0) ::unlinkat(dir_fd_, temp.c_str(), 0);
  }
  std::lock_guard lock(mu_);
  if (err != 0) {
    OnIoErrorLocked(err, "writing " + temp);
    return;
  }
  if (!enabled_ || index_.count(id) != 0 || charge > limit_bytes_) {
    ::unlinkat(dir_fd_, temp.c_str(), 0);
    return;
  }
  const std::string path = RelativePath(id);
  if (::renameat(dir_fd_, temp.c_str(), dir_fd_, path.c_str()) != 0) {
    const int rename_err = errno;
    ::unlinkat(dir_fd_, temp.c_str(), 0);
    OnIoErrorLocked(rename_err, "renaming " + temp + " to " + path);
    return;
  }
  lru_.push_front(id);
  index_.emplace(id, Entry{charge, next_generation_++, lru_.begin()});
  bytes_ += charge;
  ++counters_.inserts;
  EvictLocked();
}

void DiskCache::Erase(const FrameId& id) {
  std::lock_guard lock(mu_);
  if (const auto it = index_.find(id); it != index_.end()) RemoveLocked(it);
}

void DiskCache::EraseSegment(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  auto it = index_.lower_bound(FrameId{seq, 0});
  while (it != index_.end() && it->first.seq == seq) {
    const auto next = std::next(it);
    RemoveLocked(it);
    it = next;
  }
}

DiskCacheStats DiskCache::Stats() const {
  std::lock_guard lock(mu_);
  DiskCacheStats out = counters_;
  out.bytes = bytes_;
  out.entries = index_.size();
  out.capacity_bytes = capacity_bytes_;
  out.limit_bytes = limit_bytes_;
  out.enabled = enabled_;
  return out;
}

bool DiskCache::Contains(const FrameId& id) const {
  std::lock_guard lock(mu_);
  return index_.count(id) != 0;
}

}  // namespace zerofs::cache
