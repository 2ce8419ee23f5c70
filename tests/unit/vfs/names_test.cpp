// Lookup and the operations that create and remove names, with their error cases.
#include <set>

#include "vfs_test_support.h"
#include "zerofs/index/records.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;

namespace {

constexpr std::uint32_t kDir = index::kModeDirectory;
constexpr std::uint32_t kReg = index::kModeRegular;

vfs::Attr MustMkdir(vfs::Filesystem& fs, const vfs::Credentials& c, vfs::Ino parent,
                    const std::string& name, std::uint32_t mode = 0755) {
  auto a = fs.Mkdir(c, parent, name, mode);
  INFO("mkdir " << name << ": " << a.status());
  REQUIRE(a.ok());
  return *a;
}

vfs::Attr MustCreate(vfs::Filesystem& fs, const vfs::Credentials& c, vfs::Ino parent,
                     const std::string& name, std::uint32_t mode = 0644) {
  auto r = fs.Create(c, parent, name, mode, vfs::kOpenReadWrite, true, false);
  INFO("create " << name << ": " << r.status());
  REQUIRE(r.ok());
  return r->attr;
}

vfs::SetAttrRequest ModeAndGroup(std::uint32_t mode, std::uint32_t gid) {
  vfs::SetAttrRequest r = vfs::SetAttrRequest::Chmod(mode);
  r.gid = gid;
  return r;
}

}  // namespace

TEST_CASE("the first open of an empty volume creates the root directory") {
  VfsFixture f;
  auto root = f.fs().GetAttr(kRootIno);
  REQUIRE_OK(root);
  CHECK(root->mode == (kDir | 0755));
  CHECK(root->nlink == 2);
  CHECK(root->uid == 0);
  CHECK(root->gid == 0);
  CHECK(root->mtime == f.clock().Now());
  auto up = f.fs().Lookup(kAlice, kRootIno, "..");
  REQUIRE_OK(up);
  CHECK(up->ino == kRootIno);
  auto st = f.fs().StatFilesystem();
  REQUIRE_OK(st);
  CHECK(st->inodes == 1);
  // A second open finds it and changes nothing.
  const vfs::Timespec created = root->ctime;
  f.clock().Tick();
  f.Reopen();
  auto again = f.fs().GetAttr(kRootIno);
  REQUIRE_OK(again);
  CHECK(again->ctime == created);
  CHECK(again->generation == root->generation);
}

TEST_CASE("create makes a file owned by the caller and stamps it and its directory") {
  VfsFixture f;
  auto& fs = f.fs();
  REQUIRE_OK(fs.SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(0777)));
  const vfs::Timespec t = f.clock().Tick();
  auto created = fs.Create(kAlice, kRootIno, "a", 0640, vfs::kOpenReadWrite, true);
  REQUIRE_OK(created);
  CHECK(created->created);
  CHECK(created->handle != vfs::kNoHandle);
  CHECK(created->attr.mode == (kReg | 0640));
  CHECK(created->attr.uid == 1000);
  CHECK(created->attr.gid == 1000);
  CHECK(created->attr.nlink == 1);
  CHECK(created->attr.size == 0);
  CHECK(created->attr.atime == t);
  CHECK(created->attr.btime == t);
  auto root = fs.GetAttr(kRootIno);
  CHECK(root->mtime == t);
  CHECK(root->ctime == t);
  CHECK(root->nlink == 2);
  REQUIRE_OK(fs.Release(created->handle));

  auto looked = fs.Lookup(kBob, kRootIno, "a");
  REQUIRE_OK(looked);
  CHECK(looked->ino == created->attr.ino);
  CHECK(looked->generation == created->attr.generation);

  // Exclusive create of an existing name; non-exclusive opens it with a permission check.
  CHECK_ERRNO(fs.Create(kAlice, kRootIno, "a", 0644, vfs::kOpenReadWrite, true), EEXIST);
  auto reopened = fs.Create(kAlice, kRootIno, "a", 0644, vfs::kOpenReadWrite, false);
  REQUIRE_OK(reopened);
  CHECK_FALSE(reopened->created);
  CHECK(reopened->attr.ino == created->attr.ino);
  REQUIRE_OK(fs.Release(reopened->handle));
  CHECK_ERRNO(fs.Create(kCarol, kRootIno, "a", 0644, vfs::kOpenReadOnly, false), EACCES);
  MustMkdir(fs, kAlice, kRootIno, "d");
  CHECK_ERRNO(fs.Create(kAlice, kRootIno, "d", 0644, vfs::kOpenReadOnly, false), EISDIR);
  CHECK_ERRNO(fs.Create(kAlice, kRootIno, ".", 0644, vfs::kOpenReadOnly, false), EISDIR);
  CHECK_ERRNO(fs.Create(kAlice, kRootIno, "..", 0644, vfs::kOpenReadOnly, true), EEXIST);
}

