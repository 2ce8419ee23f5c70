// MemoryHandler; see memory_handler.h.
#include "zerofs/ninep/memory_handler.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "zerofs/ninep/codec.h"

namespace zerofs::ninep {
namespace {

constexpr std::uint32_t kNameMax = 255;
constexpr std::uint32_t kBlockBytes = 4096;

struct Node {
  std::uint64_t ino = 0;
  std::uint32_t mode = 0;  // S_IF* | permissions
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t nlink = 1;
  std::uint32_t version = 0;
  std::uint64_t atime_ns = 0, mtime_ns = 0, ctime_ns = 0;
  std::string data;  // file contents or symlink target
  std::map<std::string, std::shared_ptr<Node>> children;
  std::weak_ptr<Node> parent;

  bool is_dir() const { return S_ISDIR(mode); }
  bool is_file() const { return S_ISREG(mode); }
  Qid qid() const {
    std::uint8_t type = kQidFile;
    if (S_ISDIR(mode)) type = kQidDir;
    if (S_ISLNK(mode)) type = kQidSymlink;
    return Qid{type, version, ino};
  }
};

// What a fid names: a node, and whether (and how) it was opened.
struct MemoryFid final : FidHandle {
  std::shared_ptr<Node> node;
  bool open = false;
  std::uint32_t open_flags = 0;
  std::uint32_t uid = 0;
};

std::uint64_t NowNs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

bool ValidName(const std::string& name) {
  return !name.empty() && name.size() <= kNameMax && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

std::uint8_t DirentType(const Node& n) {
  if (n.is_dir()) return DT_DIR;
  if (S_ISLNK(n.mode)) return DT_LNK;
  return DT_REG;
}

}  // namespace

struct MemoryHandler::Tree {
  explicit Tree(MemoryHandlerOptions o) : options(o) {
    root = NewNode(S_IFDIR | 0755, 0, 0);
    root->nlink = 2;
  }

  std::shared_ptr<Node> NewNode(std::uint32_t mode, std::uint32_t uid, std::uint32_t gid) {
    auto n = std::make_shared<Node>();
    n->ino = next_ino++;
    n->mode = mode;
    n->uid = uid;
    n->gid = gid;
    n->atime_ns = n->mtime_ns = n->ctime_ns = NowNs();
    ++nodes;
    return n;
  }

  // Checks the fid and its node type; on success the fid's state is in *out.
  std::uint32_t Lookup(RequestContext& ctx, std::uint32_t fid, std::shared_ptr<MemoryFid>* out) {
    *out = ctx.fids.GetAs<MemoryFid>(fid);
    return *out == nullptr ? EBADF : 0;
  }

  void Touch(Node& n) {
    n.mtime_ns = n.ctime_ns = NowNs();
    ++n.version;
  }

  // Links a new child `name` of `dir`; returns errno.
  std::uint32_t AddChild(Node& dir, const std::string& name, const std::shared_ptr<Node>& child,
                         const std::shared_ptr<Node>& dir_ptr) {
    if (!dir.is_dir()) return ENOTDIR;
    if (!ValidName(name)) return name.size() > kNameMax ? ENAMETOOLONG : EINVAL;
    if (dir.children.count(name) != 0) return EEXIST;
    if (nodes >= options.max_nodes) return ENOSPC;
    child->parent = dir_ptr;
    dir.children.emplace(name, child);
    if (child->is_dir()) ++dir.nlink;
    Touch(dir);
    return 0;
  }

  void Forget(Node& n) {
    total_bytes -= n.data.size();
    --nodes;
  }

