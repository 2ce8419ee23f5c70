// MemoryNfsHandler: the namespace procedures (CREATE, MKDIR, SYMLINK, MKNOD, REMOVE,
// RMDIR, RENAME, LINK) and directory listing; see memory_handler.h.
#include <algorithm>
#include <cstring>
#include <iterator>

#include "memory_node.h"
#include "zerofs/nfs/memory_handler.h"

namespace zerofs::nfs {

using memory_internal::Now;

// --- namespace ----------------------------------------------------------------------------

MemoryNfsHandler::Node* MemoryNfsHandler::MakeNode(const CallContext& ctx, const DirOpArgs3& where,
                                                   Ftype3 type, const Sattr3& attrs,
                                                   DiropRes& res) {
  Node* dir = Find(where.dir, &res.status);
  if (!dir) return nullptr;
  res.dir_wcc.before = WccOf(*dir);
  res.dir_wcc.after = AttrOf(*dir);
  if (dir->type != Ftype3::kDir) {
    res.status = Nfsstat3::kNotdir;
  } else if ((res.status = CheckName(where.name)) != Nfsstat3::kOk) {
  } else if (!Allowed(*dir, ctx.cred, 03)) {
    res.status = Nfsstat3::kAcces;
  } else if (dir->children.count(where.name)) {
    res.status = Nfsstat3::kExist;
  } else if (nodes_.size() >= options_.max_nodes) {
    res.status = Nfsstat3::kNospc;
  }
  if (res.status != Nfsstat3::kOk) return nullptr;
  auto node = std::make_unique<Node>();
  Node* n = node.get();
  n->fileid = next_fileid_++;
  n->type = type;
  n->mode = type == Ftype3::kDir ? 0755 : 0644;
  n->uid = ctx.cred.uid;
  n->gid = ctx.cred.gid;
  n->nlink = type == Ftype3::kDir ? 2 : 1;
  n->parent = dir->fileid;
  n->atime = n->mtime = n->ctime = Now();
  nodes_.emplace(n->fileid, std::move(node));
  Sattr3 initial = attrs;
  initial.uid.reset();  // the caller owns what it creates
  initial.gid.reset();
  (void)ApplySattr(*n, initial);
  dir->children.emplace(where.name, n->fileid);
  if (type == Ftype3::kDir) ++dir->nlink;
  ++dir->dir_generation;
  dir->mtime = dir->ctime = Now();
  res.object = HandleOf(n->fileid);
  res.obj_attr = AttrOf(*n);
  res.dir_wcc.after = AttrOf(*dir);
  return n;
}

DiropRes MemoryNfsHandler::Create(const CallContext& ctx, const CreateArgs& args) {
  std::lock_guard lock(mu_);
  DiropRes res;
  Nfsstat3 st;
  Node* dir = Find(args.where.dir, &st);
  if (dir && dir->type == Ftype3::kDir && args.mode != CreateMode::kGuarded) {
    if (auto it = dir->children.find(args.where.name); it != dir->children.end()) {
      Node& existing = *nodes_.at(it->second);
      res.dir_wcc.before = WccOf(*dir);
      res.dir_wcc.after = AttrOf(*dir);
      if (args.mode == CreateMode::kExclusive) {
        // A retransmitted exclusive create (same verifier) succeeds; anything else exists.
        res.status = existing.create_verf == args.verf ? Nfsstat3::kOk : Nfsstat3::kExist;
      } else if (existing.type != Ftype3::kReg) {
        res.status = Nfsstat3::kExist;
      } else if (args.attributes.size) {
        Sattr3 truncate;
        truncate.size = args.attributes.size;
        res.status = ApplySattr(existing, truncate);
      }
      if (res.status == Nfsstat3::kOk) {
        res.object = HandleOf(existing.fileid);
        res.obj_attr = AttrOf(existing);
      }
      return res;
    }
  }
  Sattr3 attrs = args.mode == CreateMode::kExclusive ? Sattr3{} : args.attributes;
  if (Node* n = MakeNode(ctx, args.where, Ftype3::kReg, attrs, res)) {
    if (args.mode == CreateMode::kExclusive) n->create_verf = args.verf;
  }
  return res;
}

DiropRes MemoryNfsHandler::Mkdir(const CallContext& ctx, const MkdirArgs& args) {
  std::lock_guard lock(mu_);
  DiropRes res;
  MakeNode(ctx, args.where, Ftype3::kDir, args.attributes, res);
  return res;
}

DiropRes MemoryNfsHandler::Symlink(const CallContext& ctx, const SymlinkArgs& args) {
  std::lock_guard lock(mu_);
  DiropRes res;
  Sattr3 attrs = args.attributes;
  attrs.size.reset();
  if (Node* n = MakeNode(ctx, args.where, Ftype3::kLnk, attrs, res)) {
    n->mode = 0777;
    n->data = args.target;
    res.obj_attr = AttrOf(*n);
  }
  return res;
}

DiropRes MemoryNfsHandler::Mknod(const CallContext& ctx, const MknodArgs& args) {
  std::lock_guard lock(mu_);
  DiropRes res;
  if (args.type == Ftype3::kReg || args.type == Ftype3::kDir || args.type == Ftype3::kLnk) {
    res.status = Nfsstat3::kBadtype;
    return res;
  }
  Sattr3 attrs = args.attributes;
  attrs.size.reset();
  if (Node* n = MakeNode(ctx, args.where, args.type, attrs, res)) {
    n->major = args.major;
    n->minor = args.minor;
    res.obj_attr = AttrOf(*n);
  }
  return res;
}

void MemoryNfsHandler::Unlink(Node& dir, const std::string& name) {
  auto it = dir.children.find(name);
  Node& n = *nodes_.at(it->second);
  dir.children.erase(it);
  ++dir.dir_generation;
  dir.mtime = dir.ctime = Now();
  if (n.type == Ftype3::kDir) {
    --dir.nlink;
    nodes_.erase(n.fileid);
    return;
  }
  n.ctime = Now();
  if (--n.nlink == 0) {
    bytes_used_ -= n.type == Ftype3::kReg ? n.data.size() : 0;
    nodes_.erase(n.fileid);
  }
}

WccRes MemoryNfsHandler::Remove(const CallContext& ctx, const RemoveArgs& args) {
  std::lock_guard lock(mu_);
  WccRes res;
  Node* dir = Find(args.object.dir, &res.status);
  if (!dir) return res;
  res.wcc.before = WccOf(*dir);
  auto it = dir->children.find(args.object.name);
  if (dir->type != Ftype3::kDir) {
    res.status = Nfsstat3::kNotdir;
  } else if (it == dir->children.end()) {
    res.status = Nfsstat3::kNoent;
  } else if (!Allowed(*dir, ctx.cred, 03)) {
    res.status = Nfsstat3::kAcces;
  } else if (nodes_.at(it->second)->type == Ftype3::kDir) {
    res.status = Nfsstat3::kIsdir;
  } else {
    Unlink(*dir, args.object.name);
  }
  res.wcc.after = AttrOf(*dir);
  return res;
}

WccRes MemoryNfsHandler::Rmdir(const CallContext& ctx, const RemoveArgs& args) {
  std::lock_guard lock(mu_);
  WccRes res;
  Node* dir = Find(args.object.dir, &res.status);
  if (!dir) return res;
  res.wcc.before = WccOf(*dir);
  auto it = dir->children.find(args.object.name);
  if (dir->type != Ftype3::kDir) {
    res.status = Nfsstat3::kNotdir;
  } else if (args.object.name == "." || args.object.name == "..") {
    res.status = Nfsstat3::kInval;
  } else if (it == dir->children.end()) {
    res.status = Nfsstat3::kNoent;
  } else if (!Allowed(*dir, ctx.cred, 03)) {
    res.status = Nfsstat3::kAcces;
  } else if (nodes_.at(it->second)->type != Ftype3::kDir) {
    res.status = Nfsstat3::kNotdir;
  } else if (!nodes_.at(it->second)->children.empty()) {
    res.status = Nfsstat3::kNotempty;
  } else {
    Unlink(*dir, args.object.name);
  }
  res.wcc.after = AttrOf(*dir);
  return res;
}

RenameRes MemoryNfsHandler::Rename(const CallContext& ctx, const RenameArgs& args) {
  std::lock_guard lock(mu_);
  RenameRes res;
  Nfsstat3 st_to;
  Node* from = Find(args.from.dir, &res.status);
  Node* to = Find(args.to.dir, &st_to);
  if (from) res.from_dir_wcc.before = WccOf(*from);
  if (to) res.to_dir_wcc.before = WccOf(*to);
  auto finish = [&](Nfsstat3 s) {
    res.status = s;
    if (from) res.from_dir_wcc.after = AttrOf(*from);
    if (to) res.to_dir_wcc.after = AttrOf(*to);
    return res;
  };
  if (!from) return finish(res.status);
  if (!to) return finish(st_to);
  if (from->type != Ftype3::kDir || to->type != Ftype3::kDir) return finish(Nfsstat3::kNotdir);
  if (Nfsstat3 s = CheckName(args.to.name); s != Nfsstat3::kOk) return finish(s);
  auto src = from->children.find(args.from.name);
  if (src == from->children.end()) return finish(Nfsstat3::kNoent);
  if (!Allowed(*from, ctx.cred, 03) || !Allowed(*to, ctx.cred, 03)) {
    return finish(Nfsstat3::kAcces);
  }
  const std::uint64_t moving = src->second;
  Node& m = *nodes_.at(moving);
  // A directory cannot move under itself.
  for (std::uint64_t p = to->fileid; m.type == Ftype3::kDir; p = nodes_.at(p)->parent) {
    if (p == moving) return finish(Nfsstat3::kInval);
    if (p == kMemoryRootId) break;
  }
  if (auto dst = to->children.find(args.to.name); dst != to->children.end()) {
    if (dst->second == moving) return finish(Nfsstat3::kOk);
    Node& victim = *nodes_.at(dst->second);
    if (victim.type == Ftype3::kDir && m.type != Ftype3::kDir) return finish(Nfsstat3::kIsdir);
    if (victim.type != Ftype3::kDir && m.type == Ftype3::kDir) return finish(Nfsstat3::kNotdir);
    if (victim.type == Ftype3::kDir && !victim.children.empty()) {
      return finish(Nfsstat3::kNotempty);
    }
    Unlink(*to, args.to.name);
  }
  from->children.erase(args.from.name);
  to->children.emplace(args.to.name, moving);
  if (m.type == Ftype3::kDir && from != to) {
    --from->nlink;
    ++to->nlink;
  }
  m.parent = to->fileid;
  m.ctime = Now();
  ++from->dir_generation;
  ++to->dir_generation;
  from->mtime = from->ctime = to->mtime = to->ctime = Now();
  return finish(Nfsstat3::kOk);
}

LinkRes MemoryNfsHandler::Link(const CallContext& ctx, const LinkArgs& args) {
  std::lock_guard lock(mu_);
  LinkRes res;
  Nfsstat3 st_dir;
  Node* file = Find(args.file, &res.status);
  Node* dir = Find(args.link.dir, &st_dir);
  if (dir) res.link_dir_wcc.before = WccOf(*dir);
  if (file && dir) {
    if (file->type == Ftype3::kDir) {
      res.status = Nfsstat3::kIsdir;
    } else if (dir->type != Ftype3::kDir) {
      res.status = Nfsstat3::kNotdir;
    } else if ((res.status = CheckName(args.link.name)) != Nfsstat3::kOk) {
    } else if (!Allowed(*dir, ctx.cred, 03)) {
      res.status = Nfsstat3::kAcces;
    } else if (dir->children.count(args.link.name)) {
      res.status = Nfsstat3::kExist;
    } else {
      dir->children.emplace(args.link.name, file->fileid);
      ++file->nlink;
      file->ctime = Now();
      ++dir->dir_generation;
      dir->mtime = dir->ctime = Now();
    }
  } else if (file) {
    res.status = st_dir;
  }
  if (file) res.file_attr = AttrOf(*file);
  if (dir) res.link_dir_wcc.after = AttrOf(*dir);
  return res;
}

// Cookies: 1 is ".", 2 is "..", 3 + i the i-th child in name order. The cookie verifier is
// the directory's generation, bumped by every change, so a client continuing a listing of
// a directory that changed gets NFS3ERR_BAD_COOKIE rather than a skewed one.
ReaddirRes MemoryNfsHandler::List(const Fh3& fh, std::uint64_t cookie, const Verifier& verf,
                                  std::uint32_t max_bytes, bool plus) {
  std::lock_guard lock(mu_);
  ReaddirRes res;
  Node* dir = Find(fh, &res.status);
  if (!dir) return res;
  res.dir_attr = AttrOf(*dir);
  if (dir->type != Ftype3::kDir) {
    res.status = Nfsstat3::kNotdir;
    return res;
  }
  std::memcpy(res.verf.data(), &dir->dir_generation, res.verf.size());
  if (cookie != 0 && verf != Verifier{} && verf != res.verf) {
    res.status = Nfsstat3::kBadCookie;
    return res;
  }
  // Entries beyond what the reply can hold are not built (the encoder trims exactly).
  std::size_t budget = std::min<std::size_t>(max_bytes, kMaxIoBytes);
  auto add = [&](std::uint64_t c, const std::string& name, std::uint64_t id) {
    DirEntry e;
    e.fileid = id;
    e.name = name;
    e.cookie = c;
    if (plus) {
      e.attr = AttrOf(*nodes_.at(id));
      e.handle = HandleOf(id);
    }
    const std::size_t cost = 24 + name.size() + (plus ? 128 : 0);
    budget = budget > cost ? budget - cost : 0;
    res.entries.push_back(std::move(e));
  };
  std::uint64_t c = 1;
  if (cookie < c) add(c, ".", dir->fileid);
  ++c;
  if (cookie < c) add(c, "..", dir->parent);
  ++c;
  auto it = dir->children.begin();
  if (cookie >= c) {
    const std::uint64_t skip = cookie - c + 1;
    if (skip > dir->children.size()) {
      res.eof = true;
      return res;
    }
    std::advance(it, static_cast<std::ptrdiff_t>(skip));
    c = cookie + 1;
  }
  for (; it != dir->children.end() && budget > 0; ++it, ++c) add(c, it->first, it->second);
  res.eof = it == dir->children.end();
  return res;
}

ReaddirRes MemoryNfsHandler::Readdir(const CallContext&, const ReaddirArgs& args) {
  return List(args.dir, args.cookie, args.verf, args.count, false);
}

ReaddirRes MemoryNfsHandler::Readdirplus(const CallContext&, const ReaddirplusArgs& args) {
  return List(args.dir, args.cookie, args.verf, args.maxcount, true);
}

}  // namespace zerofs::nfs
