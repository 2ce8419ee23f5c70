// Readdir with stable cookies, extended attributes, statfs.
#include <map>
#include <random>
#include <set>

#include "vfs_test_support.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;

namespace {

void Touch(vfs::Filesystem& fs, vfs::Ino dir, const std::string& name) {
  auto r = fs.Create(kRoot, dir, name, 0644, vfs::kOpenReadOnly, true, false);
  INFO(name << ": " << r.status());
  REQUIRE(r.ok());
}

}  // namespace

TEST_CASE("readdir lists '.', '..' and entries in cookie order, resumable at any cookie") {
  VfsFixture f;
  auto& fs = f.fs();
  auto d = fs.Mkdir(kRoot, kRootIno, "d", 0755);
  REQUIRE_OK(d);
  for (const char* name : {"x", "y", "z"}) Touch(fs, d->ino, name);
  auto all = fs.ReadDirInode(kRoot, d->ino, 0, 100);
  REQUIRE_OK(all);
  REQUIRE(all->size() == 5);
  CHECK((*all)[0].name == ".");
  CHECK((*all)[0].cookie == 1);
  CHECK((*all)[0].ino == d->ino);
  CHECK((*all)[1].name == "..");
  CHECK((*all)[1].cookie == 2);
  CHECK((*all)[1].ino == kRootIno);
  CHECK((*all)[2].name == "x");
  CHECK((*all)[2].cookie == 3);
  CHECK((*all)[4].type == index::FileType::kRegular);
  auto from_dotdot = fs.ReadDirInode(kRoot, d->ino, 1, 2);
  REQUIRE(from_dotdot->size() == 2);
  CHECK((*from_dotdot)[0].name == "..");
  CHECK((*from_dotdot)[1].name == "x");
  CHECK(fs.ReadDirInode(kRoot, d->ino, (*all)[4].cookie, 10)->empty());
  CHECK_ERRNO(fs.ReadDirInode(kRoot, d->ino, 0, 0), EINVAL);
  auto file = fs.Lookup(kRoot, d->ino, "x");
  CHECK_ERRNO(fs.ReadDirInode(kRoot, file->ino, 0, 10), ENOTDIR);
  REQUIRE_OK(fs.SetAttr(kRoot, d->ino, vfs::SetAttrRequest::Chmod(0711)));
  CHECK_ERRNO(fs.ReadDirInode(kAlice, d->ino, 0, 10), EACCES);
  CHECK_ERRNO(fs.Open(kAlice, d->ino, vfs::kOpenReadOnly | vfs::kOpenDirectory), EACCES);
  // Root's directory listing survives a reopen with the same cookies.
  f.Reopen(true);
  auto again = f.fs().ReadDirInode(kRoot, d->ino, 0, 100);
  REQUIRE_OK(again);
  REQUIRE(again->size() == 5);
  CHECK((*again)[4].cookie == (*all)[4].cookie);
  CHECK((*again)[4].name == (*all)[4].name);
}

