// The in-memory reference NfsHandler; see memory_handler.h.
#include "zerofs/nfs/memory_handler.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "memory_node.h"
#include "zerofs/common/coding.h"

namespace zerofs::nfs {
namespace {

using memory_internal::Now;

constexpr std::size_t kHandleBytes = 16;

std::uint64_t RandomU64() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

Verifier RandomVerifier() {
  Verifier v{};
  std::uint64_t r = RandomU64();
  std::memcpy(v.data(), &r, v.size());
  return v;
}

}  // namespace

MemoryNfsHandler::MemoryNfsHandler(MemoryNfsOptions options)
    : options_(options), instance_id_(RandomU64()), write_verf_(RandomVerifier()) {
  auto root = std::make_unique<Node>();
  root->fileid = kMemoryRootId;
  root->type = Ftype3::kDir;
  root->mode = options_.root_mode;
  root->nlink = 2;
  root->atime = root->mtime = root->ctime = Now();
  nodes_.emplace(kMemoryRootId, std::move(root));
}

MemoryNfsHandler::~MemoryNfsHandler() = default;

Fh3 MemoryNfsHandler::HandleOf(std::uint64_t fileid) const {
  Fh3 fh;
  fh.data.resize(kHandleBytes);
  coding::StoreBigEndian64(fh.data.data(), instance_id_);
  coding::StoreBigEndian64(fh.data.data() + 8, fileid);
  return fh;
}

Fh3 MemoryNfsHandler::RootHandle() const {
  return HandleOf(kMemoryRootId);
}

MemoryNfsHandler::Node* MemoryNfsHandler::Find(const Fh3& fh, Nfsstat3* status) {
  if (fh.data.size() != kHandleBytes) {
    *status = Nfsstat3::kBadhandle;
    return nullptr;
  }
  auto it = coding::LoadBigEndian64(fh.data.data()) == instance_id_
                ? nodes_.find(coding::LoadBigEndian64(fh.data.data() + 8))
                : nodes_.end();
  if (it == nodes_.end()) {
    *status = Nfsstat3::kStale;
    return nullptr;
  }
  *status = Nfsstat3::kOk;
  return it->second.get();
}

Fattr3 MemoryNfsHandler::AttrOf(const Node& n) const {
  Fattr3 a;
  a.type = n.type;
  a.mode = n.mode;
  a.nlink = n.nlink;
  a.uid = n.uid;
  a.gid = n.gid;
  a.size = n.type == Ftype3::kDir ? 4096 : n.data.size();
  a.used = (a.size + 4095) & ~std::uint64_t{4095};
  a.rdev_major = n.major;
  a.rdev_minor = n.minor;
  a.fsid = instance_id_;
  a.fileid = n.fileid;
  a.atime = n.atime;
  a.mtime = n.mtime;
  a.ctime = n.ctime;
  return a;
}

WccAttr MemoryNfsHandler::WccOf(const Node& n) const {
  return {n.type == Ftype3::kDir ? 4096 : n.data.size(), n.mtime, n.ctime};
}

bool MemoryNfsHandler::Allowed(const Node& n, const AuthSys& cred, std::uint32_t want) {
  if (cred.uid == 0) return true;
  std::uint32_t bits = n.mode & 07;
  if (cred.uid == n.uid) {
    bits = (n.mode >> 6) & 07;
  } else if (cred.gid == n.gid ||
             std::find(cred.gids.begin(), cred.gids.end(), n.gid) != cred.gids.end()) {
    bits = (n.mode >> 3) & 07;
  }
  return (bits & want) == want;
}

Nfsstat3 MemoryNfsHandler::CheckName(const std::string& name) const {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return Nfsstat3::kInval;
  }
  return name.size() > kMaxNameBytes ? Nfsstat3::kNametoolong : Nfsstat3::kOk;
}

Nfsstat3 MemoryNfsHandler::ApplySattr(Node& n, const Sattr3& s) {
  if (s.size) {
    if (n.type == Ftype3::kDir) return Nfsstat3::kIsdir;
    if (n.type != Ftype3::kReg) return Nfsstat3::kInval;
    if (*s.size > n.data.size() && *s.size - n.data.size() > options_.max_bytes - bytes_used_) {
      return Nfsstat3::kNospc;
    }
    bytes_used_ = bytes_used_ - n.data.size() + *s.size;
    n.data.resize(*s.size, '\0');
    n.mtime = Now();
  }
  if (s.mode) n.mode = *s.mode & 07777;
  if (s.uid) n.uid = *s.uid;
  if (s.gid) n.gid = *s.gid;
  if (s.atime_how != TimeHow::kDontChange) {
    n.atime = s.atime_how == TimeHow::kClientTime ? s.atime : Now();
  }
  if (s.mtime_how != TimeHow::kDontChange) {
    n.mtime = s.mtime_how == TimeHow::kClientTime ? s.mtime : Now();
  }
  n.ctime = Now();
  return Nfsstat3::kOk;
}

