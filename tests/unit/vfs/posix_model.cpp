// PosixModel: namespace operations and attributes. Data, handles and xattrs are in
// posix_model_data.cpp.
#include "posix_model.h"

#include <cerrno>

namespace zerofs::testing {
namespace {

using vfs::FileType;
constexpr std::uint32_t S_DIR = 0040000, S_REG = 0100000, S_LNK = 0120000;
constexpr std::uint32_t S_FIFO = 0010000, S_CHR = 0020000, S_BLK = 0060000, S_SOCK = 0140000;
constexpr std::uint32_t SUID = 04000, SGID = 02000, STICKY = 01000, XGRP = 0010;

int NameErr(const std::string& name) {
  if (name.empty()) return ENOENT;
  if (name.size() > 255) return ENAMETOOLONG;
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) return EINVAL;
  return 0;
}
bool Dots(const std::string& n) {
  return n == "." || n == "..";
}

}  // namespace

std::uint64_t PosixModel::Node::size() const {
  if (is_dir()) return 4096;
  if (type() == FileType::kSymlink) return target.size();
  return data.size();
}

PosixModel::PosixModel(vfs::Timespec t) : now_(t) {
  Node root;
  root.ino = vfs::kRootIno;
  root.mode = S_DIR | 0755;
  root.nlink = 2;
  root.parent = vfs::kRootIno;
  root.atime = root.mtime = root.ctime = t;
  nodes_[root.ino] = root;
}

PosixModel::Node* PosixModel::Find(vfs::Ino ino) {
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : &it->second;
}
const PosixModel::Node* PosixModel::Find(vfs::Ino ino) const {
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : &it->second;
}

vfs::Attr PosixModel::AttrOf(const Node& n) const {
  vfs::Attr a;
  a.ino = n.ino;
  a.mode = n.mode;
  a.nlink = n.nlink;
  a.uid = n.uid;
  a.gid = n.gid;
  a.size = n.size();
  a.rdev = n.rdev;
  a.atime = n.atime;
  a.mtime = n.mtime;
  a.ctime = n.ctime;
  return a;
}

std::uint64_t PosixModel::UsedBytes() const {
  std::uint64_t total = 0;
  for (const auto& [ino, n] : nodes_) {
    if (n.is_reg()) total += n.data.size();
  }
  return total;
}

int PosixModel::Perm(const vfs::Credentials& c, const Node& n, std::uint32_t mask) const {
  if (mask == 0) return 0;
  if (c.uid == 0) {
    if (!(mask & 1) || n.is_dir() || (n.mode & 0111)) return 0;
    return EACCES;
  }
  std::uint32_t bits = n.mode & 7;
  if (c.uid == n.uid) {
    bits = (n.mode >> 6) & 7;
  } else if (c.InGroup(n.gid)) {
    bits = (n.mode >> 3) & 7;
  }
  return (bits & mask) == mask ? 0 : EACCES;
}

int PosixModel::MayDelete(const vfs::Credentials& c, const Node& dir, const Node& victim,
                          bool expect_dir) const {
  if (int e = Perm(c, dir, 3)) return e;
  if ((dir.mode & STICKY) && c.uid != 0 && c.uid != victim.uid && c.uid != dir.uid) return EPERM;
  if (expect_dir && !victim.is_dir()) return ENOTDIR;
  if (!expect_dir && victim.is_dir()) return EISDIR;
  return 0;
}

void PosixModel::Touch(Node& n) {
  if (n.atime == now_) return;
  auto ge = [](const vfs::Timespec& a, const vfs::Timespec& b) {
    return a.sec > b.sec || (a.sec == b.sec && a.nsec >= b.nsec);
  };
  if (ge(n.mtime, n.atime) || ge(n.ctime, n.atime) || now_.sec - n.atime.sec >= 86400) {
    n.atime = now_;
  }
}

