// VfsHandler; see vfs_handler.h.
#include "zerofs/ninep/vfs_handler.h"

#include <grp.h>
#include <pwd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/ninep/codec.h"
#include "zerofs/vfs/error.h"
#include "zerofs/vfs/locks.h"

namespace zerofs::ninep {

using vfs::Attr;
using vfs::Credentials;
using vfs::FileType;
using vfs::HandleId;
using vfs::Ino;
using vfs::kNoHandle;

namespace {

// statfs f_type of v9fs (V9FS_MAGIC).
constexpr std::uint32_t kV9fsMagic = 0x01021997;
constexpr std::uint32_t kPermissionBits = 07777;
// The open flags the VFS acts on; the rest (O_NOATIME, O_CLOEXEC, O_DIRECT, O_SYNC...)
// describe the client's file and mean nothing to the server.
constexpr std::uint32_t kOpenFlagsPassed = vfs::kOpenAccessMode | vfs::kOpenTruncate |
                                           vfs::kOpenAppend | vfs::kOpenDirectory |
                                           vfs::kOpenNoFollow;
constexpr std::uint32_t kOpenExclusive = 0200;  // O_EXCL, P9_DOTL_EXCL
// Directory entries asked of the VFS per Treaddir: more would be read and thrown away.
constexpr std::size_t kMaxReaddirEntries = 4096;

Errno Fail(const Status& status) {
  const int e = vfs::ErrnoOf(status);
  return Errno{e > 0 ? static_cast<std::uint32_t>(e) : static_cast<std::uint32_t>(EIO)};
}
Errno Fail(int e) {
  return Errno{static_cast<std::uint32_t>(e)};
}

Qid QidOf(FileType type, Ino ino) {
  Qid q;
  if (type == FileType::kDirectory) {
    q.type = kQidDir;
  } else if (type == FileType::kSymlink) {
    q.type = kQidSymlink;
  }
  // version stays 0: the kernel treats a changed qid version as a different inode.
  q.path = ino;
  return q;
}
Qid QidOf(const Attr& a) {
  return QidOf(a.type(), a.ino);
}

std::uint64_t Sec(const vfs::Timespec& t) {
  return static_cast<std::uint64_t>(t.sec);
}

// A 9P time (sec, nsec as u64) as a Timespec; false when nsec is out of range.
bool ToTimespec(std::uint64_t sec, std::uint64_t nsec, vfs::Timespec* out) {
  if (nsec >= 1000000000ULL) return false;
  out->sec = static_cast<std::int64_t>(sec);
  out->nsec = static_cast<std::uint32_t>(nsec);
  return true;
}

// The credentials of `uid`: see the header comment.
Credentials ResolveCredentials(std::uint32_t uid, bool lookup) {
  Credentials c = Credentials::User(uid, uid);
  if (!lookup) return c;
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = 0;
  while ((rc = ::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1U << 20)) {
    buffer.resize(buffer.size() * 2);
  }
  if (rc != 0 || found == nullptr) return c;
  c.gid = pw.pw_gid;
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  for (int attempt = 0; attempt < 4; ++attempt) {
    int n = count;
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) >= 0) {
      groups.resize(static_cast<std::size_t>(n));
      for (gid_t g : groups) {
        if (g != c.gid) c.groups.push_back(g);
      }
      break;
    }
    if (n <= count || n > 65536) break;
    count = n;
    groups.resize(static_cast<std::size_t>(count));
  }
  return c;
}

// The uid named by a Tattach: n_uname when given, else uname through the user database
// ("" and unknown names are refused).
bool ResolveUid(const Tattach& req, std::uint32_t* uid) {
  if (req.n_uname != kNoUid) {
    *uid = req.n_uname;
    return true;
  }
  if (req.uname.empty()) return false;
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwnam_r(req.uname.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return false;
  }
  *uid = pw.pw_uid;
  return true;
}

vfs::LockType LockTypeOf(std::uint8_t type) {
  return type == kLockTypeWrite ? vfs::LockType::kExclusive : vfs::LockType::kShared;
}

struct ConnectionLocks;

}  // namespace

struct VfsHandler::Shared {
  Shared(std::shared_ptr<vfs::Filesystem> f, VfsHandlerOptions o) : fs(std::move(f)), options(o) {}

  const std::shared_ptr<vfs::Filesystem> fs;
  const VfsHandlerOptions options;
  std::atomic<std::uint64_t> xattr_buffer_bytes{0};

  // The lock session of each connection that holds locks, by its FidTable.
  std::mutex sessions_mu;
  std::unordered_map<const void*, std::weak_ptr<ConnectionLocks>>
      sessions;  // GUARDED_BY(sessions_mu)
};