TEST_CASE("entries added and removed during a listing never make it skip or repeat others") {
  VfsFixture f;
  auto& fs = f.fs();
  auto d = fs.Mkdir(kRoot, kRootIno, "d", 0777);
  REQUIRE_OK(d);
  std::mt19937 rng(Catch::rngSeed());
  std::set<std::string> present;
  for (int i = 0; i < 300; ++i) {
    const std::string name = "e" + std::to_string(i);
    Touch(fs, d->ino, name);
    present.insert(name);
  }
  const std::set<std::string> initial = present;
  std::set<std::string> removed_during, seen;
  std::multiset<std::string> listed;
  auto h = fs.Open(kRoot, d->ino, vfs::kOpenReadOnly | vfs::kOpenDirectory);
  REQUIRE_OK(h);
  std::uint64_t cookie = 0;
  int added = 0;
  int batches = 0;
  for (;;) {
    auto batch = fs.ReadDir(*h, cookie, 1 + rng() % 17);
    REQUIRE_OK(batch);
    if (batch->empty()) break;
    for (const vfs::DirEntry& e : *batch) {
      CHECK(e.cookie > cookie);
      cookie = e.cookie;
      listed.insert(e.name);
    }
    // Between the first batches: remove a few random entries, add a few.
    if (++batches > 60) continue;
    for (int k = 0; k < 3 && !present.empty(); ++k) {
      auto it = present.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng() % present.size()));
      REQUIRE_OK(fs.Unlink(kRoot, d->ino, *it));
      removed_during.insert(*it);
      present.erase(it);
    }
    for (int k = 0; k < 2; ++k) {
      const std::string name = "new" + std::to_string(added++);
      Touch(fs, d->ino, name);
      present.insert(name);
    }
  }
  REQUIRE_OK(fs.Release(*h));
  for (const std::string& name : listed) CHECK(listed.count(name) == 1);  // no repeats
  for (const std::string& name : initial) {
    // Every entry that existed throughout was listed exactly once.
    if (!removed_during.contains(name)) CHECK(listed.count(name) == 1);
  }
  for (const std::string& name : listed) {
    CHECK((initial.contains(name) || name == "." || name == ".." || name.rfind("new", 0) == 0));
  }
}

TEST_CASE("xattrs: set, get, list, remove, flags") {
  VfsFixture f;
  auto& fs = f.fs();
  auto r = fs.Create(kRoot, kRootIno, "f", 0666, 0, true, false);
  REQUIRE_OK(r);
  const vfs::Ino ino = r->attr.ino;
  const vfs::Timespec now = f.clock().Tick();
  REQUIRE_OK(fs.SetXattr(kAlice, ino, "user.color", "blue", 0));
  CHECK(fs.GetAttr(ino)->ctime == now);
  CHECK(*fs.GetXattr(kAlice, ino, "user.color") == "blue");
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "user.color", "red", vfs::kXattrCreate), EEXIST);
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "user.size", "1", vfs::kXattrReplace), ENODATA);
  REQUIRE_OK(fs.SetXattr(kAlice, ino, "user.color", "red", vfs::kXattrReplace));
  REQUIRE_OK(fs.SetXattr(kAlice, ino, "user.empty", "", vfs::kXattrCreate));
  CHECK(fs.GetXattr(kAlice, ino, "user.empty")->empty());
  REQUIRE_OK(fs.SetXattr(kRoot, ino, "trusted.secret", "t", 0));
  REQUIRE_OK(fs.SetXattr(kBob, ino, "security.label", "s", 0));
  CHECK(*fs.ListXattr(kRoot, ino) ==
        std::vector<std::string>{"security.label", "trusted.secret", "user.color", "user.empty"});
  CHECK(*fs.ListXattr(kAlice, ino) ==
        std::vector<std::string>{"security.label", "user.color", "user.empty"});
  CHECK_ERRNO(fs.GetXattr(kAlice, ino, "trusted.secret"), ENODATA);
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "trusted.x", "1", 0), EPERM);
  CHECK_ERRNO(fs.GetXattr(kAlice, ino, "user.missing"), ENODATA);
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "system.posix_acl_access", "x", 0), EOPNOTSUPP);
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "other.x", "x", 0), EOPNOTSUPP);
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "user.", "x", 0), EINVAL);
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "", "x", 0), ERANGE);
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "user." + std::string(251, 'n'), "x", 0), ERANGE);
  REQUIRE_OK(fs.SetXattr(kAlice, ino, "user." + std::string(250, 'n'), std::string(65536, 'v'), 0));
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "user.big", std::string(65537, 'v'), 0), E2BIG);
  CHECK_ERRNO(fs.SetXattr(kAlice, ino, "user.x", "v", 4), EINVAL);
  REQUIRE_OK(fs.RemoveXattr(kAlice, ino, "user.color"));
  CHECK_ERRNO(fs.RemoveXattr(kAlice, ino, "user.color"), ENODATA);
  CHECK_ERRNO(fs.GetXattr(kAlice, 999999, "user.color"), ESTALE);
  // Xattrs survive a reopen from the bucket and go away with their file.
  f.Reopen(true);
  CHECK(*f.fs().GetXattr(kRoot, ino, "trusted.secret") == "t");
  REQUIRE_OK(f.fs().Unlink(kRoot, kRootIno, "f"));
  REQUIRE(f.volume().SyncAll().ok());
  bool any = false;
  REQUIRE(f.volume()
              .Scan(index::XattrPrefix(ino), {},
                    [&](std::string_view, std::string_view) {
                      any = true;
                      return false;
                    })
              .ok());
  CHECK_FALSE(any);
}

