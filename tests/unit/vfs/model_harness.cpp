// Harness: the operations of one randomized run and the comparisons.
#include "model_harness.h"

namespace zerofs::testing {

void Harness::RandomOp() {
  const int r = static_cast<int>(Below(100));
  if (r < 45) return OpNamespace(static_cast<int>(Below(12)));
  if (r < 90) return OpData(static_cast<int>(Below(11)));
  return OpXattr();
}

void Harness::OpNamespace(int which) {
  auto& fs = fix_.fs();
  const vfs::Credentials c = Cred();
  switch (which) {
    case 0: {
      const Ino p = DirIno();
      const std::string n = NameIn(p);
      Describe("lookup " + std::to_string(p) + "/" + n, c);
      auto a = fs.Lookup(c, p, n);
      auto b = model_.Lookup(c, p, n);
      if (Compare(a, b)) SameAttr(*a, b.value);
      break;
    }
    case 1: {
      const Ino ino = AnyIno();
      Describe("getattr " + std::to_string(ino), c);
      auto a = fs.GetAttr(ino);
      auto b = model_.GetAttr(ino);
      if (Compare(a, b)) SameAttr(*a, b.value);
      const std::uint32_t mask = static_cast<std::uint32_t>(Below(8));
      Describe("access " + std::to_string(ino) + " mask " + std::to_string(mask), c);
      Same(vfs::ErrnoOf(fs.Access(c, ino, mask)), model_.Access(c, ino, mask));
      break;
    }
    case 2: {
      const Ino ino = AnyIno();
      vfs::SetAttrRequest req;
      if (Chance(35)) req.mode = Mode();
      if (Chance(20)) req.uid = Pick<std::uint32_t>({0, 1000, 1001, 1002});
      if (Chance(20)) req.gid = Pick<std::uint32_t>({0, 100, 1000, 1001, 1002});
      if (Chance(25)) {
        req.size = Chance(30) ? 0 : Below(120000);
        if (Chance(30)) req.handle = AnyHandle();
      }
      if (Chance(30)) {
        req.atime = Time();
        req.mtime = Time();
      }
      Describe("setattr " + std::to_string(ino), c);
      auto a = fs.SetAttr(c, ino, req);
      auto b = model_.SetAttr(c, ino, req);
      if (Compare(a, b)) SameAttr(*a, b.value);
      break;
    }
    case 3: {
      const Ino p = DirIno();
      const std::string n = Name();
      const std::uint32_t mode = Mode(), flags = OpenFlags();
      const bool excl = Chance(40), open = Chance(70);
      Describe("create " + std::to_string(p) + "/" + n, c);
      auto a = fs.Create(c, p, n, mode, flags, excl, open);
      auto b = model_.Create(c, p, n, mode, flags, excl, open, a.ok() ? a->attr.ino : 0,
                             a.ok() ? a->handle : 0);
      if (Compare(a, b)) {
        SameAttr(a->attr, b.value.attr);
        REQUIRE(a->created == b.value.created);
      }
      break;
    }
    case 4: {
      const Ino p = DirIno();
      const std::string n = Name();
      const std::uint32_t mode = Mode();
      Describe("mkdir " + std::to_string(p) + "/" + n, c);
      auto a = fs.Mkdir(c, p, n, mode);
      auto b = model_.Mkdir(c, p, n, mode, a.ok() ? a->ino : 0);
      if (Compare(a, b)) SameAttr(*a, b.value);
      break;
    }
    case 5: {
      const Ino p = DirIno();
      const std::string n = Name();
      const std::uint32_t mode =
          Pick<std::uint32_t>({0010000, 0140000, 0020000, 0, 0040000, 0120000}) | (Mode() & 0777);
      Describe("mknod " + std::to_string(p) + "/" + n, c);
      auto a = fs.Mknod(c, p, n, mode, 0x0801);
      auto b = model_.Mknod(c, p, n, mode, 0x0801, a.ok() ? a->ino : 0);
      if (Compare(a, b)) SameAttr(*a, b.value);
      break;
    }
    case 6: {
      const Ino p = DirIno();
      const std::string n = Name();
      const std::string target = Chance(5) ? "" : Pick<std::string>({"a", "../b", "/c/d"});
      Describe("symlink " + std::to_string(p) + "/" + n, c);
      auto a = fs.Symlink(c, p, n, target);
      auto b = model_.Symlink(c, p, n, target, a.ok() ? a->ino : 0);
      if (Compare(a, b)) SameAttr(*a, b.value);
      const Ino ino = InoOfType(vfs::FileType::kSymlink, 70);
      Describe("readlink " + std::to_string(ino), c);
      auto la = fs.ReadLink(c, ino);
      auto lb = model_.ReadLink(ino);
      if (Compare(la, lb)) REQUIRE(*la == lb.value);
      break;
    }
    case 7: {
      const Ino ino = AnyIno(), p = DirIno();
      const std::string n = Name();
      Describe("link " + std::to_string(ino) + " as " + std::to_string(p) + "/" + n, c);
      auto a = fs.Link(c, ino, p, n);
      auto b = model_.Link(c, ino, p, n);
      if (Compare(a, b)) SameAttr(*a, b.value);
      break;
    }
    case 8: {
      const Ino p = DirIno();
      const std::string n = NameIn(p);
      Describe("unlink " + std::to_string(p) + "/" + n, c);
      Same(vfs::ErrnoOf(fs.Unlink(c, p, n)), model_.Unlink(c, p, n));
      break;
    }
    case 9: {
      const Ino p = DirIno();
      const std::string n = NameIn(p);
      Describe("rmdir " + std::to_string(p) + "/" + n, c);
      Same(vfs::ErrnoOf(fs.Rmdir(c, p, n)), model_.Rmdir(c, p, n));
      break;
    }
    case 10: {
      const Ino p = DirIno(), q = DirIno();
      const std::string n = NameIn(p), m = Chance(50) ? NameIn(q) : Name();
      const std::uint32_t flags = Chance(60) ? 0 : Pick<std::uint32_t>({1, 2, 2, 3, 4});
      Describe("rename " + std::to_string(p) + "/" + n + " " + std::to_string(q) + "/" + m +
                   " flags " + std::to_string(flags),
               c);
      Same(vfs::ErrnoOf(fs.Rename(c, p, n, q, m, flags)), model_.Rename(c, p, n, q, m, flags));
      break;
    }
    default: {
      const Ino ino = DirIno();
      Describe("readdir " + std::to_string(ino), c);
      CompareDir(c, ino);
      break;
    }
  }
}

void Harness::OpData(int which) {
  auto& fs = fix_.fs();
  const vfs::Credentials c = Cred();
  switch (which) {
    case 0:
    case 9: {
      const Ino ino = InoOfType(vfs::FileType::kRegular, 80);
      const std::uint32_t flags = OpenFlags();
      Describe("open " + std::to_string(ino) + " flags " + std::to_string(flags), c);
      auto a = fs.Open(c, ino, flags);
      Same(vfs::ErrnoOf(a.status()), model_.Open(c, ino, flags, a.ok() ? *a : 0));
      break;
    }
    case 1: {
      const vfs::HandleId h = AnyHandle();
      Describe("release " + std::to_string(h), c);
      Same(vfs::ErrnoOf(fs.Release(h)), model_.Release(h));
      break;
    }
    case 2:
    case 3: {
      const vfs::HandleId h = AnyHandle();
      const std::uint64_t off = Offset();
      const std::string data = Data();
      Describe("write " + std::to_string(data.size()) + " at " + std::to_string(off) +
                   " via handle " + std::to_string(h),
               c);
      auto a = fs.Write(h, off, data);
      auto b = model_.Write(h, off, data);
      if (Compare(a, b)) REQUIRE(*a == b.value);
      break;
    }
    case 4: {
      const vfs::HandleId h = AnyHandle();
      const std::uint64_t off = Offset(), len = Below(80000);
      Describe("read " + std::to_string(len) + " at " + std::to_string(off) + " via handle " +
                   std::to_string(h),
               c);
      auto a = fs.Read(h, off, len);
      auto b = model_.Read(h, off, len);
      if (Compare(a, b)) REQUIRE(*a == b.value);
      break;
    }
    case 5: {
      const Ino ino = InoOfType(vfs::FileType::kRegular, 80);
      const std::uint64_t off = Offset();
      if (Chance(50)) {
        const std::string data = Data();
        Describe("write inode " + std::to_string(ino) + " at " + std::to_string(off), c);
        auto a = fs.WriteInode(c, ino, off, data);
        auto b = model_.WriteInode(c, ino, off, data);
        if (Compare(a, b)) REQUIRE(*a == b.value);
      } else {
        const std::uint64_t len = Below(80000);
        Describe("read inode " + std::to_string(ino) + " at " + std::to_string(off), c);
        auto a = fs.ReadInode(c, ino, off, len);
        auto b = model_.ReadInode(c, ino, off, len);
        if (Compare(a, b)) REQUIRE(*a == b.value);
      }
      break;
    }
    case 6: {
      const vfs::HandleId h = AnyHandle();
      const std::uint32_t mode = Pick<std::uint32_t>({0, 1, 3, 0x10, 0x11, 2, 0x12, 0x40});
      const std::uint64_t off = Offset(), len = Chance(5) ? 0 : 1 + Below(70000);
      Describe("fallocate mode " + std::to_string(mode) + " " + std::to_string(off) + "+" +
                   std::to_string(len) + " via handle " + std::to_string(h),
               c);
      Same(vfs::ErrnoOf(fs.Fallocate(h, mode, off, len)), model_.Fallocate(h, mode, off, len));
      break;
    }
    case 7: {
      const vfs::HandleId h = AnyHandle();
      const std::uint64_t off = Offset();
      const int whence = Chance(50) ? vfs::kSeekData : vfs::kSeekHole;
      Describe("seek " + std::to_string(off) + " whence " + std::to_string(whence) +
                   " via handle " + std::to_string(h),
               c);
      auto a = fs.Seek(h, off, whence);
      auto b = model_.Seek(h, off, whence);
      if (Compare(a, b)) REQUIRE(*a == b.value);
      break;
    }
    case 8: {
      const vfs::HandleId h = AnyHandle();
      Describe("fsync handle " + std::to_string(h), c);
      const int expect = model_.handle_inos().contains(h) ? 0 : EBADF;
      Same(vfs::ErrnoOf(fs.Fsync(h, Chance(50))), expect);
      break;
    }
    case 10: {
      Describe("statfs", c);
      auto st = fs.StatFilesystem();
      REQUIRE(st.ok());
      INFO("step " << step_);
      REQUIRE(st->used_bytes == model_.UsedBytes());
      REQUIRE(st->inodes == model_.InodeCount());
      break;
    }
  }
}

void Harness::OpXattr() {
  auto& fs = fix_.fs();
  const vfs::Credentials c = Cred();
  const Ino ino = AnyIno();
  const std::string name =
      Chance(70) ? Pick<std::string>({"user.a", "user.b", "trusted.t", "security.s"})
                 : Pick<std::string>({"system.x", "other.o", "user.", "", std::string(256, 'u')});
  switch (Below(4)) {
    case 0: {
      Describe("getxattr " + std::to_string(ino) + " " + name, c);
      auto a = fs.GetXattr(c, ino, name);
      auto b = model_.GetXattr(c, ino, name);
      if (Compare(a, b)) REQUIRE(*a == b.value);
      break;
    }
    case 1: {
      const std::uint32_t flags = Pick<std::uint32_t>({0, 0, 1, 2, 3});
      const std::string value(Below(100), static_cast<char>('a' + Below(26)));
      Describe("setxattr " + std::to_string(ino) + " " + name + " flags " + std::to_string(flags),
               c);
      Same(vfs::ErrnoOf(fs.SetXattr(c, ino, name, value, flags)),
           model_.SetXattr(c, ino, name, value, flags));
      break;
    }
    case 2: {
      Describe("listxattr " + std::to_string(ino), c);
      auto a = fs.ListXattr(c, ino);
      auto b = model_.ListXattr(c, ino);
      if (Compare(a, b)) REQUIRE(*a == b.value);
      break;
    }
    default: {
      Describe("removexattr " + std::to_string(ino) + " " + name, c);
      Same(vfs::ErrnoOf(fs.RemoveXattr(c, ino, name)), model_.RemoveXattr(c, ino, name));
      break;
    }
  }
}

void Harness::CompareDir(const vfs::Credentials& c, Ino ino) {
  std::vector<MEntry> listed;
  std::uint64_t cookie = 0;
  int err = 0;
  for (;;) {
    auto batch = fix_.fs().ReadDirInode(c, ino, cookie, 1 + Below(4));
    if (!batch.ok()) {
      err = vfs::ErrnoOf(batch.status());
      break;
    }
    if (batch->empty()) break;
    for (const vfs::DirEntry& e : *batch) {
      REQUIRE(e.cookie > cookie);
      cookie = e.cookie;
      listed.push_back({e.name, e.ino, e.type, e.cookie});
    }
  }
  auto expected = model_.ListDir(c, ino);
  Same(err, expected.err);
  if (err == 0 && listed != expected.value) {
    auto show = [](const std::vector<MEntry>& v) {
      std::string out;
      for (const MEntry& e : v) {
        out += " " + e.name + "=" + std::to_string(e.ino) + "/" +
               std::to_string(static_cast<int>(e.type)) + "@" + std::to_string(e.cookie);
      }
      return out;
    };
    FAIL("step " << step_ << ": " << what_.str() << "\n  filesystem:" << show(listed)
                 << "\n  model:     " << show(expected.value));
  }
}

void Harness::CompareAll() {
  Describe("compare everything", kRoot);
  auto& fs = fix_.fs();
  std::vector<Ino> inos;
  for (const auto& [ino, n] : model_.nodes()) inos.push_back(ino);
  for (Ino ino : inos) {
    Describe("compare inode " + std::to_string(ino), kRoot);
    const PosixModel::Node& n = model_.nodes().at(ino);
    if (n.is_dir()) CompareDir(kRoot, ino);
    if (n.is_reg()) {
      auto a = fs.ReadInode(kRoot, ino, 0, 1 << 20);
      auto b = model_.ReadInode(kRoot, ino, 0, 1 << 20);
      if (Compare(a, b)) REQUIRE(*a == b.value);
    }
    auto xa = fs.ListXattr(kRoot, ino);
    auto xb = model_.ListXattr(kRoot, ino);
    if (Compare(xa, xb)) {
      REQUIRE(*xa == xb.value);
      for (const std::string& name : *xa) {
        auto va = fs.GetXattr(kRoot, ino, name);
        auto vb = model_.GetXattr(kRoot, ino, name);
        if (Compare(va, vb)) REQUIRE(*va == vb.value);
      }
    }
  }
  for (Ino ino : inos) {
    Describe("compare attributes of inode " + std::to_string(ino), kRoot);
    auto a = fs.GetAttr(ino);
    auto b = model_.GetAttr(ino);
    if (Compare(a, b)) SameAttr(*a, b.value);
  }
  auto st = fs.StatFilesystem();
  REQUIRE(st.ok());
  REQUIRE(st->used_bytes == model_.UsedBytes());
  REQUIRE(st->inodes == model_.InodeCount());
}

void Harness::Reopen() {
  // Open handles are dropped without Release, as by a crash after a sync: files unlinked
  // while open must be reclaimed by the next open.
  fix_.Reopen(Chance(50));
  model_.Restart();
  CompareAll();
}

}  // namespace zerofs::testing