namespace {

using Shared = VfsHandler::Shared;

// The lock session of one connection in the Filesystem's lock table: made by its first
// Tlock and held by every fid that took a lock; when the last of them is clunked (at the
// latest, when the connection closes) every lock left in the session is released.
struct ConnectionLocks {
  ConnectionLocks(std::shared_ptr<Shared> s, const void* conn)
      : shared(std::move(s)), connection(conn), session(shared->fs->locks().NewSession()) {}
  ~ConnectionLocks() {
    shared->fs->locks().ReleaseSession(session);
    std::lock_guard lock(shared->sessions_mu);
    auto it = shared->sessions.find(connection);
    // A Tlock may already have put a new session in place of this expiring one.
    if (it != shared->sessions.end() && it->second.expired()) shared->sessions.erase(it);
  }
  ConnectionLocks(const ConnectionLocks&) = delete;
  ConnectionLocks& operator=(const ConnectionLocks&) = delete;

  const std::shared_ptr<Shared> shared;
  const void* const connection;
  const vfs::LockSession session;
};

// The session of `connection`, made if it has none and `create`; nullptr otherwise.
std::shared_ptr<ConnectionLocks> SessionOf(const std::shared_ptr<Shared>& shared,
                                           const void* connection, bool create) {
  std::lock_guard lock(shared->sessions_mu);
  std::weak_ptr<ConnectionLocks>& slot = shared->sessions[connection];
  std::shared_ptr<ConnectionLocks> session = slot.lock();
  if (session == nullptr && create) {
    session = std::make_shared<ConnectionLocks>(shared, connection);
    slot = session;
  }
  if (session == nullptr) shared->sessions.erase(connection);
  return session;
}

enum class FidKind : std::uint8_t {
  kInode,       // names an inode; may be opened
  kXattrRead,   // Txattrwalk: reads return the value (or the list of names)
  kXattrWrite,  // Txattrcreate: writes fill the value, clunk commits it
};

// What a fid names. The fields set at construction never change; the rest is guarded by
// `mu`. The destructor runs when the fid is clunked and no request still uses it.
struct VfsFid final : FidHandle {
  VfsFid(std::shared_ptr<Shared> s, std::shared_ptr<const Credentials> c, const void* conn, Ino i,
         FileType t)
      : shared(std::move(s)), cred(std::move(c)), connection(conn), ino(i), type(t) {}

  ~VfsFid() override {
    for (const vfs::LockOwner& owner : lock_owners) shared->fs->locks().ReleaseOwner(ino, owner);
    if (handle != kNoHandle) {
      Status s = shared->fs->Release(handle);
      if (!s.ok()) ZEROFS_LOG(kDebug) << "9p: release of inode " << ino << ": " << s.ToString();
    }
    if (reserved_bytes != 0) shared->xattr_buffer_bytes.fetch_sub(reserved_bytes);
  }

  // The open handle, or kNoHandle.
  HandleId Handle() {
    std::lock_guard lock(mu);
    return handle;
  }
  std::pair<Ino, std::string> Place() {
    std::lock_guard lock(mu);
    return {parent, name};
  }

  const std::shared_ptr<Shared> shared;
  const std::shared_ptr<const Credentials> cred;
  const void* const connection;  // the connection's FidTable: its lock session
  const Ino ino;
  const FileType type;
  FidKind kind = FidKind::kInode;

  std::mutex mu;
  // Where the walk found the inode (Trename, Tremove need it); parent 0: not known.
  Ino parent = 0;                // GUARDED_BY(mu)
  std::string name;              // GUARDED_BY(mu)
  HandleId handle = kNoHandle;   // GUARDED_BY(mu)
  std::uint32_t open_flags = 0;  // GUARDED_BY(mu)
  bool opened = false;           // GUARDED_BY(mu)
  // An open directory's attributes as of Tlopen: what fstat shows once it was removed
  // (the VFS forgets a removed directory at once, the client still has it open).
  std::optional<Attr> open_dir_attr;  // GUARDED_BY(mu)
  // The owners that locked through the fid, and their session.
  std::vector<vfs::LockOwner> lock_owners;        // GUARDED_BY(mu)
  std::shared_ptr<ConnectionLocks> lock_session;  // GUARDED_BY(mu)

