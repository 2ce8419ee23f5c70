// FilesystemImpl: opening, records, commits, statfs.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/xattr.h>
#include <time.h>

#include <cerrno>
#include <optional>
#include <random>

#include "filesystem_impl.h"
#include "zerofs/common/log.h"
#include "zerofs/index/index_format.h"
#include "zerofs/index/keys.h"
#include "zerofs/vfs/error.h"
#include "zerofs/vfs/orphans.h"

namespace zerofs::vfs {

// The public constants are Linux's values.
static_assert(kOpenWriteOnly == O_WRONLY && kOpenReadWrite == O_RDWR &&
              kOpenAccessMode == O_ACCMODE);
static_assert(kOpenTruncate == O_TRUNC && kOpenAppend == O_APPEND);
static_assert(kOpenDirectory == O_DIRECTORY && kOpenNoFollow == O_NOFOLLOW);
static_assert(kXattrCreate == XATTR_CREATE && kXattrReplace == XATTR_REPLACE);
static_assert(kFallocKeepSize == FALLOC_FL_KEEP_SIZE && kFallocPunchHole == FALLOC_FL_PUNCH_HOLE &&
              kFallocZeroRange == FALLOC_FL_ZERO_RANGE);
static_assert(kSeekData == SEEK_DATA && kSeekHole == SEEK_HOLE);

namespace {

constexpr std::uint64_t kBlockBytes = 4096;

std::uint64_t SplitMix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Status CheckName(std::string_view name) {
  if (name.empty()) return Error(ENOENT, "empty name");
  if (name.size() > format::kMaxIndexNameBytes) {
    return Error(ENAMETOOLONG, "name of " + std::to_string(name.size()) + " bytes");
  }
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Error(EINVAL, "name contains '/' or NUL");
  }
  return Status::Ok();
}

bool IsDotOrDotDot(std::string_view name) {
  return name == "." || name == "..";
}

std::string DescribeName(std::string_view name, Ino dir) {
  std::string out = "'";
  out += name.substr(0, 64);
  if (name.size() > 64) out += "...";
  out += "' in directory " + std::to_string(dir);
  return out;
}

std::string OrphanKey(Ino ino) {
  return index::MetaKey(OrphanMetaName(ino));
}

std::string OrphanPrefix() {
  return index::MetaKey(kOrphanMetaPrefix);
}

Result<Ino> DecodeOrphanKey(std::string_view key) {
  ZEROFS_ASSIGN_OR_RETURN(std::string_view name, index::DecodeMetaKey(key));
  const std::optional<Ino> ino = ParseOrphanMetaName(name);
  if (!ino.has_value()) return Status::Corruption("malformed orphan key");
  return *ino;
}

Result<std::unique_ptr<Filesystem>> Filesystem::Open(FilesystemOptions options) {
  if (!options.volume) return Status::InvalidArgument("FilesystemOptions.volume is not set");
  auto fs = std::make_unique<FilesystemImpl>(std::move(options));
  ZEROFS_RETURN_IF_ERROR(fs->Init());
  return std::unique_ptr<Filesystem>(std::move(fs));
}

FilesystemImpl::FilesystemImpl(FilesystemOptions options)
    : options_(std::move(options)), volume_(options_.volume.get()), locks_(options_.locks) {
  std::random_device rd;
  generation_state_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

Status FilesystemImpl::Init() {
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> counters,
                          volume_->Get(index::MetaKey(format::kMetaVolumeCounters)));
  if (counters.has_value()) {
    ZEROFS_ASSIGN_OR_RETURN(index::VolumeCounters c, index::DecodeVolumeCounters(*counters));
    std::lock_guard lock(counters_mu_);
    counters_ = c;
  }
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> root, volume_->Get(index::InodeKey(kRootIno)));
  if (!root.has_value()) {
    if (volume_->read_only()) {
      return Error(EIO, "the volume has no root directory yet (open it for writing once)");
    }
    InodeRecord rec;
    rec.ino = kRootIno;
    rec.parent = kRootIno;
    rec.mode = index::kModeDirectory | (options_.root_mode & index::kModePermissionMask);
    rec.uid = options_.root_uid;
    rec.gid = options_.root_gid;
    rec.nlink = 2;
    rec.size = kBlockBytes;
    rec.atime = rec.mtime = rec.ctime = rec.btime = Now();
    rec.generation = NewGeneration();
    rec.next_dir_cookie = format::kFirstDirCookie;
    engine::Transaction txn;
    PutInode(txn, rec);
    ZEROFS_RETURN_IF_ERROR(Commit(txn, {0, 1}, {kRootIno}));
    ZEROFS_LOG(kInfo) << "created the root directory of a new filesystem";
  } else {
    ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, index::DecodeInodeRecord(*root));
    if (rec.type() != index::FileType::kDirectory) {
      return Status::Corruption("inode 1 is not a directory");
    }
  }
  if (!volume_->read_only()) ZEROFS_RETURN_IF_ERROR(ReclaimOrphansAtOpen());
  return Status::Ok();
}