TEST_CASE("names: length, characters and lookup errors") {
  VfsFixture f;
  auto& fs = f.fs();
  const std::string longest(255, 'n');
  MustCreate(fs, kRoot, kRootIno, longest);
  REQUIRE_OK(fs.Lookup(kRoot, kRootIno, longest));
  CHECK_ERRNO(fs.Create(kRoot, kRootIno, longest + "n", 0644, 0, true, false), ENAMETOOLONG);
  CHECK_ERRNO(fs.Lookup(kRoot, kRootIno, longest + "n"), ENAMETOOLONG);
  CHECK_ERRNO(fs.Mkdir(kRoot, kRootIno, std::string(300, 'x'), 0755), ENAMETOOLONG);
  CHECK_ERRNO(fs.Lookup(kRoot, kRootIno, ""), ENOENT);
  CHECK_ERRNO(fs.Mkdir(kRoot, kRootIno, "a/b", 0755), EINVAL);
  CHECK_ERRNO(fs.Mkdir(kRoot, kRootIno, std::string("a\0b", 3), 0755), EINVAL);
  CHECK_ERRNO(fs.Lookup(kRoot, kRootIno, "missing"), ENOENT);
  const vfs::Attr file = MustCreate(fs, kRoot, kRootIno, "file");
  CHECK_ERRNO(fs.Lookup(kRoot, file.ino, "x"), ENOTDIR);
  CHECK_ERRNO(fs.Mkdir(kRoot, file.ino, "x", 0755), ENOTDIR);
  CHECK_ERRNO(fs.GetAttr(999999), ESTALE);
  CHECK_ERRNO(fs.Lookup(kRoot, 999999, "x"), ESTALE);
}

TEST_CASE("mkdir and rmdir keep directory link counts") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr a = MustMkdir(fs, kRoot, kRootIno, "a", 07777);
  // mkdir keeps permission and sticky bits only.
  CHECK(a.mode == (kDir | 01777));
  CHECK(a.nlink == 2);
  CHECK(fs.GetAttr(kRootIno)->nlink == 3);
  const vfs::Attr b = MustMkdir(fs, kRoot, a.ino, "b");
  CHECK(fs.GetAttr(a.ino)->nlink == 3);
  CHECK(fs.Lookup(kRoot, b.ino, "..")->ino == a.ino);
  CHECK(fs.Lookup(kRoot, b.ino, ".")->ino == b.ino);
  CHECK_ERRNO(fs.Mkdir(kRoot, kRootIno, "a", 0755), EEXIST);
  CHECK_ERRNO(fs.Mkdir(kRoot, kRootIno, ".", 0755), EEXIST);
  CHECK_ERRNO(fs.Rmdir(kRoot, kRootIno, "a"), ENOTEMPTY);
  CHECK_ERRNO(fs.Rmdir(kRoot, a.ino, "."), EINVAL);
  CHECK_ERRNO(fs.Rmdir(kRoot, a.ino, ".."), ENOTEMPTY);
  CHECK_ERRNO(fs.Rmdir(kRoot, a.ino, "zzz"), ENOENT);
  MustCreate(fs, kRoot, a.ino, "f");
  CHECK_ERRNO(fs.Rmdir(kRoot, a.ino, "f"), ENOTDIR);
  CHECK_ERRNO(fs.Unlink(kRoot, a.ino, "b"), EISDIR);
  CHECK_ERRNO(fs.Unlink(kRoot, a.ino, "."), EISDIR);
  const vfs::Timespec t = f.clock().Tick();
  REQUIRE_OK(fs.Rmdir(kRoot, a.ino, "b"));
  auto after = fs.GetAttr(a.ino);
  CHECK(after->nlink == 2);
  CHECK(after->mtime == t);
  CHECK_ERRNO(fs.GetAttr(b.ino), ESTALE);
  REQUIRE_OK(fs.Unlink(kRoot, a.ino, "f"));
  REQUIRE_OK(fs.Rmdir(kRoot, kRootIno, "a"));
  CHECK(fs.GetAttr(kRootIno)->nlink == 2);
  CHECK(fs.StatFilesystem()->inodes == 1);
}