// --- MOUNT --------------------------------------------------------------------------------

MntRes MemoryNfsHandler::Mnt(const CallContext& ctx, const std::string& path) {
  MntRes res;
  if (path != "/" && !path.empty()) {
    res.status = MountStat3::kNoent;  // only the root is exported
    return res;
  }
  std::lock_guard lock(mu_);
  mounts_.emplace(ctx.cred.machine_name, "/");
  res.handle = RootHandle();
  res.auth_flavors = {static_cast<std::uint32_t>(AuthFlavor::kSys)};
  return res;
}

std::vector<MountEntry> MemoryNfsHandler::Dump(const CallContext&) {
  std::lock_guard lock(mu_);
  std::vector<MountEntry> out;
  for (const auto& [host, dir] : mounts_) out.push_back({host, dir});
  return out;
}

void MemoryNfsHandler::Umnt(const CallContext& ctx, const std::string& path) {
  std::lock_guard lock(mu_);
  mounts_.erase({ctx.cred.machine_name, path.empty() ? "/" : path});
}

void MemoryNfsHandler::Umntall(const CallContext& ctx) {
  std::lock_guard lock(mu_);
  std::erase_if(mounts_, [&](const auto& m) { return m.first == ctx.cred.machine_name; });
}

std::vector<ExportEntry> MemoryNfsHandler::Export(const CallContext&) {
  return {{"/", {}}};
}

// --- attributes and lookup ---------------------------------------------------------------

GetattrRes MemoryNfsHandler::Getattr(const CallContext&, const FhArgs& args) {
  std::lock_guard lock(mu_);
  GetattrRes res;
  if (Node* n = Find(args.object, &res.status)) res.attributes = AttrOf(*n);
  return res;
}

WccRes MemoryNfsHandler::Setattr(const CallContext& ctx, const SetattrArgs& args) {
  std::lock_guard lock(mu_);
  WccRes res;
  Node* n = Find(args.object, &res.status);
  if (!n) return res;
  res.wcc.before = WccOf(*n);
  if (args.guard_ctime && !(*args.guard_ctime == n->ctime)) {
    res.status = Nfsstat3::kNotSync;
  } else if ((args.attributes.uid || args.attributes.gid) && ctx.cred.uid != 0 &&
             ctx.cred.uid != n->uid) {
    res.status = Nfsstat3::kPerm;
  } else if (args.attributes.size && !Allowed(*n, ctx.cred, 02)) {
    res.status = Nfsstat3::kAcces;
  } else {
    res.status = ApplySattr(*n, args.attributes);
  }
  res.wcc.after = AttrOf(*n);
  return res;
}

LookupRes MemoryNfsHandler::Lookup(const CallContext& ctx, const LookupArgs& args) {
  std::lock_guard lock(mu_);
  LookupRes res;
  Node* dir = Find(args.what.dir, &res.status);
  if (!dir) return res;
  res.dir_attr = AttrOf(*dir);
  if (dir->type != Ftype3::kDir) {
    res.status = Nfsstat3::kNotdir;
    return res;
  }
  if (!Allowed(*dir, ctx.cred, 01)) {
    res.status = Nfsstat3::kAcces;
    return res;
  }
  std::uint64_t id = 0;
  if (args.what.name == ".") {
    id = dir->fileid;
  } else if (args.what.name == "..") {
    id = dir->parent;
  } else if (auto it = dir->children.find(args.what.name); it != dir->children.end()) {
    id = it->second;
  } else {
    res.status = args.what.name.size() > kMaxNameBytes ? Nfsstat3::kNametoolong : Nfsstat3::kNoent;
    return res;
  }
  res.object = HandleOf(id);
  res.obj_attr = AttrOf(*nodes_.at(id));
  return res;
}

AccessRes MemoryNfsHandler::Access(const CallContext& ctx, const AccessArgs& args) {
  std::lock_guard lock(mu_);
  AccessRes res;
  Node* n = Find(args.object, &res.status);
  if (!n) return res;
  res.attr = AttrOf(*n);
  std::uint32_t granted = 0;
  if (Allowed(*n, ctx.cred, 04)) granted |= kAccessRead;
  if (Allowed(*n, ctx.cred, 02)) granted |= kAccessModify | kAccessExtend | kAccessDelete;
  if (Allowed(*n, ctx.cred, 01)) granted |= kAccessLookup | kAccessExecute;
  if (n->type == Ftype3::kDir)
    granted &= ~kAccessExecute;
  else
    granted &= ~(kAccessLookup | kAccessDelete);
  res.access = args.access & granted;
  return res;
}