  // Xattr fids (set before the fid is published, then guarded by mu).
  std::string xattr_name;
  std::string xattr_value;
  std::uint64_t xattr_written = 0;
  std::uint32_t xattr_flags = 0;
  std::uint64_t reserved_bytes = 0;
};

std::shared_ptr<VfsFid> GetFid(RequestContext& ctx, std::uint32_t fid) {
  return ctx.fids.GetAs<VfsFid>(fid);
}

// A fid naming an inode (not an xattr fid); nullptr otherwise.
std::shared_ptr<VfsFid> GetInodeFid(RequestContext& ctx, std::uint32_t fid) {
  auto f = GetFid(ctx, fid);
  if (f == nullptr || f->kind != FidKind::kInode) return nullptr;
  return f;
}

Answer<Rclunk> Bind(RequestContext& ctx, std::uint32_t fid, std::shared_ptr<VfsFid> handle,
                    bool replace) {
  const int e =
      replace ? ctx.fids.Replace(fid, std::move(handle)) : ctx.fids.Insert(fid, std::move(handle));
  if (e != 0) return Fail(e);
  return Rclunk{};
}

// The credentials a create in `dir` runs with: the attach's, with the gid the client
// sent (the creating process's fsgid) as the primary group, unless that gid is the one a
// setgid directory hands down anyway.
Result<std::shared_ptr<const Credentials>> CreateCredentials(Shared& shared, const VfsFid& dir,
                                                             std::uint32_t gid) {
  if (gid == dir.cred->gid || gid == kNoUid) return dir.cred;
  ZEROFS_ASSIGN_OR_RETURN(Attr attr, shared.fs->GetAttr(dir.ino));
  if ((attr.mode & vfs::kModeSetGid) != 0 && attr.gid == gid) return dir.cred;
  auto c = std::make_shared<Credentials>(*dir.cred);
  c->gid = gid;
  return std::shared_ptr<const Credentials>(std::move(c));
}

}  // namespace

VfsHandler::VfsHandler(std::shared_ptr<vfs::Filesystem> fs, VfsHandlerOptions options)
    : shared_(std::make_shared<Shared>(std::move(fs), options)) {}
VfsHandler::~VfsHandler() = default;

std::size_t VfsHandler::LockCount() const {
  return shared_->fs->locks().size();
}

Answer<Rattach> VfsHandler::Attach(RequestContext& ctx, const Tattach& req) {
  if (req.afid != kNoFid) return Fail(EBADF);  // Tauth never hands out an afid
  std::uint32_t uid = 0;
  if (!ResolveUid(req, &uid)) return Fail(EACCES);
  auto cred =
      std::make_shared<const Credentials>(ResolveCredentials(uid, shared_->options.lookup_groups));
  // aname: "" or "/" is the root; a path attaches to that directory of the volume.
  Ino ino = vfs::kRootIno;
  std::string_view rest = req.aname;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    Result<Attr> next = shared_->fs->Lookup(*cred, ino, part);
    if (!next.ok()) return Fail(next.status());
    ino = next->ino;
  }
  Result<Attr> attr = shared_->fs->GetAttr(ino);
  if (!attr.ok()) return Fail(attr.status());
  if (!attr->is_dir()) return Fail(ENOTDIR);
  auto fid = std::make_shared<VfsFid>(shared_, cred, &ctx.fids, ino, attr->type());
  if (auto bound = Bind(ctx, req.fid, fid, false); !bound.ok()) return Errno{bound.error()};
  ZEROFS_LOG(kDebug) << "9p: attach uid " << uid << " gid " << cred->gid << " ("
                     << cred->groups.size() << " more groups) to inode " << ino;
  return Rattach{QidOf(*attr)};
}

Answer<Rwalk> VfsHandler::Walk(RequestContext& ctx, const Twalk& req) {
  auto from = GetInodeFid(ctx, req.fid);
  if (from == nullptr) return Fail(EBADF);
  // walk(5) forbids walking from an open fid, but Linux clients do it (as diod allows).
  if (req.newfid != req.fid && ctx.fids.Get(req.newfid) != nullptr) return Fail(EBADF);
  Rwalk reply;
  Ino ino = from->ino;
  FileType type = from->type;
  auto [parent, name] = from->Place();
  for (const std::string& part : req.names) {
    Result<Attr> next = shared_->fs->Lookup(*from->cred, ino, part);
    if (!next.ok()) {
      if (reply.qids.empty()) return Fail(next.status());
      break;
    }
    if (part == "..") {
      parent = 0;
      name.clear();
    } else if (part != ".") {
      parent = ino;
      name = part;
    }
    ino = next->ino;
    type = next->type();
    reply.qids.push_back(QidOf(*next));
  }
  if (reply.qids.size() < req.names.size()) return reply;  // partial: newfid not bound
  auto fid = std::make_shared<VfsFid>(shared_, from->cred, &ctx.fids, ino, type);
  fid->parent = parent;
  fid->name = std::move(name);
  if (auto bound = Bind(ctx, req.newfid, fid, req.newfid == req.fid); !bound.ok()) {
    return Errno{bound.error()};
  }
  return reply;
}