Timespec FilesystemImpl::Now() const {
  if (options_.clock) return options_.clock();
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return Timespec{ts.tv_sec, static_cast<std::uint32_t>(ts.tv_nsec)};
}

std::uint64_t FilesystemImpl::NewGeneration() {
  std::lock_guard lock(generation_mu_);
  return SplitMix(generation_state_);
}

Result<InodeRecord> FilesystemImpl::LoadInode(Ino ino) {
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value, volume_->Get(index::InodeKey(ino)));
  if (!value.has_value()) return Error(ESTALE, "inode " + std::to_string(ino) + " does not exist");
  return index::DecodeInodeRecord(*value);
}

Result<InodeRecord> FilesystemImpl::LoadDir(Ino ino) {
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  if (rec.type() != index::FileType::kDirectory) {
    return Error(ENOTDIR, "inode " + std::to_string(ino) + " is not a directory");
  }
  // Removed while open (Rmdir): it has no entries and takes none.
  if (rec.nlink == 0) return Error(ENOENT, "directory " + std::to_string(ino) + " was removed");
  return rec;
}

Result<std::optional<DirentRecord>> FilesystemImpl::FindEntry(Ino dir, std::string_view name) {
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                          volume_->Get(index::DirentKey(dir, name)));
  if (!value.has_value()) return std::optional<DirentRecord>();
  ZEROFS_ASSIGN_OR_RETURN(DirentRecord rec, index::DecodeDirentRecord(*value));
  return std::optional<DirentRecord>(rec);
}

void FilesystemImpl::PutInode(engine::Transaction& txn, const InodeRecord& rec) {
  txn.Put(index::InodeKey(rec.ino), index::EncodeInodeRecord(rec));
}

void FilesystemImpl::AddEntry(engine::Transaction& txn, InodeRecord& dir, std::string_view name,
                              Ino ino, index::FileType type) {
  const std::uint64_t cookie = dir.next_dir_cookie++;
  txn.Put(index::DirentKey(dir.ino, name), index::EncodeDirentRecord({ino, type, cookie}));
  txn.Put(index::DirCookieKey(dir.ino, cookie),
          index::EncodeDirCookieRecord({std::string(name), ino, type}));
}

void FilesystemImpl::RemoveEntry(engine::Transaction& txn, Ino dir, std::string_view name,
                                 const DirentRecord& entry) {
  txn.Delete(index::DirentKey(dir, name));
  txn.Delete(index::DirCookieKey(dir, entry.cookie));
}

Status FilesystemImpl::DeleteInode(engine::Transaction& txn, const InodeRecord& rec) {
  std::vector<std::string> xattrs;
  ZEROFS_RETURN_IF_ERROR(
      volume_->Scan(index::XattrPrefix(rec.ino), {}, [&](std::string_view key, std::string_view) {
        xattrs.emplace_back(key);
        return true;
      }));
  for (std::string& key : xattrs) txn.Delete(std::move(key));
  txn.Delete(index::InodeKey(rec.ino));
  if (rec.type() == index::FileType::kRegular && rec.size > 0) {
    // However large the file, the engine releases its extents in the background.
    txn.DropData(rec.ino);
  }
  return Status::Ok();
}