ReadlinkRes MemoryNfsHandler::Readlink(const CallContext&, const FhArgs& args) {
  std::lock_guard lock(mu_);
  ReadlinkRes res;
  Node* n = Find(args.object, &res.status);
  if (!n) return res;
  res.attr = AttrOf(*n);
  if (n->type != Ftype3::kLnk) {
    res.status = Nfsstat3::kInval;
  } else {
    res.target = n->data;
  }
  return res;
}

// --- data ---------------------------------------------------------------------------------

ReadRes MemoryNfsHandler::Read(const CallContext& ctx, const ReadArgs& args) {
  std::lock_guard lock(mu_);
  ReadRes res;
  Node* n = Find(args.file, &res.status);
  if (!n) return res;
  if (n->type != Ftype3::kReg) {
    res.status = n->type == Ftype3::kDir ? Nfsstat3::kIsdir : Nfsstat3::kInval;
  } else if (!Allowed(*n, ctx.cred, 04) && ctx.cred.uid != n->uid) {
    res.status = Nfsstat3::kAcces;
  } else if (args.offset < n->data.size()) {
    const std::size_t count = std::min<std::uint64_t>(args.count, n->data.size() - args.offset);
    res.data.assign(n->data, args.offset, count);
    res.eof = args.offset + count >= n->data.size();
  } else {
    res.eof = true;
  }
  n->atime = Now();
  res.attr = AttrOf(*n);
  return res;
}

WriteRes MemoryNfsHandler::Write(const CallContext& ctx, const WriteArgs& args) {
  std::lock_guard lock(mu_);
  WriteRes res;
  Node* n = Find(args.file, &res.status);
  if (!n) return res;
  res.wcc.before = WccOf(*n);
  const std::uint64_t end = args.offset + args.data.size();
  if (n->type != Ftype3::kReg) {
    res.status = n->type == Ftype3::kDir ? Nfsstat3::kIsdir : Nfsstat3::kInval;
  } else if (!Allowed(*n, ctx.cred, 02) && ctx.cred.uid != n->uid) {
    res.status = Nfsstat3::kAcces;
  } else if (end < args.offset ||
             (end > n->data.size() && end - n->data.size() > options_.max_bytes - bytes_used_)) {
    res.status = Nfsstat3::kNospc;
  } else {
    if (end > n->data.size()) {
      bytes_used_ += end - n->data.size();
      n->data.resize(end, '\0');
    }
    n->data.replace(args.offset, args.data.size(), args.data);
    n->mtime = n->ctime = Now();
    res.count = static_cast<std::uint32_t>(args.data.size());
    // Memory is as durable as this handler gets: an UNSTABLE write stays UNSTABLE so that
    // clients exercise COMMIT; a restart loses everything and changes the verifier.
    res.committed =
        args.stable == StableHow::kUnstable ? StableHow::kUnstable : StableHow::kFileSync;
    res.verf = write_verf_;
  }
  res.wcc.after = AttrOf(*n);
  return res;
}

CommitRes MemoryNfsHandler::Commit(const CallContext&, const CommitArgs& args) {
  std::lock_guard lock(mu_);
  CommitRes res;
  Node* n = Find(args.file, &res.status);
  if (!n) return res;
  res.wcc.before = WccOf(*n);
  res.wcc.after = AttrOf(*n);
  if (n->type != Ftype3::kReg) res.status = Nfsstat3::kInval;
  res.verf = write_verf_;
  return res;
}

// --- file system --------------------------------------------------------------------------

FsstatRes MemoryNfsHandler::Fsstat(const CallContext&, const FhArgs& args) {
  std::lock_guard lock(mu_);
  FsstatRes res;
  Node* n = Find(args.object, &res.status);
  if (!n) return res;
  res.attr = AttrOf(*n);
  res.tbytes = options_.max_bytes;
  res.fbytes = res.abytes = options_.max_bytes - bytes_used_;
  res.tfiles = options_.max_nodes;
  res.ffiles = res.afiles = options_.max_nodes - nodes_.size();
  return res;
}

FsinfoRes MemoryNfsHandler::Fsinfo(const CallContext&, const FhArgs& args) {
  std::lock_guard lock(mu_);
  FsinfoRes res;
  Node* n = Find(args.object, &res.status);
  if (!n) return res;
  res.attr = AttrOf(*n);
  res.maxfilesize = options_.max_bytes;
  return res;
}

PathconfRes MemoryNfsHandler::Pathconf(const CallContext&, const FhArgs& args) {
  std::lock_guard lock(mu_);
  PathconfRes res;
  Node* n = Find(args.object, &res.status);
  if (n) res.attr = AttrOf(*n);
  return res;
}

}  // namespace zerofs::nfs