Answer<Rgetattr> VfsHandler::Getattr(RequestContext& ctx, const Tgetattr& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  Result<Attr> a = shared_->fs->GetAttr(fid->ino);
  if (!a.ok() && vfs::ErrnoOf(a.status()) == ESTALE) {
    std::lock_guard lock(fid->mu);
    if (fid->open_dir_attr.has_value()) {
      Attr removed = *fid->open_dir_attr;  // as ext4 shows a removed directory still open
      removed.nlink = 0;
      a = removed;
    }
  }
  if (!a.ok()) return Fail(a.status());
  Rgetattr r;
  r.valid = kGetattrBasic | kGetattrBtime | kGetattrGen;
  r.qid = QidOf(*a);
  r.mode = a->mode;
  r.uid = a->uid;
  r.gid = a->gid;
  r.nlink = a->nlink;
  r.rdev = a->rdev;
  r.size = a->size;
  r.blksize = 4096;
  r.blocks = a->blocks;
  r.atime_sec = Sec(a->atime);
  r.atime_nsec = a->atime.nsec;
  r.mtime_sec = Sec(a->mtime);
  r.mtime_nsec = a->mtime.nsec;
  r.ctime_sec = Sec(a->ctime);
  r.ctime_nsec = a->ctime.nsec;
  r.btime_sec = Sec(a->btime);
  r.btime_nsec = a->btime.nsec;
  r.gen = a->generation;
  return r;
}

Answer<Rclunk> VfsHandler::Clunk(RequestContext& ctx, const Tclunk& req) {
  auto handle = ctx.fids.Remove(req.fid);
  if (handle == nullptr) return Fail(EBADF);
  auto fid = std::dynamic_pointer_cast<VfsFid>(handle);
  if (fid == nullptr || fid->kind != FidKind::kXattrWrite) return Rclunk{};
  // The xattr write completes now, all of it or nothing.
  std::lock_guard lock(fid->mu);
  if (fid->xattr_written != fid->xattr_value.size()) return Fail(EINVAL);
  Status s;
  if (fid->xattr_value.empty() && (fid->xattr_flags & vfs::kXattrReplace) != 0) {
    s = shared_->fs->RemoveXattr(*fid->cred, fid->ino, fid->xattr_name);  // removexattr(2)
  } else {
    s = shared_->fs->SetXattr(*fid->cred, fid->ino, fid->xattr_name, fid->xattr_value,
                              fid->xattr_flags);
  }
  if (!s.ok()) return Fail(s);
  return Rclunk{};
}

Answer<Rsetattr> VfsHandler::Setattr(RequestContext& ctx, const Tsetattr& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  vfs::SetAttrRequest r;
  if ((req.valid & kSetattrMode) != 0) r.mode = req.mode & kPermissionBits;
  if ((req.valid & kSetattrUid) != 0) r.uid = req.uid;
  if ((req.valid & kSetattrGid) != 0) r.gid = req.gid;
  if ((req.valid & kSetattrSize) != 0) {
    r.size = req.size;
    // ftruncate(2) comes on the open fid: the handle's write access allows it.
    std::lock_guard lock(fid->mu);
    const std::uint32_t access = fid->open_flags & vfs::kOpenAccessMode;
    if (fid->opened && (access == vfs::kOpenWriteOnly || access == vfs::kOpenReadWrite)) {
      r.handle = fid->handle;
    }
  }
  if ((req.valid & kSetattrAtime) != 0) {
    vfs::Timespec t;
    if ((req.valid & kSetattrAtimeSet) == 0) {
      r.atime = vfs::TimeUpdate::Now();
    } else if (ToTimespec(req.atime_sec, req.atime_nsec, &t)) {
      r.atime = vfs::TimeUpdate::At(t);
    } else {
      return Fail(EINVAL);
    }
  }
  if ((req.valid & kSetattrMtime) != 0) {
    vfs::Timespec t;
    if ((req.valid & kSetattrMtimeSet) == 0) {
      r.mtime = vfs::TimeUpdate::Now();
    } else if (ToTimespec(req.mtime_sec, req.mtime_nsec, &t)) {
      r.mtime = vfs::TimeUpdate::At(t);
    } else {
      return Fail(EINVAL);
    }
  }
  const bool nothing =
      !r.mode && !r.uid && !r.gid && !r.size && r.atime.omitted() && r.mtime.omitted();
  // A lone CTIME bit: every change above already sets ctime; alone it changes nothing.
  if (nothing) return Rsetattr{};
  Result<Attr> a = shared_->fs->SetAttr(*fid->cred, fid->ino, r);
  if (!a.ok()) return Fail(a.status());
  return Rsetattr{};
}

