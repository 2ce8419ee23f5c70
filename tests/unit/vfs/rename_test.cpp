// Rename: moves, replacement, RENAME_NOREPLACE, RENAME_EXCHANGE and every error case.
#include "vfs_test_support.h"
#include "zerofs/index/records.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;

namespace {

struct Tree {
  explicit Tree(vfs::Filesystem& filesystem) : fs(filesystem) {
    REQUIRE(fs.SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(0777)).ok());
  }
  vfs::Attr Dir(vfs::Ino parent, const std::string& name, std::uint32_t mode = 0777,
                const vfs::Credentials& c = kRoot) {
    auto a = fs.Mkdir(c, parent, name, mode);
    INFO(a.status());
    REQUIRE(a.ok());
    return *a;
  }
  vfs::Attr File(vfs::Ino parent, const std::string& name, const std::string& data = "",
                 const vfs::Credentials& c = kRoot) {
    auto r = fs.Create(c, parent, name, 0666, vfs::kOpenReadWrite, true);
    INFO(r.status());
    REQUIRE(r.ok());
    if (!data.empty()) REQUIRE(fs.Write(r->handle, 0, data).ok());
    REQUIRE(fs.Release(r->handle).ok());
    return *fs.GetAttr(r->attr.ino);
  }
  vfs::Ino Find(vfs::Ino parent, const std::string& name) {
    auto a = fs.Lookup(kRoot, parent, name);
    return a.ok() ? a->ino : 0;
  }
  vfs::Filesystem& fs;
};

}  // namespace

TEST_CASE("rename moves an entry and stamps the inode and both directories") {
  VfsFixture f;
  Tree t(f.fs());
  auto& fs = f.fs();
  const vfs::Attr a = t.Dir(kRootIno, "a");
  const vfs::Attr b = t.Dir(kRootIno, "b");
  const vfs::Attr file = t.File(a.ino, "f", "data");
  const vfs::Timespec now = f.clock().Tick();
  REQUIRE_OK(fs.Rename(kRoot, a.ino, "f", b.ino, "g", 0));
  CHECK(t.Find(a.ino, "f") == 0);
  CHECK(t.Find(b.ino, "g") == file.ino);
  auto moved = fs.GetAttr(file.ino);
  CHECK(moved->ctime == now);
  CHECK(moved->mtime == file.mtime);
  CHECK(fs.GetAttr(a.ino)->mtime == now);
  CHECK(fs.GetAttr(b.ino)->ctime == now);
  // Within one directory.
  REQUIRE_OK(fs.Rename(kRoot, b.ino, "g", b.ino, "h", 0));
  CHECK(t.Find(b.ino, "h") == file.ino);
  // Onto itself: nothing happens.
  f.clock().Tick();
  REQUIRE_OK(fs.Rename(kRoot, b.ino, "h", b.ino, "h", 0));
  CHECK(fs.GetAttr(file.ino)->ctime == now);
  CHECK_ERRNO(fs.Rename(kRoot, b.ino, "missing", a.ino, "x", 0), ENOENT);
}

TEST_CASE("rename replaces a file, the replaced file lives on while open") {
  VfsFixture f;
  Tree t(f.fs());
  auto& fs = f.fs();
  const vfs::Attr src = t.File(kRootIno, "src", "new content");
  const vfs::Attr dst = t.File(kRootIno, "dst", "old content");
  auto h = fs.Open(kRoot, dst.ino, vfs::kOpenReadOnly);
  REQUIRE_OK(h);
  const std::uint64_t used = fs.StatFilesystem()->used_bytes;
  REQUIRE_OK(fs.Rename(kRoot, kRootIno, "src", kRootIno, "dst", 0));
  CHECK(t.Find(kRootIno, "dst") == src.ino);
  CHECK(t.Find(kRootIno, "src") == 0);
  auto orphan = fs.GetAttr(dst.ino);
  REQUIRE_OK(orphan);
  CHECK(orphan->nlink == 0);
  CHECK(*fs.Read(*h, 0, 100) == "old content");
  REQUIRE_OK(fs.Release(*h));
  CHECK_ERRNO(fs.GetAttr(dst.ino), ESTALE);
  CHECK(fs.StatFilesystem()->used_bytes == used - 11);
}