void PosixModel::KillOnWrite(const vfs::Credentials& c, Node& n) {
  if (c.uid == 0 || !n.is_reg()) return;
  n.mode &= ~SUID;
  if (n.mode & XGRP) n.mode &= ~SGID;
}

Out<vfs::Attr> PosixModel::Lookup(const vfs::Credentials& c, vfs::Ino parent,
                                  const std::string& name) {
  Node* d = Find(parent);
  if (!d) return Out<vfs::Attr>::Fail(ESTALE);
  if (!d->is_dir()) return Out<vfs::Attr>::Fail(ENOTDIR);
  if (d->nlink == 0) return Out<vfs::Attr>::Fail(ENOENT);  // removed while open
  if (int e = Perm(c, *d, 1)) return Out<vfs::Attr>::Fail(e);
  if (int e = NameErr(name)) return Out<vfs::Attr>::Fail(e);
  if (name == ".") return {0, AttrOf(*d)};
  if (name == "..") return {0, AttrOf(*Find(d->parent))};
  auto it = d->entries.find(name);
  if (it == d->entries.end()) return Out<vfs::Attr>::Fail(ENOENT);
  return {0, AttrOf(*Find(it->second.first))};
}

Out<vfs::Attr> PosixModel::GetAttr(vfs::Ino ino) const {
  const Node* n = Find(ino);
  if (!n) return Out<vfs::Attr>::Fail(ESTALE);
  return {0, AttrOf(*n)};
}

int PosixModel::Access(const vfs::Credentials& c, vfs::Ino ino, std::uint32_t mask) const {
  const Node* n = Find(ino);
  if (!n) return ESTALE;
  return Perm(c, *n, mask);
}

Out<vfs::Attr> PosixModel::SetAttr(const vfs::Credentials& c, vfs::Ino ino,
                                   const vfs::SetAttrRequest& r) {
  using K = vfs::TimeUpdate::Kind;
  Node* n = Find(ino);
  const bool times = r.atime.kind != K::kOmit || r.mtime.kind != K::kOmit;
  if (!r.mode && !r.uid && !r.gid && !r.size && !times) return GetAttr(ino);
  if (!n) return Out<vfs::Attr>::Fail(ESTALE);
  const bool owner = c.uid == 0 || c.uid == n->uid;
  bool by_handle = false;
  if (r.size) {
    if (n->is_dir()) return Out<vfs::Attr>::Fail(EISDIR);
    if (!n->is_reg()) return Out<vfs::Attr>::Fail(EINVAL);
    if (r.handle != vfs::kNoHandle) {
      auto h = handles_.find(r.handle);
      if (h == handles_.end()) return Out<vfs::Attr>::Fail(EBADF);
      if (h->second.ino != ino || !h->second.writable) return Out<vfs::Attr>::Fail(EINVAL);
      by_handle = true;
    } else if (int e = Perm(c, *n, 2)) {
      return Out<vfs::Attr>::Fail(e);
    }
    if (*r.size > vfs::kMaxFileSize) return Out<vfs::Attr>::Fail(EFBIG);
  }
  if (r.uid && !((c.uid == n->uid && *r.uid == n->uid) || c.uid == 0)) {
    return Out<vfs::Attr>::Fail(EPERM);
  }
  if (r.gid && !((c.uid == n->uid && (*r.gid == n->gid || c.InGroup(*r.gid))) || c.uid == 0)) {
    return Out<vfs::Attr>::Fail(EPERM);
  }
  if (r.mode && !owner) return Out<vfs::Attr>::Fail(EPERM);
  if (times && !owner) {
    if (r.atime.kind != K::kNow || r.mtime.kind != K::kNow) return Out<vfs::Attr>::Fail(EPERM);
    if (int e = Perm(c, *n, 2)) return Out<vfs::Attr>::Fail(e);
  }
  if (r.size) {
    if (*r.size != n->data.size() || by_handle) n->mtime = n->ctime = now_;
    n->data.resize(*r.size, '\0');
    KillOnWrite(c, *n);
  }
  if (r.uid || r.gid) {
    if (r.uid) n->uid = *r.uid;
    if (r.gid) n->gid = *r.gid;
    if (!r.mode && !n->is_dir()) {
      n->mode &= ~SUID;
      if (n->mode & XGRP) n->mode &= ~SGID;
    }
    n->ctime = now_;
  }
  if (r.mode) {
    std::uint32_t m = *r.mode & 07777;
    if (c.uid != 0 && !c.InGroup(n->gid)) m &= ~SGID;
    n->mode = (n->mode & ~07777U) | m;
    n->ctime = now_;
  }
  if (times) {
    if (r.atime.kind != K::kOmit) n->atime = r.atime.kind == K::kNow ? now_ : r.atime.value;
    if (r.mtime.kind != K::kOmit) n->mtime = r.mtime.kind == K::kNow ? now_ : r.mtime.value;
    n->ctime = now_;
  }
  return {0, AttrOf(*n)};
}