Answer<Rlopen> VfsHandler::Lopen(RequestContext& ctx, const Tlopen& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  if (fid->Handle() != kNoHandle) return Fail(EBADF);  // already open
  const std::uint32_t flags = req.flags & kOpenFlagsPassed;
  Result<HandleId> h = shared_->fs->Open(*fid->cred, fid->ino, flags);
  if (!h.ok()) return Fail(h.status());
  std::optional<Attr> dir_attr;
  if (fid->type == FileType::kDirectory) {
    Result<Attr> a = shared_->fs->GetAttr(fid->ino);
    if (a.ok()) dir_attr = *a;
  }
  {
    std::lock_guard lock(fid->mu);
    if (!fid->opened) {
      fid->opened = true;
      fid->handle = *h;
      fid->open_flags = flags;
      fid->open_dir_attr = std::move(dir_attr);
      return Rlopen{QidOf(fid->type, fid->ino), ctx.iounit()};
    }
  }
  (void)shared_->fs->Release(*h);  // a concurrent Tlopen on the same fid won
  return Fail(EBADF);
}

Answer<Rlcreate> VfsHandler::Lcreate(RequestContext& ctx, const Tlcreate& req) {
  auto dir = GetInodeFid(ctx, req.fid);
  if (dir == nullptr) return Fail(EBADF);
  if (dir->Handle() != kNoHandle) return Fail(EBADF);
  auto cred = CreateCredentials(*shared_, *dir, req.gid);
  if (!cred.ok()) return Fail(cred.status());
  const std::uint32_t flags = req.flags & kOpenFlagsPassed;
  Result<vfs::CreateResult> created =
      shared_->fs->Create(**cred, dir->ino, req.name, req.mode & kPermissionBits, flags,
                          (req.flags & kOpenExclusive) != 0, true);
  if (!created.ok()) return Fail(created.status());
  // The fid now names the new file, open; the open handle is released with it.
  auto fid = std::make_shared<VfsFid>(shared_, dir->cred, &ctx.fids, created->attr.ino,
                                      created->attr.type());
  fid->parent = dir->ino;
  fid->name = req.name;
  fid->opened = true;
  fid->handle = created->handle;
  fid->open_flags = flags;
  const Qid qid = QidOf(created->attr);
  if (auto bound = Bind(ctx, req.fid, std::move(fid), true); !bound.ok()) {
    return Errno{bound.error()};
  }
  return Rlcreate{qid, ctx.iounit()};
}

Answer<Rread> VfsHandler::Read(RequestContext& ctx, const Tread& req) {
  auto fid = GetFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  if (fid->kind == FidKind::kXattrRead) {
    std::lock_guard lock(fid->mu);
    const std::string& v = fid->xattr_value;
    if (req.offset >= v.size()) return Rread{};
    const auto offset = static_cast<std::size_t>(req.offset);
    return Rread{Data{v.substr(offset, req.count)}};
  }
  if (fid->kind != FidKind::kInode) return Fail(EBADF);
  const HandleId h = fid->Handle();
  if (h == kNoHandle) return Fail(EBADF);
  Result<std::string> data = shared_->fs->Read(h, req.offset, req.count);
  if (!data.ok()) return Fail(data.status());
  return Rread{Data{std::move(*data)}};
}

Answer<Rwrite> VfsHandler::Write(RequestContext& ctx, const Twrite& req) {
  auto fid = GetFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  const auto count = static_cast<std::uint32_t>(req.data.bytes.size());
  if (fid->kind == FidKind::kXattrWrite) {
    std::lock_guard lock(fid->mu);
    std::string& v = fid->xattr_value;
    if (req.offset > v.size() || count > v.size() - req.offset) return Fail(ENOSPC);
    std::copy(req.data.bytes.begin(), req.data.bytes.end(),
              v.begin() + static_cast<std::ptrdiff_t>(req.offset));
    fid->xattr_written += count;
    return Rwrite{count};
  }
  if (fid->kind != FidKind::kInode) return Fail(EBADF);
  const HandleId h = fid->Handle();
  if (h == kNoHandle) return Fail(EBADF);
  Result<std::uint64_t> n = shared_->fs->Write(h, req.offset, req.data.bytes);
  if (!n.ok()) return Fail(n.status());
  return Rwrite{static_cast<std::uint32_t>(std::min<std::uint64_t>(*n, count))};
}