TEST_CASE("rename of directories: link counts, '..', replacing an empty directory") {
  VfsFixture f;
  Tree t(f.fs());
  auto& fs = f.fs();
  const vfs::Attr a = t.Dir(kRootIno, "a");
  const vfs::Attr b = t.Dir(kRootIno, "b");
  const vfs::Attr d = t.Dir(a.ino, "d");
  t.Dir(d.ino, "inner");
  REQUIRE_OK(fs.Rename(kRoot, a.ino, "d", b.ino, "d", 0));
  CHECK(fs.GetAttr(a.ino)->nlink == 2);
  CHECK(fs.GetAttr(b.ino)->nlink == 3);
  CHECK(fs.Lookup(kRoot, d.ino, "..")->ino == b.ino);
  // Replace an empty directory: the target disappears, counts stay right.
  const vfs::Attr empty = t.Dir(a.ino, "empty");
  REQUIRE_OK(fs.Rename(kRoot, b.ino, "d", a.ino, "empty", 0));
  CHECK_ERRNO(fs.GetAttr(empty.ino), ESTALE);
  CHECK(t.Find(a.ino, "empty") == d.ino);
  CHECK(fs.GetAttr(a.ino)->nlink == 3);
  CHECK(fs.GetAttr(b.ino)->nlink == 2);
  CHECK(fs.GetAttr(kRootIno)->nlink == 4);
}

TEST_CASE("rename error cases follow Linux") {
  VfsFixture f;
  Tree t(f.fs());
  auto& fs = f.fs();
  const vfs::Attr a = t.Dir(kRootIno, "a");
  const vfs::Attr ab = t.Dir(a.ino, "b");
  const vfs::Attr abc = t.Dir(ab.ino, "c");
  t.File(abc.ino, "file");
  t.File(kRootIno, "f");
  const vfs::Attr e = t.Dir(kRootIno, "e");

  // A directory into itself or below itself.
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "a", ab.ino, "x", 0), EINVAL);
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "a", a.ino, "x", 0), EINVAL);
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "a", abc.ino, "x", 0), EINVAL);
  // The target is an ancestor of the source: not empty.
  CHECK_ERRNO(fs.Rename(kRoot, ab.ino, "c", kRootIno, "a", 0), ENOTEMPTY);
  CHECK_ERRNO(fs.Rename(kRoot, ab.ino, "c", kRootIno, "a", vfs::kRenameExchange), EINVAL);
  // Non-empty target directory; types that do not match.
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "e", kRootIno, "a", 0), ENOTEMPTY);
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "f", kRootIno, "e", 0), EISDIR);
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "e", kRootIno, "f", 0), ENOTDIR);
  // Dots, flags, names.
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, ".", kRootIno, "x", 0), EBUSY);
  CHECK_ERRNO(fs.Rename(kRoot, a.ino, "b", kRootIno, "..", 0), EBUSY);
  CHECK_ERRNO(fs.Rename(kRoot, a.ino, "b", kRootIno, ".", vfs::kRenameNoReplace), EEXIST);
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "f", kRootIno, "g", 3), EINVAL);
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "f", kRootIno, "g", vfs::kRenameWhiteout), EINVAL);
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "f", kRootIno, std::string(256, 'g'), 0), ENAMETOOLONG);
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "f", e.ino + 1000, "g", 0), ESTALE);
  const vfs::Ino file = t.Find(kRootIno, "f");
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "e", file, "g", 0), ENOTDIR);
  // Nothing moved.
  CHECK(t.Find(kRootIno, "a") == a.ino);
  CHECK(t.Find(kRootIno, "f") == file);
}