int PosixModel::CreateChecks(const vfs::Credentials& c, vfs::Ino parent, const std::string& name) {
  Node* d = Find(parent);
  if (!d) return ESTALE;
  if (!d->is_dir()) return ENOTDIR;
  if (d->nlink == 0) return ENOENT;  // removed while open
  if (int e = Perm(c, *d, 1)) return e;
  if (int e = NameErr(name)) return e;
  if (Dots(name) || d->entries.contains(name)) return EEXIST;
  return Perm(c, *d, 3);
}

PosixModel::Node& PosixModel::AddNode(const vfs::Credentials& c, Node& parent,
                                      const std::string& name, std::uint32_t mode, vfs::Ino ino) {
  Node n;
  n.ino = ino;
  n.mode = mode;
  n.uid = c.uid;
  n.nlink = n.is_dir() ? 2 : 1;
  n.atime = n.mtime = n.ctime = now_;
  if (parent.mode & SGID) {
    n.gid = parent.gid;
    if (n.is_dir()) {
      n.mode |= SGID;
    } else if ((n.mode & (SGID | XGRP)) == (SGID | XGRP) && !c.InGroup(parent.gid) && c.uid != 0) {
      n.mode &= ~SGID;
    }
  } else {
    n.gid = c.gid;
  }
  if (n.is_dir()) {
    n.parent = parent.ino;
    ++parent.nlink;
  }
  parent.entries[name] = {ino, parent.next_cookie++};
  parent.mtime = parent.ctime = now_;
  return nodes_[ino] = n;
}

Out<vfs::CreateResult> PosixModel::Create(const vfs::Credentials& c, vfs::Ino parent,
                                          const std::string& name, std::uint32_t mode,
                                          std::uint32_t flags, bool exclusive, bool open,
                                          vfs::Ino new_ino, vfs::HandleId handle) {
  using R = Out<vfs::CreateResult>;
  if ((flags & vfs::kOpenDirectory) || (flags & 3) == 3) return R::Fail(EINVAL);
  Node* d = Find(parent);
  if (!d) return R::Fail(ESTALE);
  if (!d->is_dir()) return R::Fail(ENOTDIR);
  if (d->nlink == 0) return R::Fail(ENOENT);  // removed while open
  if (int e = Perm(c, *d, 1)) return R::Fail(e);
  if (int e = NameErr(name)) return R::Fail(e);
  vfs::Ino existing = 0;
  if (name == ".") existing = d->ino;
  if (name == "..") existing = d->parent;
  if (auto it = d->entries.find(name); it != d->entries.end()) existing = it->second.first;
  vfs::CreateResult out;
  Handle h;
  if (existing != 0) {
    if (exclusive) return R::Fail(EEXIST);
    Node& n = *Find(existing);
    if (n.is_dir()) return R::Fail(EISDIR);
    if (!n.is_reg()) return R::Fail(EEXIST);
    if (int e = OpenChecks(c, n, flags, false, &h)) return R::Fail(e);
    out.attr = AttrOf(n);
  } else {
    if (int e = Perm(c, *d, 3)) return R::Fail(e);
    Node& n = AddNode(c, *d, name, S_REG | (mode & 07777), new_ino);
    out.created = true;
    if (int e = OpenChecks(c, n, flags, true, &h)) return R::Fail(e);
    out.attr = AttrOf(n);
  }
  if (open) {
    out.handle = handle;
    ++Find(h.ino)->open_count;
    handles_[handle] = h;
    handle_inos_[handle] = h.ino;
  }
  return {0, out};
}