Answer<Rreaddir> VfsHandler::Readdir(RequestContext& ctx, const Treaddir& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  const HandleId h = fid->Handle();
  if (h == kNoHandle) return Fail(EBADF);
  const std::size_t max_entries =
      std::clamp<std::size_t>(req.count / kDirentFixedBytes, 1, kMaxReaddirEntries);
  Result<std::vector<vfs::DirEntry>> entries = shared_->fs->ReadDir(h, req.offset, max_entries);
  if (!entries.ok()) return Fail(entries.status());
  Rreaddir reply;
  for (vfs::DirEntry& e : *entries) {
    Dirent d{QidOf(e.type, e.ino), e.cookie, static_cast<std::uint8_t>(e.type), std::move(e.name)};
    if (!AppendDirent(reply.data.bytes, d, req.count)) break;
  }
  // Not even one entry fits: the client's buffer is too small to make progress.
  if (reply.data.bytes.empty() && !entries->empty()) return Fail(EINVAL);
  return reply;
}

Answer<Rmkdir> VfsHandler::Mkdir(RequestContext& ctx, const Tmkdir& req) {
  auto dir = GetInodeFid(ctx, req.dfid);
  if (dir == nullptr) return Fail(EBADF);
  auto cred = CreateCredentials(*shared_, *dir, req.gid);
  if (!cred.ok()) return Fail(cred.status());
  Result<Attr> a = shared_->fs->Mkdir(**cred, dir->ino, req.name, req.mode & kPermissionBits);
  if (!a.ok()) return Fail(a.status());
  return Rmkdir{QidOf(*a)};
}

Answer<Rmknod> VfsHandler::Mknod(RequestContext& ctx, const Tmknod& req) {
  auto dir = GetInodeFid(ctx, req.dfid);
  if (dir == nullptr) return Fail(EBADF);
  auto cred = CreateCredentials(*shared_, *dir, req.gid);
  if (!cred.ok()) return Fail(cred.status());
  // The kernel decodes Rgetattr's rdev with new_decode_dev, whose layout makedev() shares.
  const std::uint64_t rdev = makedev(req.major, req.minor);
  Result<Attr> a = shared_->fs->Mknod(**cred, dir->ino, req.name, req.mode, rdev);
  if (!a.ok()) return Fail(a.status());
  return Rmknod{QidOf(*a)};
}

Answer<Rsymlink> VfsHandler::Symlink(RequestContext& ctx, const Tsymlink& req) {
  auto dir = GetInodeFid(ctx, req.fid);
  if (dir == nullptr) return Fail(EBADF);
  auto cred = CreateCredentials(*shared_, *dir, req.gid);
  if (!cred.ok()) return Fail(cred.status());
  Result<Attr> a = shared_->fs->Symlink(**cred, dir->ino, req.name, req.target);
  if (!a.ok()) return Fail(a.status());
  return Rsymlink{QidOf(*a)};
}

Answer<Rreadlink> VfsHandler::Readlink(RequestContext& ctx, const Treadlink& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  Result<std::string> target = shared_->fs->ReadLink(*fid->cred, fid->ino);
  if (!target.ok()) return Fail(target.status());
  return Rreadlink{std::move(*target)};
}

Answer<Rlink> VfsHandler::Link(RequestContext& ctx, const Tlink& req) {
  auto dir = GetInodeFid(ctx, req.dfid);
  auto fid = GetInodeFid(ctx, req.fid);
  if (dir == nullptr || fid == nullptr) return Fail(EBADF);
  Result<Attr> a = shared_->fs->Link(*dir->cred, fid->ino, dir->ino, req.name);
  if (!a.ok()) return Fail(a.status());
  return Rlink{};
}

Answer<Runlinkat> VfsHandler::Unlinkat(RequestContext& ctx, const Tunlinkat& req) {
  auto dir = GetInodeFid(ctx, req.dirfid);
  if (dir == nullptr) return Fail(EBADF);
  if ((req.flags & ~kAtRemoveDir) != 0) return Fail(EINVAL);
  Status s = (req.flags & kAtRemoveDir) != 0 ? shared_->fs->Rmdir(*dir->cred, dir->ino, req.name)
                                             : shared_->fs->Unlink(*dir->cred, dir->ino, req.name);
  if (!s.ok()) return Fail(s);
  return Runlinkat{};
}