TEST_CASE("a directory removed while open stays stat-able, empty and closed to new names") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr d = MustMkdir(fs, kRoot, kRootIno, "d");
  auto handle = fs.Open(kRoot, d.ino, 0);
  REQUIRE_OK(handle);
  REQUIRE_OK(fs.Rmdir(kRoot, kRootIno, "d"));
  auto st = fs.GetAttr(d.ino);
  REQUIRE_OK(st);
  CHECK(st->nlink == 0);
  CHECK(fs.ReadDir(*handle, 0, 100)->empty());
  CHECK_ERRNO(fs.Create(kRoot, d.ino, "x", 0644, 0, false), ENOENT);
  CHECK_ERRNO(fs.Mkdir(kRoot, d.ino, "x", 0755), ENOENT);
  CHECK_ERRNO(fs.Lookup(kRoot, kRootIno, "d"), ENOENT);
  CHECK(fs.GetAttr(kRootIno)->nlink == 2);
  // The last release deletes it; a reopen of the volume would too.
  REQUIRE_OK(fs.Release(*handle));
  CHECK_ERRNO(fs.GetAttr(d.ino), ESTALE);
  CHECK(fs.StatFilesystem()->inodes == 1);
}

TEST_CASE("a directory replaced by a rename while open stays stat-able with nlink 0") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr src = MustMkdir(fs, kRoot, kRootIno, "src");
  const vfs::Attr dst = MustMkdir(fs, kRoot, kRootIno, "dst");
  auto handle = fs.Open(kRoot, dst.ino, 0);
  REQUIRE_OK(handle);
  REQUIRE_OK(fs.Rename(kRoot, kRootIno, "src", kRootIno, "dst", 0));
  auto st = fs.GetAttr(dst.ino);
  REQUIRE_OK(st);
  CHECK(st->nlink == 0);
  CHECK(fs.ReadDir(*handle, 0, 100)->empty());
  CHECK_ERRNO(fs.Create(kRoot, dst.ino, "x", 0644, 0, false), ENOENT);
  CHECK(fs.Lookup(kRoot, kRootIno, "dst")->ino == src.ino);
  CHECK(fs.GetAttr(kRootIno)->nlink == 3);
  CHECK(fs.StatFilesystem()->inodes == 2);
  REQUIRE_OK(fs.Release(*handle));
  CHECK_ERRNO(fs.GetAttr(dst.ino), ESTALE);
  CHECK(fs.StatFilesystem()->inodes == 2);
}