TEST_CASE("RENAME_NOREPLACE and RENAME_EXCHANGE") {
  VfsFixture f;
  Tree t(f.fs());
  auto& fs = f.fs();
  const vfs::Attr x = t.File(kRootIno, "x", "X");
  const vfs::Attr y = t.File(kRootIno, "y", "Y");
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "x", kRootIno, "y", vfs::kRenameNoReplace), EEXIST);
  REQUIRE_OK(fs.Rename(kRoot, kRootIno, "x", kRootIno, "z", vfs::kRenameNoReplace));
  CHECK_ERRNO(fs.Rename(kRoot, kRootIno, "z", kRootIno, "nothing", vfs::kRenameExchange), ENOENT);
  const vfs::Timespec now = f.clock().Tick();
  REQUIRE_OK(fs.Rename(kRoot, kRootIno, "z", kRootIno, "y", vfs::kRenameExchange));
  CHECK(t.Find(kRootIno, "y") == x.ino);
  CHECK(t.Find(kRootIno, "z") == y.ino);
  CHECK(fs.GetAttr(x.ino)->ctime == now);
  CHECK(fs.GetAttr(y.ino)->ctime == now);
  // A directory and a file across directories: link counts and '..' follow.
  const vfs::Attr a = t.Dir(kRootIno, "a");
  const vfs::Attr sub = t.Dir(a.ino, "sub");
  REQUIRE_OK(fs.Rename(kRoot, a.ino, "sub", kRootIno, "y", vfs::kRenameExchange));
  CHECK(t.Find(kRootIno, "y") == sub.ino);
  CHECK(t.Find(a.ino, "sub") == x.ino);
  CHECK(fs.Lookup(kRoot, sub.ino, "..")->ino == kRootIno);
  CHECK(fs.GetAttr(a.ino)->nlink == 2);
  CHECK(fs.GetAttr(kRootIno)->nlink == 4);  // a and sub (now y)
  CHECK(fs.GetAttr(x.ino)->nlink == 1);
}

TEST_CASE("rename of two names of one inode changes nothing") {
  VfsFixture f;
  Tree t(f.fs());
  auto& fs = f.fs();
  const vfs::Attr x = t.File(kRootIno, "x");
  REQUIRE_OK(fs.Link(kRoot, x.ino, kRootIno, "y"));
  REQUIRE_OK(fs.Rename(kRoot, kRootIno, "x", kRootIno, "y", 0));
  CHECK(t.Find(kRootIno, "x") == x.ino);
  CHECK(t.Find(kRootIno, "y") == x.ino);
  CHECK(fs.GetAttr(x.ino)->nlink == 2);
}

TEST_CASE("rename permissions: write on both directories, sticky rule, moving a directory") {
  VfsFixture f;
  Tree t(f.fs());
  auto& fs = f.fs();
  const vfs::Attr ro = t.Dir(kRootIno, "ro", 0755);
  const vfs::Attr mine = t.Dir(kRootIno, "mine", 0777, kAlice);
  t.File(ro.ino, "r");
  t.File(mine.ino, "m", "", kAlice);
  CHECK_ERRNO(fs.Rename(kAlice, ro.ino, "r", mine.ino, "r", 0), EACCES);
  CHECK_ERRNO(fs.Rename(kAlice, mine.ino, "m", ro.ino, "m", 0), EACCES);
  // Moving a directory to another parent rewrites its '..': it must be writable.
  const vfs::Attr locked = t.Dir(mine.ino, "locked", 0555, kAlice);
  const vfs::Attr other = t.Dir(kRootIno, "other", 0777, kAlice);
  CHECK_ERRNO(fs.Rename(kAlice, mine.ino, "locked", other.ino, "locked", 0), EACCES);
  REQUIRE_OK(fs.Rename(kAlice, mine.ino, "locked", mine.ino, "still-here", 0));
  REQUIRE_OK(fs.SetAttr(kAlice, locked.ino, vfs::SetAttrRequest::Chmod(0755)));
  REQUIRE_OK(fs.Rename(kAlice, mine.ino, "still-here", other.ino, "moved", 0));
  // Search permission on the source directory.
  const vfs::Attr hidden = t.Dir(kRootIno, "hidden", 0700);
  t.File(hidden.ino, "h");
  CHECK_ERRNO(fs.Rename(kAlice, hidden.ino, "h", mine.ino, "h", 0), EACCES);
}