Out<vfs::Attr> PosixModel::Mkdir(const vfs::Credentials& c, vfs::Ino parent,
                                 const std::string& name, std::uint32_t mode, vfs::Ino new_ino) {
  if (int e = CreateChecks(c, parent, name)) return Out<vfs::Attr>::Fail(e);
  return {0, AttrOf(AddNode(c, *Find(parent), name, S_DIR | (mode & 01777), new_ino))};
}

Out<vfs::Attr> PosixModel::Mknod(const vfs::Credentials& c, vfs::Ino parent,
                                 const std::string& name, std::uint32_t mode, std::uint64_t rdev,
                                 vfs::Ino new_ino) {
  std::uint32_t type = mode & 0170000;
  if (type == 0) type = S_REG;
  if (type == S_DIR) return Out<vfs::Attr>::Fail(EPERM);
  if (type != S_REG && type != S_FIFO && type != S_SOCK && type != S_CHR && type != S_BLK) {
    return Out<vfs::Attr>::Fail(EINVAL);
  }
  if (int e = CreateChecks(c, parent, name)) return Out<vfs::Attr>::Fail(e);
  const bool dev = type == S_CHR || type == S_BLK;
  if (dev && c.uid != 0) return Out<vfs::Attr>::Fail(EPERM);
  Node& n = AddNode(c, *Find(parent), name, type | (mode & 07777), new_ino);
  n.rdev = dev ? rdev : 0;
  return {0, AttrOf(n)};
}

Out<vfs::Attr> PosixModel::Symlink(const vfs::Credentials& c, vfs::Ino parent,
                                   const std::string& name, const std::string& target,
                                   vfs::Ino new_ino) {
  if (target.empty()) return Out<vfs::Attr>::Fail(ENOENT);
  if (target.size() >= 4096) return Out<vfs::Attr>::Fail(ENAMETOOLONG);
  if (int e = CreateChecks(c, parent, name)) return Out<vfs::Attr>::Fail(e);
  Node& n = AddNode(c, *Find(parent), name, S_LNK | 0777, new_ino);
  n.target = target;
  return {0, AttrOf(n)};
}

Out<std::string> PosixModel::ReadLink(vfs::Ino ino) {
  Node* n = Find(ino);
  if (!n) return Out<std::string>::Fail(ESTALE);
  if (n->type() != FileType::kSymlink) return Out<std::string>::Fail(EINVAL);
  Touch(*n);
  return {0, n->target};
}