TEST_CASE("a directory removed while open is reclaimed at the next open after a crash") {
  VfsFixture f;
  const vfs::Attr d = MustMkdir(f.fs(), kRoot, kRootIno, "d");
  auto handle = f.fs().Open(kRoot, d.ino, 0);
  REQUIRE_OK(handle);
  REQUIRE_OK(f.fs().Rmdir(kRoot, kRootIno, "d"));
  REQUIRE_OK(f.fs().SyncAll());
  f.Reopen();
  CHECK_ERRNO(f.fs().GetAttr(d.ino), ESTALE);
  CHECK(f.fs().StatFilesystem()->inodes == 1);
}

TEST_CASE("search and write permission on directories, EEXIST before EACCES") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr home = MustMkdir(fs, kRoot, kRootIno, "home", 0755);
  const vfs::Attr priv = MustMkdir(fs, kRoot, home.ino, "priv", 0700);
  MustCreate(fs, kRoot, priv.ino, "secret");
  CHECK_ERRNO(fs.Lookup(kAlice, priv.ino, "secret"), EACCES);
  CHECK_ERRNO(fs.Lookup(kAlice, priv.ino, "missing"), EACCES);
  REQUIRE_OK(fs.Lookup(kRoot, priv.ino, "secret"));
  // Root searches any directory but cannot execute a file nobody may execute.
  const vfs::Attr script = MustCreate(fs, kRoot, home.ino, "script", 0644);
  CHECK_ERRNO(fs.Access(kRoot, script.ino, vfs::kAccessExecute), EACCES);
  REQUIRE_OK(fs.Access(kRoot, script.ino, vfs::kAccessRead | vfs::kAccessWrite));
  REQUIRE_OK(fs.Access(kRoot, priv.ino, vfs::kAccessExecute));
  CHECK_ERRNO(fs.Access(kAlice, script.ino, vfs::kAccessWrite), EACCES);
  REQUIRE_OK(fs.Access(kAlice, script.ino, vfs::kAccessRead));
  REQUIRE_OK(fs.Access(kAlice, script.ino, 0));
  // No write permission: creating fails, but an existing name is reported first.
  CHECK_ERRNO(fs.Mkdir(kAlice, home.ino, "x", 0755), EACCES);
  CHECK_ERRNO(fs.Mkdir(kAlice, home.ino, "priv", 0755), EEXIST);
  CHECK_ERRNO(fs.Symlink(kAlice, home.ino, "l", "t"), EACCES);
  CHECK_ERRNO(fs.Mknod(kAlice, home.ino, "p", index::kModeFifo | 0644, 0), EACCES);
  CHECK_ERRNO(fs.Unlink(kAlice, home.ino, "script"), EACCES);
  CHECK_ERRNO(fs.Unlink(kAlice, home.ino, "nothing"), ENOENT);
  // Group permission through a supplementary group.
  REQUIRE_OK(fs.SetAttr(kRoot, home.ino, ModeAndGroup(0770, 100)));
  MustMkdir(fs, kAlice, home.ino, "by-alice");
  CHECK_ERRNO(fs.Mkdir(kCarol, home.ino, "by-carol", 0755), EACCES);
}

TEST_CASE("sticky directories: only the owners of the entry or directory, or root, remove it") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr tmp = MustMkdir(fs, kRoot, kRootIno, "tmp", 01777);
  MustCreate(fs, kAlice, tmp.ino, "alices");
  MustCreate(fs, kBob, tmp.ino, "bobs");
  CHECK_ERRNO(fs.Unlink(kBob, tmp.ino, "alices"), EPERM);
  CHECK_ERRNO(fs.Rename(kBob, tmp.ino, "alices", tmp.ino, "mine", 0), EPERM);
  CHECK_ERRNO(fs.Rename(kAlice, tmp.ino, "alices", tmp.ino, "bobs", 0), EPERM);
  REQUIRE_OK(fs.Unlink(kAlice, tmp.ino, "alices"));
  REQUIRE_OK(fs.Unlink(kRoot, tmp.ino, "bobs"));
  // The owner of the directory may remove anything in it.
  REQUIRE_OK(fs.SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(0777)));
  const vfs::Attr shared = MustMkdir(fs, kAlice, kRootIno, "shared", 0777);
  REQUIRE_OK(fs.SetAttr(kAlice, shared.ino, vfs::SetAttrRequest::Chmod(01777)));
  MustCreate(fs, kBob, shared.ino, "b");
  REQUIRE_OK(fs.Unlink(kAlice, shared.ino, "b"));
}