  MemoryHandlerOptions options;
  std::mutex mu;
  std::shared_ptr<Node> root;
  std::uint64_t next_ino = 1;
  std::uint64_t nodes = 0;
  std::uint64_t total_bytes = 0;
};

MemoryHandler::MemoryHandler(MemoryHandlerOptions options)
    : tree_(std::make_unique<Tree>(options)) {}
MemoryHandler::~MemoryHandler() = default;

Answer<Rattach> MemoryHandler::Attach(RequestContext& ctx, const Tattach& req) {
  if (req.afid != kNoFid) return Errno{EINVAL};  // no authentication here
  auto fid = std::make_shared<MemoryFid>();
  fid->uid = req.n_uname == kNoUid ? 0 : req.n_uname;
  Qid qid;
  {
    std::lock_guard lock(tree_->mu);
    fid->node = tree_->root;
    qid = fid->node->qid();
  }
  if (int e = ctx.fids.Insert(req.fid, fid); e != 0) return Errno{static_cast<std::uint32_t>(e)};
  return Rattach{qid};
}

Answer<Rwalk> MemoryHandler::Walk(RequestContext& ctx, const Twalk& req) {
  std::shared_ptr<MemoryFid> from;
  if (auto e = tree_->Lookup(ctx, req.fid, &from)) return Errno{e};
  // walk(5) forbids walking from an open fid, but Linux clients (v9fs, diod's tools) do
  // it, and diod allows it; so do we.
  if (req.newfid != req.fid && ctx.fids.Get(req.newfid) != nullptr) return Errno{EBADF};
  Rwalk reply;
  std::shared_ptr<Node> node;
  {
    std::lock_guard lock(tree_->mu);
    node = from->node;
    for (const std::string& name : req.names) {
      std::shared_ptr<Node> next;
      if (!node->is_dir()) {
        if (reply.qids.empty()) return Errno{ENOTDIR};
        break;
      }
      if (name == "..") {
        next = node->parent.lock();
        if (next == nullptr) next = node;  // the root is its own parent
      } else if (name == ".") {
        next = node;
      } else {
        auto it = node->children.find(name);
        if (it != node->children.end()) next = it->second;
      }
      if (next == nullptr) {
        if (reply.qids.empty()) return Errno{ENOENT};
        break;
      }
      node = next;
      reply.qids.push_back(node->qid());
    }
  }
  if (reply.qids.size() < req.names.size()) return reply;  // partial: newfid not bound
  auto fid = std::make_shared<MemoryFid>();
  fid->node = node;
  fid->uid = from->uid;
  int e = req.newfid == req.fid ? ctx.fids.Replace(req.fid, fid) : ctx.fids.Insert(req.newfid, fid);
  if (e != 0) return Errno{static_cast<std::uint32_t>(e)};
  return reply;
}

Answer<Rgetattr> MemoryHandler::Getattr(RequestContext& ctx, const Tgetattr& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  const Node& n = *fid->node;
  Rgetattr r;
  r.valid = kGetattrBasic;
  r.qid = n.qid();
  r.mode = n.mode;
  r.uid = n.uid;
  r.gid = n.gid;
  r.nlink = n.nlink;
  r.size = n.is_dir() ? kBlockBytes : n.data.size();
  r.blksize = kBlockBytes;
  r.blocks = (n.data.size() + 511) / 512;
  r.atime_sec = n.atime_ns / 1000000000;
  r.atime_nsec = n.atime_ns % 1000000000;
  r.mtime_sec = n.mtime_ns / 1000000000;
  r.mtime_nsec = n.mtime_ns % 1000000000;
  r.ctime_sec = n.ctime_ns / 1000000000;
  r.ctime_nsec = n.ctime_ns % 1000000000;
  r.data_version = n.version;
  return r;
}

Answer<Rsetattr> MemoryHandler::Setattr(RequestContext& ctx, const Tsetattr& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  Node& n = *fid->node;
  const std::uint64_t now = NowNs();
  if (req.valid & kSetattrSize) {
    if (n.is_dir()) return Errno{EISDIR};
    if (!n.is_file()) return Errno{EINVAL};
    if (req.size > tree_->options.max_file_bytes) return Errno{EFBIG};
    if (req.size > n.data.size() &&
        tree_->total_bytes + (req.size - n.data.size()) > tree_->options.max_total_bytes) {
      return Errno{ENOSPC};
    }
    tree_->total_bytes = tree_->total_bytes - n.data.size() + req.size;
    n.data.resize(req.size);
    n.mtime_ns = now;
    ++n.version;
  }
  if (req.valid & kSetattrMode) n.mode = (n.mode & S_IFMT) | (req.mode & 07777);
  if (req.valid & kSetattrUid) n.uid = req.uid;
  if (req.valid & kSetattrGid) n.gid = req.gid;
  if (req.valid & kSetattrAtime) {
    n.atime_ns = (req.valid & kSetattrAtimeSet) ? req.atime_sec * 1000000000 + req.atime_nsec : now;
  }
  if (req.valid & kSetattrMtime) {
    n.mtime_ns = (req.valid & kSetattrMtimeSet) ? req.mtime_sec * 1000000000 + req.mtime_nsec : now;
  }
  n.ctime_ns = now;
  return Rsetattr{};
}

Answer<Rlopen> MemoryHandler::Lopen(RequestContext& ctx, const Tlopen& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  if (fid->open) return Errno{EBADF};
  Node& n = *fid->node;
  const std::uint32_t access = req.flags & O_ACCMODE;
  if (n.is_dir() && access != O_RDONLY) return Errno{EISDIR};
  if (n.is_file() && (req.flags & O_TRUNC) && access != O_RDONLY) {
    tree_->total_bytes -= n.data.size();
    n.data.clear();
    tree_->Touch(n);
  }
  fid->open = true;
  fid->open_flags = req.flags;
  return Rlopen{n.qid(), ctx.iounit()};
}

Answer<Rlcreate> MemoryHandler::Lcreate(RequestContext& ctx, const Tlcreate& req) {
  std::shared_ptr<MemoryFid> dir;
  if (auto e = tree_->Lookup(ctx, req.fid, &dir)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  if (dir->open) return Errno{EBADF};
  auto node = tree_->NewNode(S_IFREG | (req.mode & 07777), dir->uid, req.gid);
  if (auto e = tree_->AddChild(*dir->node, req.name, node, dir->node)) {
    --tree_->nodes;
    return Errno{e};
  }
  auto fid = std::make_shared<MemoryFid>();
  fid->node = node;
  fid->uid = dir->uid;
  fid->open = true;
  fid->open_flags = req.flags;
  if (int e = ctx.fids.Replace(req.fid, fid); e != 0) {
    return Errno{static_cast<std::uint32_t>(e)};
  }
  return Rlcreate{node->qid(), ctx.iounit()};
}

Answer<Rread> MemoryHandler::Read(RequestContext& ctx, const Tread& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  if (!fid->open || (fid->open_flags & O_ACCMODE) == O_WRONLY) return Errno{EBADF};
  const Node& n = *fid->node;
  if (n.is_dir()) return Errno{EISDIR};
  Rread r;
  if (req.offset < n.data.size()) {
    r.data.bytes = n.data.substr(static_cast<std::size_t>(req.offset), req.count);
  }
  return r;
}

Answer<Rwrite> MemoryHandler::Write(RequestContext& ctx, const Twrite& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  if (!fid->open || (fid->open_flags & O_ACCMODE) == O_RDONLY) return Errno{EBADF};
  Node& n = *fid->node;
  if (!n.is_file()) return Errno{EISDIR};
  const std::uint64_t offset = (fid->open_flags & O_APPEND) ? n.data.size() : req.offset;
  const std::uint64_t end = offset + req.data.bytes.size();
  if (end < offset || end > tree_->options.max_file_bytes) return Errno{EFBIG};
  if (end > n.data.size()) {
    if (tree_->total_bytes + (end - n.data.size()) > tree_->options.max_total_bytes) {
      return Errno{ENOSPC};
    }
    tree_->total_bytes += end - n.data.size();
    n.data.resize(static_cast<std::size_t>(end));
  }
  n.data.replace(static_cast<std::size_t>(offset), req.data.bytes.size(), req.data.bytes);
  tree_->Touch(n);
  return Rwrite{static_cast<std::uint32_t>(req.data.bytes.size())};
}

Answer<Rreaddir> MemoryHandler::Readdir(RequestContext& ctx, const Treaddir& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  if (!fid->open) return Errno{EBADF};
  const Node& dir = *fid->node;
  if (!dir.is_dir()) return Errno{ENOTDIR};
  // Cookies are positions in name order: ".", "..", then the children. A cookie stays
  // meaningful across calls as long as the directory does not change, which is what a
  // tree for tests needs.
  std::vector<Dirent> all;
  all.push_back({dir.qid(), 1, DT_DIR, "."});
  std::shared_ptr<Node> parent = dir.parent.lock();
  all.push_back({(parent ? *parent : dir).qid(), 2, DT_DIR, ".."});
  for (const auto& [name, child] : dir.children) {
    all.push_back({child->qid(), all.size() + 1, DirentType(*child), name});
  }
  Rreaddir r;
  for (std::size_t i = static_cast<std::size_t>(std::min<std::uint64_t>(req.offset, all.size()));
       i < all.size(); ++i) {
    if (!AppendDirent(r.data.bytes, all[i], req.count)) break;
  }
  return r;
}

Answer<Rmkdir> MemoryHandler::Mkdir(RequestContext& ctx, const Tmkdir& req) {
  std::shared_ptr<MemoryFid> dir;
  if (auto e = tree_->Lookup(ctx, req.dfid, &dir)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  auto node = tree_->NewNode(S_IFDIR | (req.mode & 07777), dir->uid, req.gid);
  node->nlink = 2;
  if (auto e = tree_->AddChild(*dir->node, req.name, node, dir->node)) {
    --tree_->nodes;
    return Errno{e};
  }
  return Rmkdir{node->qid()};
}

Answer<Rsymlink> MemoryHandler::Symlink(RequestContext& ctx, const Tsymlink& req) {
  std::shared_ptr<MemoryFid> dir;
  if (auto e = tree_->Lookup(ctx, req.fid, &dir)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  auto node = tree_->NewNode(S_IFLNK | 0777, dir->uid, req.gid);
  node->data = req.target;
  if (auto e = tree_->AddChild(*dir->node, req.name, node, dir->node)) {
    --tree_->nodes;
    return Errno{e};
  }
  tree_->total_bytes += node->data.size();
  return Rsymlink{node->qid()};
}

Answer<Rreadlink> MemoryHandler::Readlink(RequestContext& ctx, const Treadlink& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  if (!S_ISLNK(fid->node->mode)) return Errno{EINVAL};
  return Rreadlink{fid->node->data};
}

Answer<Runlinkat> MemoryHandler::Unlinkat(RequestContext& ctx, const Tunlinkat& req) {
  std::shared_ptr<MemoryFid> dir;
  if (auto e = tree_->Lookup(ctx, req.dirfid, &dir)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  Node& d = *dir->node;
  if (!d.is_dir()) return Errno{ENOTDIR};
  auto it = d.children.find(req.name);
  if (it == d.children.end()) return Errno{ENOENT};
  Node& victim = *it->second;
  if (req.flags & kAtRemoveDir) {
    if (!victim.is_dir()) return Errno{ENOTDIR};
    if (!victim.children.empty()) return Errno{ENOTEMPTY};
    --d.nlink;
  } else if (victim.is_dir()) {
    return Errno{EISDIR};
  }
  victim.nlink = 0;
  tree_->Forget(victim);
  d.children.erase(it);
  tree_->Touch(d);
  return Runlinkat{};
}

Answer<Rremove> MemoryHandler::Remove(RequestContext& ctx, const Tremove& req) {
  // remove(5): the fid is clunked even when the removal fails.
  auto fid = std::dynamic_pointer_cast<MemoryFid>(ctx.fids.Remove(req.fid));
  if (fid == nullptr) return Errno{EBADF};
  std::lock_guard lock(tree_->mu);
  std::shared_ptr<Node> parent = fid->node->parent.lock();
  if (parent == nullptr) return Errno{EBUSY};  // the root
  Node& victim = *fid->node;
  if (victim.is_dir() && !victim.children.empty()) return Errno{ENOTEMPTY};
  for (auto it = parent->children.begin(); it != parent->children.end(); ++it) {
    if (it->second.get() != &victim) continue;
    if (victim.is_dir()) --parent->nlink;
    victim.nlink = 0;
    tree_->Forget(victim);
    parent->children.erase(it);
    tree_->Touch(*parent);
    return Rremove{};
  }
  return Errno{ENOENT};  // already unlinked
}

Answer<Rstatfs> MemoryHandler::Statfs(RequestContext& ctx, const Tstatfs& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  std::lock_guard lock(tree_->mu);
  const MemoryHandlerOptions& o = tree_->options;
  Rstatfs r;
  r.type = 0x01021997;  // V9FS_MAGIC, what statfs(2) shows for a 9p mount
  r.bsize = kBlockBytes;
  r.blocks = o.max_total_bytes / kBlockBytes;
  r.bfree = (o.max_total_bytes - tree_->total_bytes) / kBlockBytes;
  r.bavail = r.bfree;
  r.files = o.max_nodes;
  r.ffree = o.max_nodes - tree_->nodes;
  r.fsid = 0x7a65726f6673ULL;  // "zerofs"
  r.namelen = kNameMax;
  return r;
}

Answer<Rfsync> MemoryHandler::Fsync(RequestContext& ctx, const Tfsync& req) {
  std::shared_ptr<MemoryFid> fid;
  if (auto e = tree_->Lookup(ctx, req.fid, &fid)) return Errno{e};
  return Rfsync{};  // nothing is more durable than RAM here
}

}  // namespace zerofs::ninep
