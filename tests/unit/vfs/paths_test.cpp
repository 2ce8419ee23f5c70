// Path resolution and the convenience calls for embedders.
#include "zerofs/vfs/paths.h"

#include "vfs_test_support.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;

TEST_CASE("ResolvePath walks components, dots and symlinks") {
  VfsFixture f;
  auto& fs = f.fs();
  REQUIRE_OK(vfs::MakeDirs(fs, kRoot, "/a/b/c"));
  REQUIRE_OK(vfs::WriteFile(fs, kRoot, "/a/b/c/file", "content"));
  auto c = vfs::ResolvePath(fs, kRoot, "/a/b/c");
  REQUIRE_OK(c);
  CHECK(c->is_dir());
  CHECK(vfs::ResolvePath(fs, kRoot, "//a/./b//c/")->ino == c->ino);
  CHECK(vfs::ResolvePath(fs, kRoot, "/a/b/c/../c/./file")->is_regular());
  CHECK(vfs::ResolvePath(fs, kRoot, "/..")->ino == kRootIno);
  CHECK(vfs::ResolvePath(fs, kRoot, "a/b")->ino == vfs::ResolvePath(fs, kRoot, "/a/b")->ino);
  // Symlinks: relative to their directory, absolute from the root; lstat-like when asked.
  auto b = vfs::ResolvePath(fs, kRoot, "/a/b");
  REQUIRE_OK(fs.Symlink(kRoot, b->ino, "rel", "c/file"));
  REQUIRE_OK(fs.Symlink(kRoot, kRootIno, "abs", "/a/b/c"));
  REQUIRE_OK(fs.Symlink(kRoot, kRootIno, "chain", "abs/../rel"));
  auto file = vfs::ResolvePath(fs, kRoot, "/a/b/c/file");
  CHECK(vfs::ResolvePath(fs, kRoot, "/a/b/rel")->ino == file->ino);
  CHECK(vfs::ResolvePath(fs, kRoot, "/abs/file")->ino == file->ino);
  CHECK(vfs::ResolvePath(fs, kRoot, "/chain")->ino == file->ino);
  CHECK(vfs::ResolvePath(fs, kRoot, "/abs", false)->is_symlink());
  CHECK(vfs::ResolvePath(fs, kRoot, "/abs/", false)->is_dir());
  CHECK(*vfs::ReadFile(fs, kRoot, "/chain") == "content");
  // Errors.
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/a/missing/x"), ENOENT);
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/a/b/c/file/x"), ENOTDIR);
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/a/b/c/file/"), ENOTDIR);
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, ""), ENOENT);
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/" + std::string(4096, 'p')), ENAMETOOLONG);
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/" + std::string(256, 'p')), ENAMETOOLONG);
  REQUIRE_OK(fs.SetAttr(kRoot, b->ino, vfs::SetAttrRequest::Chmod(0700)));
  CHECK_ERRNO(vfs::ResolvePath(fs, kAlice, "/a/b/c"), EACCES);
}

TEST_CASE("symlink loops end with ELOOP after 40 links") {
  VfsFixture f;
  auto& fs = f.fs();
  REQUIRE_OK(fs.Symlink(kRoot, kRootIno, "self", "self"));
  REQUIRE_OK(fs.Symlink(kRoot, kRootIno, "ping", "pong"));
  REQUIRE_OK(fs.Symlink(kRoot, kRootIno, "pong", "/ping"));
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/self"), ELOOP);
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/ping/x"), ELOOP);
  REQUIRE_OK(vfs::ResolvePath(fs, kRoot, "/self", false));
  // A chain of exactly 40 links resolves; 41 does not.
  REQUIRE_OK(vfs::MakeDirs(fs, kRoot, "/target"));
  for (int i = 1; i <= 41; ++i) {
    const std::string target = i == 1 ? "/target" : "l" + std::to_string(i - 1);
    REQUIRE_OK(fs.Symlink(kRoot, kRootIno, "l" + std::to_string(i), target));
  }
  REQUIRE_OK(vfs::ResolvePath(fs, kRoot, "/l40"));
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/l41"), ELOOP);
}

TEST_CASE("WriteFile, ReadFile, ListDir, MakeDirs and RemoveAll") {
  VfsFixture f;
  auto& fs = f.fs();
  REQUIRE_OK(vfs::MakeDirs(fs, kRoot, "/x/y"));
  REQUIRE_OK(vfs::MakeDirs(fs, kRoot, "/x/y"));  // exists: fine
  const std::string big(3 << 20, 'b');
  REQUIRE_OK(vfs::WriteFile(fs, kRoot, "/x/y/big", big));
  REQUIRE_OK(vfs::WriteFile(fs, kRoot, "/x/small", "first"));
  REQUIRE_OK(vfs::WriteFile(fs, kRoot, "/x/small", "2nd"));  // replaces the content
  CHECK(*vfs::ReadFile(fs, kRoot, "/x/small") == "2nd");
  CHECK(*vfs::ReadFile(fs, kRoot, "/x/y/big") == big);
  CHECK_ERRNO(vfs::ReadFile(fs, kRoot, "/x/y/big", 1000), EFBIG);
  CHECK_ERRNO(vfs::ReadFile(fs, kRoot, "/x"), EISDIR);
  CHECK_ERRNO(vfs::WriteFile(fs, kRoot, "/x", "no"), EISDIR);
  CHECK_ERRNO(vfs::MakeDirs(fs, kRoot, "/x/small/z"), ENOTDIR);
  auto listing = vfs::ListDir(fs, kRoot, "/x");
  REQUIRE_OK(listing);
  REQUIRE(listing->size() == 2);
  CHECK((*listing)[0].name == "y");
  CHECK((*listing)[1].name == "small");
  CHECK_ERRNO(vfs::ResolveParent(fs, kRoot, "/"), EINVAL);
  REQUIRE_OK(vfs::RemoveAll(fs, kRoot, "/x"));
  CHECK_ERRNO(vfs::ResolvePath(fs, kRoot, "/x"), ENOENT);
  CHECK_ERRNO(vfs::RemoveAll(fs, kRoot, "/x"), ENOENT);
  auto st = fs.StatFilesystem();
  CHECK(st->inodes == 1);
  CHECK(st->used_bytes == 0);
}