Result<bool> FilesystemImpl::DirIsEmpty(Ino dir) {
  bool empty = true;
  ZEROFS_RETURN_IF_ERROR(
      volume_->Scan(index::DirentPrefix(dir), {}, [&](std::string_view, std::string_view) {
        empty = false;
        return false;
      }));
  return empty;
}

Attr FilesystemImpl::ToAttr(const InodeRecord& rec) const {
  Attr a;
  a.ino = rec.ino;
  a.generation = rec.generation;
  a.mode = rec.mode;
  a.nlink = rec.nlink;
  a.uid = rec.uid;
  a.gid = rec.gid;
  a.size = rec.size;
  a.rdev = rec.rdev;
  a.atime = rec.atime;
  a.mtime = rec.mtime;
  a.ctime = rec.ctime;
  a.btime = rec.btime;
  if (rec.type() == index::FileType::kRegular || rec.type() == index::FileType::kDirectory) {
    a.blocks = (rec.size + kBlockBytes - 1) / kBlockBytes * (kBlockBytes / 512);
  }
  return a;
}

Status FilesystemImpl::CheckWritable() const {
  if (volume_->read_only()) return Error(EROFS, "the volume is open read-only");
  return Status::Ok();
}

void FilesystemImpl::NoteBatch(Ino ino, engine::BatchNumber batch) {
  std::atomic<engine::BatchNumber>& slot = last_batch_[ino % last_batch_.size()];
  engine::BatchNumber seen = slot.load(std::memory_order_relaxed);
  while (seen < batch && !slot.compare_exchange_weak(seen, batch, std::memory_order_relaxed)) {
  }
}

Status FilesystemImpl::Commit(engine::Transaction& txn, CounterDelta delta,
                              std::initializer_list<Ino> touched) {
  Result<engine::BatchNumber> batch = engine::BatchNumber{0};
  if (delta.bytes == 0 && delta.inodes == 0) {
    batch = volume_->Commit(txn);
  } else {
    std::lock_guard lock(counters_mu_);
    const index::VolumeCounters before = counters_;
    auto apply = [](std::uint64_t value, std::int64_t d) -> std::uint64_t {
      if (d >= 0) return value + static_cast<std::uint64_t>(d);
      const auto down = static_cast<std::uint64_t>(-d);
      return value > down ? value - down : 0;
    };
    counters_.used_bytes = apply(counters_.used_bytes, delta.bytes);
    counters_.inode_count = apply(counters_.inode_count, delta.inodes);
    txn.Put(index::MetaKey(format::kMetaVolumeCounters), index::EncodeVolumeCounters(counters_));
    batch = volume_->Commit(txn);
    if (!batch.ok()) counters_ = before;
  }
  if (!batch.ok()) {
    if (volume_->read_only()) return Error(EROFS, "the volume is open read-only");
    return batch.status();
  }
  for (Ino ino : touched) NoteBatch(ino, *batch);
  return Status::Ok();
}

Result<StatFs> FilesystemImpl::StatFilesystem() {
  index::VolumeCounters c;
  {
    std::lock_guard lock(counters_mu_);
    c = counters_;
  }
  StatFs s;
  s.block_size = static_cast<std::uint32_t>(kBlockBytes);
  s.total_blocks = options_.capacity_bytes / kBlockBytes;
  const std::uint64_t used_blocks = (c.used_bytes + kBlockBytes - 1) / kBlockBytes;
  s.free_blocks = s.total_blocks > used_blocks ? s.total_blocks - used_blocks : 0;
  s.available_blocks = s.free_blocks;
  s.total_files = options_.capacity_inodes;
  s.free_files = s.total_files > c.inode_count ? s.total_files - c.inode_count : 0;
  s.name_max = static_cast<std::uint32_t>(format::kMaxIndexNameBytes);
  s.used_bytes = c.used_bytes;
  s.inodes = c.inode_count;
  return s;
}

Status FilesystemImpl::SyncAll() {
  return volume_->SyncAll();
}

}  // namespace zerofs::vfs