Out<vfs::Attr> PosixModel::Link(const vfs::Credentials& c, vfs::Ino ino, vfs::Ino parent,
                                const std::string& name) {
  using R = Out<vfs::Attr>;
  Node* n = Find(ino);
  if (!n) return R::Fail(ESTALE);
  Node* d = Find(parent);
  if (!d) return R::Fail(ESTALE);
  if (!d->is_dir()) return R::Fail(ENOTDIR);
  if (d->nlink == 0) return R::Fail(ENOENT);  // removed while open
  if (int e = Perm(c, *d, 1)) return R::Fail(e);
  if (int e = NameErr(name)) return R::Fail(e);
  if (Dots(name) || d->entries.contains(name)) return R::Fail(EEXIST);
  if (c.uid != 0 && c.uid != n->uid &&
      (!n->is_reg() || (n->mode & SUID) || (n->mode & (SGID | XGRP)) == (SGID | XGRP) ||
       Perm(c, *n, 6) != 0)) {
    return R::Fail(EPERM);
  }
  if (int e = Perm(c, *d, 3)) return R::Fail(e);
  if (n->is_dir()) return R::Fail(EPERM);
  if (n->nlink == 0) return R::Fail(ENOENT);
  ++n->nlink;
  n->ctime = now_;
  d->entries[name] = {ino, d->next_cookie++};
  d->mtime = d->ctime = now_;
  return {0, AttrOf(*n)};
}

void PosixModel::DropLink(Node& n) {
  --n.nlink;
  n.ctime = now_;
  if (n.nlink == 0 && n.open_count == 0) nodes_.erase(n.ino);
}

int PosixModel::Unlink(const vfs::Credentials& c, vfs::Ino parent, const std::string& name) {
  Node* d = Find(parent);
  if (!d) return ESTALE;
  if (!d->is_dir()) return ENOTDIR;
  if (d->nlink == 0) return ENOENT;  // removed while open
  if (int e = Perm(c, *d, 1)) return e;
  if (int e = NameErr(name)) return e;
  if (Dots(name)) return EISDIR;
  auto it = d->entries.find(name);
  if (it == d->entries.end()) return ENOENT;
  Node& n = *Find(it->second.first);
  if (int e = MayDelete(c, *d, n, false)) return e;
  d->entries.erase(it);
  d->mtime = d->ctime = now_;
  DropLink(n);
  return 0;
}

int PosixModel::Rmdir(const vfs::Credentials& c, vfs::Ino parent, const std::string& name) {
  Node* d = Find(parent);
  if (!d) return ESTALE;
  if (!d->is_dir()) return ENOTDIR;
  if (d->nlink == 0) return ENOENT;  // removed while open
  if (int e = Perm(c, *d, 1)) return e;
  if (int e = NameErr(name)) return e;
  if (name == ".") return EINVAL;
  if (name == "..") return ENOTEMPTY;
  auto it = d->entries.find(name);
  if (it == d->entries.end()) return ENOENT;
  Node& n = *Find(it->second.first);
  if (int e = MayDelete(c, *d, n, true)) return e;
  if (!n.entries.empty()) return ENOTEMPTY;
  d->entries.erase(it);
  d->mtime = d->ctime = now_;
  --d->nlink;
  if (n.open_count > 0) {
    // Open handles keep it: stat-able with nlink 0, empty, closed to new names.
    n.nlink = 0;
    n.ctime = now_;
  } else {
    nodes_.erase(n.ino);
  }
  return 0;
}