Answer<Rrenameat> VfsHandler::Renameat(RequestContext& ctx, const Trenameat& req) {
  auto from = GetInodeFid(ctx, req.olddirfid);
  auto to = GetInodeFid(ctx, req.newdirfid);
  if (from == nullptr || to == nullptr) return Fail(EBADF);
  Status s = shared_->fs->Rename(*from->cred, from->ino, req.oldname, to->ino, req.newname, 0);
  if (!s.ok()) return Fail(s);
  return Rrenameat{};
}

Answer<Rrename> VfsHandler::Rename(RequestContext& ctx, const Trename& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  auto to = GetInodeFid(ctx, req.dfid);
  if (fid == nullptr || to == nullptr) return Fail(EBADF);
  auto [parent, name] = fid->Place();
  if (fid->ino == vfs::kRootIno) return Fail(EBUSY);
  if (parent == 0) return Fail(EOPNOTSUPP);  // walked to through "..": name unknown
  // The name the walk saw may have been renamed since; only rename what it still names.
  Result<Attr> current = shared_->fs->Lookup(*fid->cred, parent, name);
  if (!current.ok()) return Fail(current.status());
  if (current->ino != fid->ino) return Fail(ESTALE);
  Status s = shared_->fs->Rename(*fid->cred, parent, name, to->ino, req.name, 0);
  if (!s.ok()) return Fail(s);
  std::lock_guard lock(fid->mu);
  fid->parent = to->ino;
  fid->name = req.name;
  return Rrename{};
}

Answer<Rremove> VfsHandler::Remove(RequestContext& ctx, const Tremove& req) {
  auto handle = ctx.fids.Remove(req.fid);  // clunked whatever happens next
  if (handle == nullptr) return Fail(EBADF);
  auto fid = std::dynamic_pointer_cast<VfsFid>(handle);
  if (fid == nullptr || fid->kind != FidKind::kInode) return Fail(EINVAL);
  auto [parent, name] = fid->Place();
  if (fid->ino == vfs::kRootIno) return Fail(EBUSY);
  if (parent == 0) return Fail(EOPNOTSUPP);
  Result<Attr> current = shared_->fs->Lookup(*fid->cred, parent, name);
  if (!current.ok()) return Fail(current.status());
  if (current->ino != fid->ino) return Fail(ESTALE);
  Status s = current->is_dir() ? shared_->fs->Rmdir(*fid->cred, parent, name)
                               : shared_->fs->Unlink(*fid->cred, parent, name);
  if (!s.ok()) return Fail(s);
  return Rremove{};
}

Answer<Rstatfs> VfsHandler::Statfs(RequestContext& ctx, const Tstatfs& req) {
  if (GetInodeFid(ctx, req.fid) == nullptr) return Fail(EBADF);
  Result<vfs::StatFs> st = shared_->fs->StatFilesystem();
  if (!st.ok()) return Fail(st.status());
  Rstatfs r;
  r.type = kV9fsMagic;
  r.bsize = st->block_size;
  r.blocks = st->total_blocks;
  r.bfree = st->free_blocks;
  r.bavail = st->available_blocks;
  r.files = st->total_files;
  r.ffree = st->free_files;
  r.namelen = st->name_max;
  return r;
}

Answer<Rfsync> VfsHandler::Fsync(RequestContext& ctx, const Tfsync& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  // Honest: the reply is sent only once the file's changes are in the bucket; a failed
  // upload is the client's EIO.
  const HandleId h = fid->Handle();
  Status s =
      h != kNoHandle ? shared_->fs->Fsync(h, req.datasync != 0) : shared_->fs->FsyncInode(fid->ino);
  if (!s.ok()) return Fail(s);
  return Rfsync{};
}

Answer<Rxattrwalk> VfsHandler::Xattrwalk(RequestContext& ctx, const Txattrwalk& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  if (req.newfid != req.fid && ctx.fids.Get(req.newfid) != nullptr) return Fail(EBADF);
  std::string value;
  if (req.name.empty()) {
    Result<std::vector<std::string>> names = shared_->fs->ListXattr(*fid->cred, fid->ino);
    if (!names.ok()) return Fail(names.status());
    for (const std::string& n : *names) {
      value += n;
      value.push_back('\0');
    }
  } else {
    Result<std::string> v = shared_->fs->GetXattr(*fid->cred, fid->ino, req.name);
    if (!v.ok()) return Fail(v.status());
    value = std::move(*v);
  }
  const std::uint64_t size = value.size();
  auto x = std::make_shared<VfsFid>(shared_, fid->cred, &ctx.fids, fid->ino, fid->type);
  x->kind = FidKind::kXattrRead;
  x->xattr_value = std::move(value);
  if (auto bound = Bind(ctx, req.newfid, std::move(x), req.newfid == req.fid); !bound.ok()) {
    return Errno{bound.error()};
  }
  return Rxattrwalk{size};
}