TEST_CASE("setgid directories pass their group down, setgid is stripped for outsiders") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr proj = MustMkdir(fs, kRoot, kRootIno, "proj", 0777);
  REQUIRE_OK(fs.SetAttr(kRoot, proj.ino, ModeAndGroup(02777, 100)));
  const vfs::Attr file = MustCreate(fs, kCarol, proj.ino, "f", 02755);
  CHECK(file.gid == 100);
  // Carol is not in group 100: a group-executable setgid file would give her its rights.
  CHECK(file.mode == (kReg | 0755));
  const vfs::Attr alices = MustCreate(fs, kAlice, proj.ino, "g", 02755);
  CHECK(alices.mode == (kReg | 02755));
  const vfs::Attr sub = MustMkdir(fs, kCarol, proj.ino, "sub", 0755);
  CHECK(sub.gid == 100);
  CHECK(sub.mode == (kDir | 02755));
  const vfs::Attr deeper = MustMkdir(fs, kCarol, sub.ino, "deeper", 0700);
  CHECK(deeper.gid == 100);
  CHECK(deeper.mode == (kDir | 02700));
  // Outside a setgid directory: the caller's primary group.
  const vfs::Attr plain = MustCreate(fs, kAlice, proj.ino, "h", 0644);
  CHECK(plain.gid == 100);
  REQUIRE_OK(fs.SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(0777)));
  CHECK(MustCreate(fs, kAlice, kRootIno, "i", 0644).gid == 1000);
}

TEST_CASE("mknod makes fifos and sockets for anyone, devices only for root") {
  VfsFixture f;
  auto& fs = f.fs();
  REQUIRE_OK(fs.SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(0777)));
  auto fifo = fs.Mknod(kAlice, kRootIno, "fifo", index::kModeFifo | 0600, 77);
  REQUIRE_OK(fifo);
  CHECK(fifo->type() == index::FileType::kFifo);
  CHECK(fifo->rdev == 0);
  auto sock = fs.Mknod(kAlice, kRootIno, "sock", index::kModeSocket | 0600, 0);
  REQUIRE_OK(sock);
  CHECK(sock->type() == index::FileType::kSocket);
  auto reg = fs.Mknod(kAlice, kRootIno, "reg", 0644, 0);  // no type bits: a regular file
  REQUIRE_OK(reg);
  CHECK(reg->mode == (kReg | 0644));
  CHECK_ERRNO(fs.Mknod(kAlice, kRootIno, "chr", index::kModeCharDevice | 0600, 0x0103), EPERM);
  auto chr = fs.Mknod(kRoot, kRootIno, "chr", index::kModeCharDevice | 0600, 0x0103);
  REQUIRE_OK(chr);
  CHECK(chr->rdev == 0x0103);
  auto blk = fs.Mknod(kRoot, kRootIno, "blk", index::kModeBlockDevice | 0600, 0x0801);
  REQUIRE_OK(blk);
  CHECK(blk->type() == index::FileType::kBlockDevice);
  CHECK_ERRNO(fs.Mknod(kRoot, kRootIno, "dir", kDir | 0755, 0), EPERM);
  CHECK_ERRNO(fs.Mknod(kRoot, kRootIno, "lnk", index::kModeSymlink | 0777, 0), EINVAL);
  CHECK_ERRNO(fs.Mknod(kRoot, kRootIno, "fifo", index::kModeFifo | 0600, 0), EEXIST);
  CHECK_ERRNO(fs.Open(kAlice, fifo->ino, vfs::kOpenReadOnly | vfs::kOpenDirectory), ENOTDIR);
}