int PosixModel::Rename(const vfs::Credentials& c, vfs::Ino parent, const std::string& name,
                       vfs::Ino new_parent, const std::string& new_name, std::uint32_t flags) {
  if (flags & ~7U) return EINVAL;
  const bool noreplace = flags & 1, exchange = flags & 2;
  if ((noreplace && exchange) || (flags & 4)) return EINVAL;
  Node* od = Find(parent);
  Node* nd = Find(new_parent);
  if (!od) return ESTALE;
  if (!od->is_dir()) return ENOTDIR;
  if (od->nlink == 0) return ENOENT;  // removed while open
  if (int e = Perm(c, *od, 1)) return e;
  if (!nd) return ESTALE;
  if (!nd->is_dir()) return ENOTDIR;
  if (nd->nlink == 0) return ENOENT;  // removed while open
  if (int e = Perm(c, *nd, 1)) return e;
  if (int e = NameErr(name)) return e;
  if (int e = NameErr(new_name)) return e;
  if (Dots(name)) return EBUSY;
  if (Dots(new_name)) return noreplace ? EEXIST : EBUSY;
  auto sit = od->entries.find(name);
  if (sit == od->entries.end()) return ENOENT;
  auto dit = nd->entries.find(new_name);
  const bool has_dst = dit != nd->entries.end();
  if (noreplace && has_dst) return EEXIST;
  if (exchange && !has_dst) return ENOENT;
  Node& s = *Find(sit->second.first);
  Node* t = has_dst ? Find(dit->second.first) : nullptr;
  auto ancestor_or_self = [&](vfs::Ino a, vfs::Ino x) {
    for (;;) {
      if (x == a) return true;
      if (x == vfs::kRootIno) return false;
      x = Find(x)->parent;
    }
  };
  if (parent != new_parent) {
    if (s.is_dir() && ancestor_or_self(s.ino, new_parent)) return EINVAL;
    if (t && t->is_dir() && ancestor_or_self(t->ino, parent)) return exchange ? EINVAL : ENOTEMPTY;
  }
  if (t && t->ino == s.ino) return 0;
  if (int e = MayDelete(c, *od, s, s.is_dir())) return e;
  if (!t) {
    if (int e = Perm(c, *nd, 3)) return e;
  } else if (int e = MayDelete(c, *nd, *t, exchange ? t->is_dir() : s.is_dir())) {
    return e;
  }
  if (parent != new_parent) {
    if (s.is_dir()) {
      if (int e = Perm(c, s, 2)) return e;
    }
    if (exchange && t->is_dir()) {
      if (int e = Perm(c, *t, 2)) return e;
    }
  }
  if (!exchange && t && t->is_dir() && !t->entries.empty()) return ENOTEMPTY;

  if (exchange) {
    std::swap(sit->second.first, dit->second.first);
    if (parent != new_parent) {
      if (s.is_dir()) s.parent = new_parent;
      if (t->is_dir()) t->parent = parent;
      if (s.is_dir() && !t->is_dir()) {
        --od->nlink;
        ++nd->nlink;
      } else if (!s.is_dir() && t->is_dir()) {
        ++od->nlink;
        --nd->nlink;
      }
    }
    t->ctime = now_;
  } else {
    if (t) {
      nd->entries.erase(dit);
      if (t->is_dir()) {
        --nd->nlink;
        if (t->open_count > 0) {
          // As rmdir: open handles keep the replaced directory, with nlink 0.
          t->nlink = 0;
          t->ctime = now_;
        } else {
          nodes_.erase(t->ino);
        }
      } else {
        DropLink(*t);
      }
    }
    od->entries.erase(name);
    nd->entries[new_name] = {s.ino, nd->next_cookie++};
    if (s.is_dir() && parent != new_parent) {
      s.parent = new_parent;
      --od->nlink;
      ++nd->nlink;
    }
  }
  s.ctime = now_;
  od->mtime = od->ctime = now_;
  nd->mtime = nd->ctime = now_;
  return 0;
}

Out<std::vector<MEntry>> PosixModel::ListDir(const vfs::Credentials& c, vfs::Ino ino) {
  using R = Out<std::vector<MEntry>>;
  Node* d = Find(ino);
  if (!d) return R::Fail(ESTALE);
  if (!d->is_dir()) return R::Fail(ENOTDIR);
  if (d->nlink == 0) return R::Fail(ENOENT);  // removed while open
  if (int e = Perm(c, *d, 4)) return R::Fail(e);
  std::vector<MEntry> out{{".", d->ino, FileType::kDirectory, 1},
                          {"..", d->parent, FileType::kDirectory, 2}};
  std::map<std::uint64_t, MEntry> by_cookie;
  for (const auto& [name, e] : d->entries) {
    by_cookie[e.second] = {name, e.first, Find(e.first)->type(), e.second};
  }
  for (auto& [cookie, e] : by_cookie) out.push_back(e);
  Touch(*d);
  return {0, out};
}

}  // namespace zerofs::testing