Answer<Rxattrcreate> VfsHandler::Xattrcreate(RequestContext& ctx, const Txattrcreate& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  if ((req.flags & ~(vfs::kXattrCreate | vfs::kXattrReplace)) != 0) return Fail(EINVAL);
  if (req.name.empty()) return Fail(EINVAL);
  if (req.attr_size > shared_->options.max_xattr_bytes) return Fail(E2BIG);
  // Reserve the buffer against the handler-wide bound before allocating it.
  const std::uint64_t size = req.attr_size;
  if (shared_->xattr_buffer_bytes.fetch_add(size) + size >
      shared_->options.max_xattr_buffer_bytes) {
    shared_->xattr_buffer_bytes.fetch_sub(size);
    return Fail(ENOSPC);
  }
  auto x = std::make_shared<VfsFid>(shared_, fid->cred, &ctx.fids, fid->ino, fid->type);
  x->reserved_bytes = size;
  x->kind = FidKind::kXattrWrite;
  x->xattr_name = req.name;
  x->xattr_value.assign(static_cast<std::size_t>(size), '\0');
  x->xattr_flags = req.flags;
  if (auto bound = Bind(ctx, req.fid, std::move(x), true); !bound.ok()) {
    return Errno{bound.error()};
  }
  return Rxattrcreate{};
}

Answer<Rlock> VfsHandler::Lock(RequestContext& ctx, const Tlock& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  if (req.type != kLockTypeRead && req.type != kLockTypeWrite && req.type != kLockTypeUnlock) {
    return Fail(EINVAL);
  }
  vfs::LockTable& locks = shared_->fs->locks();
  if (req.type == kLockTypeUnlock) {
    // A connection without a session holds no locks: nothing to unlock.
    auto session = SessionOf(shared_, &ctx.fids, false);
    if (session == nullptr) return Rlock{kLockSuccess};
    const vfs::LockOwner owner{session->session, req.proc_id, req.client_id};
    if (Status s = locks.Unlock(fid->ino, owner, req.start, req.length); !s.ok()) return Fail(s);
    return Rlock{kLockSuccess};
  }
  auto session = SessionOf(shared_, &ctx.fids, true);
  vfs::LockOwner owner{session->session, req.proc_id, req.client_id};
  Status s = locks.Lock(fid->ino, owner, LockTypeOf(req.type), req.start, req.length);
  if (vfs::ErrnoOf(s) == EAGAIN) {
    // The kernel waits and retries a blocking request (F_SETLKW) itself; a worker thread
    // never sleeps here.
    return Rlock{kLockBlocked};
  }
  if (!s.ok()) return Fail(s);
  std::lock_guard lock(fid->mu);
  if (fid->lock_session == nullptr) fid->lock_session = std::move(session);
  if (std::find(fid->lock_owners.begin(), fid->lock_owners.end(), owner) ==
      fid->lock_owners.end()) {
    fid->lock_owners.push_back(std::move(owner));
  }
  return Rlock{kLockSuccess};
}

Answer<Rgetlock> VfsHandler::Getlock(RequestContext& ctx, const Tgetlock& req) {
  auto fid = GetInodeFid(ctx, req.fid);
  if (fid == nullptr) return Fail(EBADF);
  if (req.type != kLockTypeRead && req.type != kLockTypeWrite) return Fail(EINVAL);
  // Without a session the connection holds no locks, so every lock is another owner's.
  auto session = SessionOf(shared_, &ctx.fids, false);
  const vfs::LockOwner owner{session == nullptr ? vfs::kNoLockSession : session->session,
                             req.proc_id, req.client_id};
  std::optional<vfs::HeldLock> held =
      shared_->fs->locks().GetLock(fid->ino, owner, LockTypeOf(req.type), req.start, req.length);
  if (!held.has_value()) {
    return Rgetlock{kLockTypeUnlock, req.start, req.length, req.proc_id, req.client_id};
  }
  const std::uint8_t type =
      held->type == vfs::LockType::kExclusive ? kLockTypeWrite : kLockTypeRead;
  return Rgetlock{type, held->start, held->length, static_cast<std::uint32_t>(held->owner.process),
                  held->owner.client};
}

}  // namespace zerofs::ninep