TEST_CASE("xattr permissions: user.* follows the mode bits and lives on files and directories") {
  VfsFixture f;
  auto& fs = f.fs();
  REQUIRE_OK(fs.SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(01777)));
  auto file = fs.Create(kAlice, kRootIno, "f", 0644, 0, true, false);
  REQUIRE_OK(file);
  REQUIRE_OK(fs.SetXattr(kAlice, file->attr.ino, "user.a", "1", 0));
  CHECK_ERRNO(fs.SetXattr(kBob, file->attr.ino, "user.a", "2", 0), EACCES);
  CHECK(*fs.GetXattr(kBob, file->attr.ino, "user.a") == "1");
  REQUIRE_OK(fs.SetAttr(kAlice, file->attr.ino, vfs::SetAttrRequest::Chmod(0600)));
  CHECK_ERRNO(fs.GetXattr(kBob, file->attr.ino, "user.a"), EACCES);
  REQUIRE_OK(fs.GetXattr(kRoot, file->attr.ino, "user.a"));
  auto link = fs.Symlink(kAlice, kRootIno, "l", "f");
  REQUIRE_OK(link);
  CHECK_ERRNO(fs.SetXattr(kAlice, link->ino, "user.a", "1", 0), EPERM);
  CHECK_ERRNO(fs.GetXattr(kAlice, link->ino, "user.a"), ENODATA);
  REQUIRE_OK(fs.SetXattr(kAlice, link->ino, "security.a", "1", 0));
  // A sticky directory's user.* xattrs are its owner's, whatever the mode says.
  CHECK_ERRNO(fs.SetXattr(kAlice, kRootIno, "user.a", "1", 0), EPERM);
  REQUIRE_OK(fs.SetXattr(kRoot, kRootIno, "user.a", "1", 0));
}

TEST_CASE("statfs counts inodes and bytes in the same transactions") {
  VfsFixture f;
  auto& fs = f.fs();
  auto st0 = fs.StatFilesystem();
  REQUIRE_OK(st0);
  CHECK(st0->inodes == 1);
  CHECK(st0->used_bytes == 0);
  CHECK(st0->block_size == 4096);
  CHECK(st0->name_max == 255);
  CHECK(st0->total_blocks == (1ULL << 50) / 4096);
  CHECK(st0->free_files == st0->total_files - 1);
  auto a = fs.Create(kRoot, kRootIno, "a", 0644, vfs::kOpenReadWrite, true);
  REQUIRE_OK(a);
  REQUIRE_OK(fs.Write(a->handle, 0, std::string(10000, 'a')));
  REQUIRE_OK(fs.Mkdir(kRoot, kRootIno, "d", 0755));
  REQUIRE_OK(fs.Symlink(kRoot, kRootIno, "l", "a"));
  auto st1 = fs.StatFilesystem();
  CHECK(st1->inodes == 4);
  CHECK(st1->used_bytes == 10000);
  CHECK(st1->free_blocks == st1->total_blocks - 3);
  REQUIRE_OK(fs.SetAttr(kRoot, a->attr.ino, vfs::SetAttrRequest::Truncate(100)));
  CHECK(fs.StatFilesystem()->used_bytes == 100);
  REQUIRE_OK(fs.Release(a->handle));
  REQUIRE_OK(fs.Unlink(kRoot, kRootIno, "a"));
  REQUIRE_OK(fs.Rmdir(kRoot, kRootIno, "d"));
  f.Reopen(true);
  auto st2 = f.fs().StatFilesystem();
  CHECK(st2->inodes == 2);
  CHECK(st2->used_bytes == 0);
}