TEST_CASE("symlink stores its target, readlink returns it") {
  VfsFixture f;
  auto& fs = f.fs();
  auto link = fs.Symlink(kRoot, kRootIno, "l", "../some/where");
  REQUIRE_OK(link);
  CHECK(link->mode == (index::kModeSymlink | 0777));
  CHECK(link->size == 13);
  auto target = fs.ReadLink(kAlice, link->ino);
  REQUIRE_OK(target);
  CHECK(*target == "../some/where");
  CHECK_ERRNO(fs.Symlink(kRoot, kRootIno, "e", ""), ENOENT);
  CHECK_ERRNO(fs.Symlink(kRoot, kRootIno, "big", std::string(4096, 'x')), ENAMETOOLONG);
  REQUIRE_OK(fs.Symlink(kRoot, kRootIno, "max", std::string(4095, 'x')));
  CHECK_ERRNO(fs.Symlink(kRoot, kRootIno, "l", "x"), EEXIST);
  CHECK_ERRNO(fs.ReadLink(kRoot, kRootIno), EINVAL);
  CHECK_ERRNO(fs.Open(kRoot, link->ino, vfs::kOpenReadOnly), ELOOP);
}

TEST_CASE("hard links count, directories cannot be linked, protected hard links") {
  VfsFixture f;
  auto& fs = f.fs();
  REQUIRE_OK(fs.SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(0777)));
  const vfs::Attr file = MustCreate(fs, kAlice, kRootIno, "f", 0600);
  const vfs::Attr d = MustMkdir(fs, kAlice, kRootIno, "d", 0777);
  const vfs::Timespec t = f.clock().Tick();
  auto linked = fs.Link(kAlice, file.ino, d.ino, "g");
  REQUIRE_OK(linked);
  CHECK(linked->nlink == 2);
  CHECK(linked->ctime == t);
  CHECK(fs.GetAttr(d.ino)->mtime == t);
  CHECK(fs.Lookup(kAlice, d.ino, "g")->ino == file.ino);
  CHECK_ERRNO(fs.Link(kAlice, file.ino, d.ino, "g"), EEXIST);
  CHECK_ERRNO(fs.Link(kAlice, d.ino, kRootIno, "d2"), EPERM);
  CHECK_ERRNO(fs.Link(kAlice, file.ino, file.ino, "x"), ENOTDIR);
  // Bob may not link Alice's file he cannot read and write.
  CHECK_ERRNO(fs.Link(kBob, file.ino, d.ino, "stolen"), EPERM);
  REQUIRE_OK(fs.SetAttr(kAlice, file.ino, vfs::SetAttrRequest::Chmod(0666)));
  REQUIRE_OK(fs.Link(kBob, file.ino, d.ino, "shared"));
  CHECK(fs.GetAttr(file.ino)->nlink == 3);
  REQUIRE_OK(fs.Unlink(kAlice, kRootIno, "f"));
  REQUIRE_OK(fs.Unlink(kAlice, d.ino, "g"));
  auto last = fs.GetAttr(file.ino);
  REQUIRE_OK(last);
  CHECK(last->nlink == 1);
  REQUIRE_OK(fs.Unlink(kBob, d.ino, "shared"));
  CHECK_ERRNO(fs.GetAttr(file.ino), ESTALE);
}

TEST_CASE("inode numbers are never reused") {
  VfsFixture f;
  std::set<vfs::Ino> seen{kRootIno};
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20; ++i) {
      const vfs::Attr a = MustCreate(f.fs(), kRoot, kRootIno, "f" + std::to_string(i));
      CHECK(seen.insert(a.ino).second);
    }
    for (int i = 0; i < 20; ++i) {
      REQUIRE_OK(f.fs().Unlink(kRoot, kRootIno, "f" + std::to_string(i)));
    }
    f.Reopen();
  }
}
