// VfsNfsHandler: handles, attributes, MOUNT, data and durability; see vfs_handler.h.
// Namespace procedures and READDIR(PLUS) are in vfs_handler_names.cpp.
#include "zerofs/nfs/vfs_handler.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <random>

#include "vfs_handler_util.h"
#include "zerofs/common/coding.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/index/keys.h"

namespace zerofs::nfs {
namespace {

using namespace vfs_handler_internal;  // NOLINT(google-build-using-namespace)

// File handle layout (servers/nfs/README.md): magic, version, two zero bytes, then
// volume id, inode and generation, big-endian.
constexpr std::size_t kHandleBytes = 28;
constexpr char kHandleMagic = 'Z';
constexpr char kHandleVersion = 1;

std::uint64_t Mix(std::uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t Fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

Verifier VerifierOf(std::uint64_t v) {
  Verifier out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
  }
  return out;
}

// 64 bits of a hash of the volume uuid, as the volume's index records it; every handle and
// fsid carries it. A volume without one (never opened for writing) hashes as "".
std::uint64_t VolumeIdOf(vfs::Filesystem& fs) {
  auto uuid = fs.volume().Get(index::MetaKey(format::kMetaVolumeUuid));
  std::string text;
  if (uuid.ok() && uuid->has_value()) {
    text = **uuid;
  } else {
    ZEROFS_LOG(kWarn) << "nfs: the volume records no uuid; file handles use a fixed volume id";
  }
  const std::uint64_t id = Mix(Fnv1a(text));
  return id == 0 ? 1 : id;
}

std::uint64_t RandomNonce() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

NfsTime3 TimeOf(const vfs::Timespec& t) {
  const std::int64_t max = 0xffffffffLL;
  return {static_cast<std::uint32_t>(std::clamp<std::int64_t>(t.sec, 0, max)), t.nsec};
}

Ftype3 FtypeOf(index::FileType type) {
  switch (type) {
    case index::FileType::kDirectory: return Ftype3::kDir;
    case index::FileType::kSymlink: return Ftype3::kLnk;
    case index::FileType::kCharDevice: return Ftype3::kChr;
    case index::FileType::kBlockDevice: return Ftype3::kBlk;
    case index::FileType::kSocket: return Ftype3::kSock;
    case index::FileType::kFifo: return Ftype3::kFifo;
    default: return Ftype3::kReg;
  }
}

}  // namespace

std::string_view CommitModeName(CommitMode mode) {
  return mode == CommitMode::kRelaxed ? "relaxed" : "durable";
}

Result<CommitMode> ParseCommitMode(std::string_view text) {
  if (text == "durable") return CommitMode::kDurable;
  if (text == "relaxed") return CommitMode::kRelaxed;
  return Status::InvalidArgument("commit mode must be \"durable\" or \"relaxed\", not '" +
                                 std::string(text) + "'");
}

VfsNfsHandler::VfsNfsHandler(std::shared_ptr<vfs::Filesystem> fs, VfsNfsOptions options)
    : fs_(std::move(fs)), options_(options), volume_id_(VolumeIdOf(*fs_)) {
  const std::uint64_t nonce = options_.instance_nonce.value_or(RandomNonce());
  const std::uint64_t epoch = fs_->volume().stats().writer_epoch;
  write_verf_ = VerifierOf(Mix(Mix(nonce) ^ Mix(epoch + 0x5a5a) ^ volume_id_));
  cookie_verf_ = VerifierOf(Mix(volume_id_ ^ 0xc00c1e5ULL) | 1);
}

VfsNfsHandler::~VfsNfsHandler() = default;

VfsNfsStats VfsNfsHandler::Stats() const {
  VfsNfsStats s;
  s.commit_mode = options_.commit;
  s.writes_unstable = writes_unstable_.load();
  s.writes_stable = writes_stable_.load();
  s.commits = commits_.load();
  s.acks_without_flush = acks_without_flush_.load();
  s.durability_errors = durability_errors_.load();
  return s;
}

// --- handles and attributes ---------------------------------------------------------------

Fh3 VfsNfsHandler::HandleOf(const vfs::Attr& attr) const {
  Fh3 fh;
  fh.data.assign(kHandleBytes, '\0');
  fh.data[0] = kHandleMagic;
  fh.data[1] = kHandleVersion;
  coding::StoreBigEndian64(fh.data.data() + 4, volume_id_);
  coding::StoreBigEndian64(fh.data.data() + 12, attr.ino);
  coding::StoreBigEndian64(fh.data.data() + 20, attr.generation);
  return fh;
}

Fh3 VfsNfsHandler::RootHandle() const {
  auto root = fs_->GetAttr(vfs::kRootIno);
  vfs::Attr attr;
  attr.ino = vfs::kRootIno;
  if (root.ok()) attr = *root;
  return HandleOf(attr);
}

Nfsstat3 VfsNfsHandler::Resolve(const Fh3& fh, vfs::Attr* attr) const {
  const std::string& d = fh.data;
  if (d.size() != kHandleBytes || d[0] != kHandleMagic || d[1] != kHandleVersion || d[2] != 0 ||
      d[3] != 0 || coding::LoadBigEndian64(d.data() + 4) != volume_id_) {
    return Nfsstat3::kBadhandle;
  }
  const vfs::Ino ino = coding::LoadBigEndian64(d.data() + 12);
  if (ino == 0) return Nfsstat3::kBadhandle;
  auto got = fs_->GetAttr(ino);
  if (!got.ok()) {
    const int err = vfs::ErrnoOf(got.status());
    return err == ENOENT || err == ESTALE ? Nfsstat3::kStale : StatOfErrno(err);
  }
  if (got->generation != coding::LoadBigEndian64(d.data() + 20)) return Nfsstat3::kStale;
  *attr = *got;
  return Nfsstat3::kOk;
}

Fattr3 VfsNfsHandler::ToFattr(const vfs::Attr& a) const {
  Fattr3 f;
  f.type = FtypeOf(a.type());
  f.mode = a.mode & 07777;
  f.nlink = a.nlink;
  f.uid = a.uid;
  f.gid = a.gid;
  f.size = a.size;
  f.used = a.blocks * 512;
  f.rdev_major = major(a.rdev);
  f.rdev_minor = minor(a.rdev);
  f.fsid = volume_id_;
  f.fileid = a.ino;
  f.atime = TimeOf(a.atime);
  f.mtime = TimeOf(a.mtime);
  f.ctime = TimeOf(a.ctime);
  return f;
}

PostOpAttr VfsNfsHandler::PostOp(vfs::Ino ino) const {
  auto a = fs_->GetAttr(ino);
  if (!a.ok()) return std::nullopt;
  return ToFattr(*a);
}

std::optional<WccAttr> VfsNfsHandler::PreOp(vfs::Ino ino) const {
  auto a = fs_->GetAttr(ino);
  if (!a.ok()) return std::nullopt;
  return WccAttr{a->size, TimeOf(a->mtime), TimeOf(a->ctime)};
}

// --- MOUNT ----------------------------------------------------------------------------------

MntRes VfsNfsHandler::Mnt(const CallContext& ctx, const std::string& path) {
  MntRes res;
  // The export is "/"; a path below it mounts that directory (walked as the caller). Empty
  // components and "." are skipped, so "" (what libnfs asks for with nfs://host/file), "/"
  // and "//" all mount the root; DUMP lists the path in its canonical form.
  const vfs::Credentials cred = CredOf(ctx);
  std::string canonical;
  vfs::Attr at;
  auto root = fs_->GetAttr(vfs::kRootIno);
  if (!root.ok()) {
    res.status = MountStat3::kServerfault;
    return res;
  }
  at = *root;
  std::size_t pos = 0;
  while (pos < path.size()) {
    const std::size_t next = std::min(path.find('/', pos), path.size());
    const std::string_view name(path.data() + pos, next - pos);
    pos = next + 1;
    if (name.empty() || name == ".") continue;
    auto child = fs_->Lookup(cred, at.ino, name);
    if (!child.ok()) {
      const int err = vfs::ErrnoOf(child.status());
      res.status = err == ENOENT    ? MountStat3::kNoent
                   : err == EACCES  ? MountStat3::kAcces
                   : err == ENOTDIR ? MountStat3::kNotdir
                                    : MountStat3::kIo;
      return res;
    }
    at = *child;
    canonical += '/';
    canonical += name;
  }
  if (!at.is_dir()) {
    res.status = MountStat3::kNotdir;
    return res;
  }
  {
    std::lock_guard lock(mounts_mu_);
    if (mounts_.size() < 4096)
      mounts_.emplace(ctx.cred.machine_name, canonical.empty() ? "/" : canonical);
  }
  res.handle = HandleOf(at);
  res.auth_flavors = {static_cast<std::uint32_t>(AuthFlavor::kSys),
                      static_cast<std::uint32_t>(AuthFlavor::kNone)};
  return res;
}

std::vector<MountEntry> VfsNfsHandler::Dump(const CallContext&) {
  std::lock_guard lock(mounts_mu_);
  std::vector<MountEntry> out;
  for (const auto& [host, dir] : mounts_) out.push_back({host, dir});
  return out;
}

void VfsNfsHandler::Umnt(const CallContext& ctx, const std::string& path) {
  std::lock_guard lock(mounts_mu_);
  mounts_.erase({ctx.cred.machine_name, path.empty() ? "/" : path});
}

void VfsNfsHandler::Umntall(const CallContext& ctx) {
  std::lock_guard lock(mounts_mu_);
  std::erase_if(mounts_, [&](const auto& m) { return m.first == ctx.cred.machine_name; });
}

std::vector<ExportEntry> VfsNfsHandler::Export(const CallContext&) {
  return {{"/", {}}};
}

// --- attributes -----------------------------------------------------------------------------

GetattrRes VfsNfsHandler::Getattr(const CallContext&, const FhArgs& args) {
  GetattrRes res;
  vfs::Attr attr;
  res.status = Resolve(args.object, &attr);
  if (res.status == Nfsstat3::kOk) res.attributes = ToFattr(attr);
  return res;
}

WccRes VfsNfsHandler::Setattr(const CallContext& ctx, const SetattrArgs& args) {
  WccRes res;
  vfs::Attr attr;
  res.status = Resolve(args.object, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  const vfs::Credentials cred = CredOf(ctx);
  // The guard compares and the change applies under the inode's stripe, so two guarded
  // SETATTRs of one file cannot both pass.
  std::lock_guard lock(Stripe(attr.ino));
  if (auto now = fs_->GetAttr(attr.ino); now.ok()) attr = *now;
  res.wcc.before = WccAttr{attr.size, TimeOf(attr.mtime), TimeOf(attr.ctime)};
  if (args.guard_ctime && !(*args.guard_ctime == TimeOf(attr.ctime))) {
    res.status = Nfsstat3::kNotSync;
    res.wcc.after = ToFattr(attr);
    return res;
  }
  vfs::SetAttrRequest req = RequestOf(args.attributes);
  Status st = Status::Ok();
  if (!Empty(req)) st = fs_->SetAttr(cred, attr.ino, req).status();
  if (vfs::ErrnoOf(st) == EACCES && req.size && cred.uid == attr.uid && attr.is_regular()) {
    // The owner's truncate through a descriptor it opened for writing (see the header).
    st = fs_->SetAttr(vfs::Credentials::Root(), attr.ino, vfs::SetAttrRequest::Truncate(*req.size))
             .status();
    req.size.reset();
    if (st.ok() && !Empty(req)) st = fs_->SetAttr(cred, attr.ino, req).status();
  }
  res.status = StatOf(st);
  res.wcc.after = PostOp(attr.ino);
  return res;
}

LookupRes VfsNfsHandler::Lookup(const CallContext& ctx, const LookupArgs& args) {
  LookupRes res;
  vfs::Attr dir;
  res.status = Resolve(args.what.dir, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  auto found = fs_->Lookup(CredOf(ctx), dir.ino, args.what.name);
  res.status = StatOf(found);
  if (found.ok()) {
    res.object = HandleOf(*found);
    res.obj_attr = ToFattr(*found);
  }
  res.dir_attr = PostOp(dir.ino);
  return res;
}

AccessRes VfsNfsHandler::Access(const CallContext& ctx, const AccessArgs& args) {
  AccessRes res;
  vfs::Attr attr;
  res.status = Resolve(args.object, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  const vfs::Credentials cred = CredOf(ctx);
  auto may = [&](std::uint32_t mask) { return fs_->Access(cred, attr.ino, mask).ok(); };
  std::uint32_t granted = 0;
  if ((args.access & kAccessRead) && may(vfs::kAccessRead)) granted |= kAccessRead;
  if ((args.access & (kAccessModify | kAccessExtend | kAccessDelete)) && may(vfs::kAccessWrite)) {
    granted |= kAccessModify | kAccessExtend | (attr.is_dir() ? kAccessDelete : 0);
  }
  if ((args.access & (kAccessLookup | kAccessExecute)) && may(vfs::kAccessExecute)) {
    granted |= attr.is_dir() ? kAccessLookup : kAccessExecute;
  }
  res.access = args.access & granted;
  res.attr = ToFattr(attr);
  return res;
}

ReadlinkRes VfsNfsHandler::Readlink(const CallContext& ctx, const FhArgs& args) {
  ReadlinkRes res;
  vfs::Attr attr;
  res.status = Resolve(args.object, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  if (!attr.is_symlink()) {
    res.status = Nfsstat3::kInval;
  } else {
    auto target = fs_->ReadLink(CredOf(ctx), attr.ino);
    res.status = StatOf(target);
    if (target.ok()) res.target = std::move(*target);
  }
  res.attr = PostOp(attr.ino);
  return res;
}

// --- data -----------------------------------------------------------------------------------

ReadRes VfsNfsHandler::Read(const CallContext& ctx, const ReadArgs& args) {
  ReadRes res;
  vfs::Attr attr;
  res.status = Resolve(args.file, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  if (!attr.is_regular()) {
    res.status = attr.is_dir() ? Nfsstat3::kIsdir : Nfsstat3::kInval;
    res.attr = ToFattr(attr);
    return res;
  }
  const vfs::Credentials cred = CredOf(ctx);
  auto data = fs_->ReadInode(cred, attr.ino, args.offset, args.count);
  if (vfs::ErrnoOf(data.status()) == EACCES &&
      (cred.uid == attr.uid || fs_->Access(cred, attr.ino, vfs::kAccessExecute).ok())) {
    // The owner, or a caller allowed to execute the file (the client pages it in to run
    // it): as knfsd does.
    data = fs_->ReadInode(vfs::Credentials::Root(), attr.ino, args.offset, args.count);
  }
  res.status = StatOf(data);
  if (data.ok()) {
    res.data = std::move(*data);
    res.eof = args.offset + res.data.size() >= attr.size;
  }
  res.attr = PostOp(attr.ino);
  return res;
}

bool VfsNfsHandler::MakeDurable(vfs::Ino ino) {
  if (options_.commit == CommitMode::kRelaxed) {
    acks_without_flush_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  Status synced = fs_->FsyncInode(ino);
  if (synced.ok()) return true;
  durability_errors_.fetch_add(1, std::memory_order_relaxed);
  ZEROFS_LOG(kError) << "nfs: making inode " << ino << " durable failed: " << synced;
  return false;
}

WriteRes VfsNfsHandler::Write(const CallContext& ctx, const WriteArgs& args) {
  WriteRes res;
  vfs::Attr attr;
  res.status = Resolve(args.file, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  res.wcc.before = WccAttr{attr.size, TimeOf(attr.mtime), TimeOf(attr.ctime)};
  if (!attr.is_regular()) {
    res.status = attr.is_dir() ? Nfsstat3::kIsdir : Nfsstat3::kInval;
    res.wcc.after = ToFattr(attr);
    return res;
  }
  const vfs::Credentials cred = CredOf(ctx);
  auto written = fs_->WriteInode(cred, attr.ino, args.offset, args.data);
  if (vfs::ErrnoOf(written.status()) == EACCES && cred.uid == attr.uid) {
    written = fs_->WriteInode(vfs::Credentials::Root(), attr.ino, args.offset, args.data);
  }
  res.status = StatOf(written);
  if (written.ok()) {
    res.count = static_cast<std::uint32_t>(*written);
    if (args.stable == StableHow::kUnstable) {
      writes_unstable_.fetch_add(1, std::memory_order_relaxed);
      res.committed = StableHow::kUnstable;
    } else {
      writes_stable_.fetch_add(1, std::memory_order_relaxed);
      res.committed = StableHow::kFileSync;
      if (!MakeDurable(attr.ino)) res.status = Nfsstat3::kIo;
    }
    res.verf = write_verf_;
  }
  res.wcc.after = PostOp(attr.ino);
  return res;
}

CommitRes VfsNfsHandler::Commit(const CallContext&, const CommitArgs& args) {
  CommitRes res;
  vfs::Attr attr;
  res.status = Resolve(args.file, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  res.wcc.before = WccAttr{attr.size, TimeOf(attr.mtime), TimeOf(attr.ctime)};
  if (!attr.is_regular()) {
    res.status = attr.is_dir() ? Nfsstat3::kIsdir : Nfsstat3::kInval;
  } else {
    commits_.fetch_add(1, std::memory_order_relaxed);
    // The whole file, whatever offset and count say: COMMIT may do more than asked.
    if (!MakeDurable(attr.ino)) res.status = Nfsstat3::kIo;
  }
  res.verf = write_verf_;
  res.wcc.after = PostOp(attr.ino);
  return res;
}

// --- the file system ------------------------------------------------------------------------

FsstatRes VfsNfsHandler::Fsstat(const CallContext&, const FhArgs& args) {
  FsstatRes res;
  vfs::Attr attr;
  res.status = Resolve(args.object, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  res.attr = ToFattr(attr);
  auto st = fs_->StatFilesystem();
  res.status = StatOf(st);
  if (!st.ok()) return res;
  res.tbytes = st->total_blocks * st->block_size;
  res.fbytes = st->free_blocks * st->block_size;
  res.abytes = st->available_blocks * st->block_size;
  res.tfiles = st->total_files;
  res.ffiles = res.afiles = st->free_files;
  res.invarsec = 0;  // the volume changes under any client
  return res;
}

FsinfoRes VfsNfsHandler::Fsinfo(const CallContext&, const FhArgs& args) {
  FsinfoRes res;
  vfs::Attr attr;
  res.status = Resolve(args.object, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  res.attr = ToFattr(attr);
  res.rtmax = res.rtpref = res.wtmax = res.wtpref = kMaxIoBytes;
  res.rtmult = res.wtmult = 4096;
  res.dtpref = 64 * 1024;
  res.maxfilesize = vfs::kMaxFileSize;
  res.time_delta = {0, 1};
  res.properties = kFsfLink | kFsfSymlink | kFsfHomogeneous | kFsfCanSetTime;
  return res;
}

PathconfRes VfsNfsHandler::Pathconf(const CallContext&, const FhArgs& args) {
  PathconfRes res;
  vfs::Attr attr;
  res.status = Resolve(args.object, &attr);
  if (res.status != Nfsstat3::kOk) return res;
  res.attr = ToFattr(attr);
  res.linkmax = 65000;  // the Filesystem's (ext4's) limit
  res.name_max = kMaxNameBytes;
  res.no_trunc = true;
  res.chown_restricted = true;
  res.case_insensitive = false;
  res.case_preserving = true;
  return res;
}

}  // namespace zerofs::nfs
