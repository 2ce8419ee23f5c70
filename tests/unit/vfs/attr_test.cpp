// setattr (chmod, chown, truncate, utimensat), the setuid/setgid rules and atime.
#include "vfs_test_support.h"
#include "zerofs/index/records.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;
using vfs::SetAttrRequest;
using vfs::TimeUpdate;

namespace {

constexpr std::uint32_t kReg = index::kModeRegular;

vfs::Attr NewFile(vfs::Filesystem& fs, const vfs::Credentials& c, const std::string& name,
                  std::uint32_t mode, const std::string& data = "") {
  REQUIRE(fs.SetAttr(kRoot, kRootIno, SetAttrRequest::Chmod(0777)).ok());
  auto r = fs.Create(c, kRootIno, name, mode, vfs::kOpenReadWrite, true);
  INFO(r.status());
  REQUIRE(r.ok());
  if (!data.empty()) REQUIRE(fs.Write(r->handle, 0, data).ok());
  REQUIRE(fs.Release(r->handle).ok());
  return *fs.GetAttr(r->attr.ino);
}

}  // namespace

TEST_CASE("chmod is the owner's or root's, setgid needs the group") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr file = NewFile(fs, kAlice, "f", 0644);
  CHECK_ERRNO(fs.SetAttr(kBob, file.ino, SetAttrRequest::Chmod(0777)), EPERM);
  const vfs::Timespec now = f.clock().Tick();
  auto a = fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chmod(0600));
  REQUIRE_OK(a);
  CHECK(a->mode == (kReg | 0600));
  CHECK(a->ctime == now);
  CHECK(a->mtime == file.mtime);
  // Alice is in the file's group: setgid stays. Carol's file of group 100, which she is not
  // in, loses it; root keeps it.
  CHECK(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chmod(02755))->mode == (kReg | 02755));
  const vfs::Attr carols = NewFile(fs, kCarol, "c", 0644);
  REQUIRE_OK(fs.SetAttr(kRoot, carols.ino, SetAttrRequest::Chown(std::nullopt, 100)));
  CHECK(fs.SetAttr(kCarol, carols.ino, SetAttrRequest::Chmod(02755))->mode == (kReg | 0755));
  CHECK(fs.SetAttr(kRoot, carols.ino, SetAttrRequest::Chmod(06755))->mode == (kReg | 06755));
  CHECK_ERRNO(fs.SetAttr(kAlice, 424242, SetAttrRequest::Chmod(0)), ESTALE);
}

TEST_CASE("chown: root changes owners, owners change the group to one of theirs") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr file = NewFile(fs, kAlice, "f", 0644);
  CHECK_ERRNO(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chown(1001, std::nullopt)), EPERM);
  REQUIRE_OK(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chown(1000, std::nullopt)));
  REQUIRE_OK(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chown(std::nullopt, 100)));
  CHECK_ERRNO(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chown(std::nullopt, 1001)), EPERM);
  CHECK_ERRNO(fs.SetAttr(kBob, file.ino, SetAttrRequest::Chown(std::nullopt, 100)), EPERM);
  const vfs::Timespec now = f.clock().Tick();
  auto a = fs.SetAttr(kRoot, file.ino, SetAttrRequest::Chown(1001, 1001));
  REQUIRE_OK(a);
  CHECK(a->uid == 1001);
  CHECK(a->gid == 1001);
  CHECK(a->ctime == now);
}

TEST_CASE("chown clears setuid, and setgid on group-executable files, even by root") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr prog = NewFile(fs, kRoot, "prog", 06755);
  CHECK(fs.SetAttr(kRoot, prog.ino, SetAttrRequest::Chown(0, 0))->mode == (kReg | 0755));
  const vfs::Attr locky = NewFile(fs, kRoot, "locky", 02644);  // setgid without group-x
  CHECK(fs.SetAttr(kRoot, locky.ino, SetAttrRequest::Chown(1000, std::nullopt))->mode ==
        (kReg | 02644));
  // A mode set in the same call wins.
  SetAttrRequest both = SetAttrRequest::Chmod(04755);
  both.uid = 1000;
  CHECK(fs.SetAttr(kRoot, prog.ino, both)->mode == (kReg | 04755));
}

TEST_CASE("writes and truncation by non-root clear setuid/setgid, root's do not") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr prog = NewFile(fs, kRoot, "prog", 06777);
  REQUIRE_OK(fs.WriteInode(kRoot, prog.ino, 0, "root writes"));
  CHECK(fs.GetAttr(prog.ino)->mode == (kReg | 06777));
  REQUIRE_OK(fs.WriteInode(kAlice, prog.ino, 0, "alice writes"));
  CHECK(fs.GetAttr(prog.ino)->mode == (kReg | 0777));
  const vfs::Attr locky = NewFile(fs, kRoot, "locky", 02666);
  REQUIRE_OK(fs.WriteInode(kAlice, locky.ino, 0, "x"));
  CHECK(fs.GetAttr(locky.ino)->mode == (kReg | 02666));
  REQUIRE_OK(fs.SetAttr(kRoot, prog.ino, SetAttrRequest::Chmod(04777)));
  REQUIRE_OK(fs.SetAttr(kBob, prog.ino, SetAttrRequest::Truncate(3)));
  CHECK(fs.GetAttr(prog.ino)->mode == (kReg | 0777));
}

TEST_CASE("truncate: write permission, zeros when growing, times only when the size changes") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr file = NewFile(fs, kAlice, "f", 0644, "0123456789");
  CHECK_ERRNO(fs.SetAttr(kBob, file.ino, SetAttrRequest::Truncate(0)), EACCES);
  CHECK_ERRNO(fs.SetAttr(kRoot, kRootIno, SetAttrRequest::Truncate(0)), EISDIR);
  CHECK_ERRNO(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Truncate(vfs::kMaxFileSize + 1)), EFBIG);
  const vfs::Timespec now = f.clock().Tick();
  auto shrunk = fs.SetAttr(kAlice, file.ino, SetAttrRequest::Truncate(4));
  REQUIRE_OK(shrunk);
  CHECK(shrunk->size == 4);
  CHECK(shrunk->mtime == now);
  CHECK(shrunk->ctime == now);
  auto grown = fs.SetAttr(kAlice, file.ino, SetAttrRequest::Truncate(70000));
  REQUIRE_OK(grown);
  auto data = fs.ReadInode(kAlice, file.ino, 0, 100000);
  REQUIRE_OK(data);
  CHECK(*data == "0123" + std::string(69996, '\0'));
  f.clock().Tick();
  auto same = fs.SetAttr(kAlice, file.ino, SetAttrRequest::Truncate(70000));
  CHECK(same->mtime == now);
  // ftruncate through a handle open for writing: allowed without write permission bits,
  // and it stamps the times even at the same size.
  REQUIRE_OK(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chmod(0444)));
  auto h = fs.Create(kAlice, kRootIno, "g", 0444, vfs::kOpenWriteOnly, true);
  REQUIRE_OK(h);
  const vfs::Timespec later = f.clock().Tick();
  auto ft = fs.SetAttr(kAlice, h->attr.ino, SetAttrRequest::Truncate(0, h->handle));
  REQUIRE_OK(ft);
  CHECK(ft->mtime == later);
  auto ro = fs.Open(kAlice, file.ino, vfs::kOpenReadOnly);
  REQUIRE_OK(ro);
  CHECK_ERRNO(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Truncate(0, *ro)), EINVAL);
  CHECK_ERRNO(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Truncate(0, 999)), EBADF);
  REQUIRE_OK(fs.Release(*ro));
  REQUIRE_OK(fs.Release(h->handle));
}

TEST_CASE("utimensat rules: explicit times are the owner's, 'now' needs write access") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr file = NewFile(fs, kAlice, "f", 0666);
  const vfs::Timespec when{1234567890, 987654321};
  const vfs::Timespec now = f.clock().Tick();
  auto set =
      fs.SetAttr(kAlice, file.ino, SetAttrRequest::Times(TimeUpdate::At(when), TimeUpdate::Now()));
  REQUIRE_OK(set);
  CHECK(set->atime == when);
  CHECK(set->mtime == now);
  CHECK(set->ctime == now);
  CHECK_ERRNO(
      fs.SetAttr(kBob, file.ino, SetAttrRequest::Times(TimeUpdate::At(when), TimeUpdate::Omit())),
      EPERM);
  CHECK_ERRNO(
      fs.SetAttr(kBob, file.ino, SetAttrRequest::Times(TimeUpdate::Now(), TimeUpdate::Omit())),
      EPERM);
  REQUIRE_OK(
      fs.SetAttr(kBob, file.ino, SetAttrRequest::Times(TimeUpdate::Now(), TimeUpdate::Now())));
  REQUIRE_OK(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chmod(0644)));
  CHECK_ERRNO(
      fs.SetAttr(kBob, file.ino, SetAttrRequest::Times(TimeUpdate::Now(), TimeUpdate::Now())),
      EACCES);
  CHECK_ERRNO(
      fs.SetAttr(kAlice, file.ino,
                 SetAttrRequest::Times(TimeUpdate::At({1, 1000000000}), TimeUpdate::Omit())),
      EINVAL);
  // Both omitted: nothing changes, nothing is checked.
  const vfs::Timespec ctime = fs.GetAttr(file.ino)->ctime;
  f.clock().Tick();
  REQUIRE_OK(
      fs.SetAttr(kBob, file.ino, SetAttrRequest::Times(TimeUpdate::Omit(), TimeUpdate::Omit())));
  CHECK(fs.GetAttr(file.ino)->ctime == ctime);
  // Negative seconds (before 1970) are kept.
  REQUIRE_OK(fs.SetAttr(kAlice, file.ino,
                        SetAttrRequest::Times(TimeUpdate::At({-5, 7}), TimeUpdate::Omit())));
  CHECK(fs.GetAttr(file.ino)->atime == vfs::Timespec{-5, 7});
}

TEST_CASE("writes stamp mtime and ctime, relatime updates atime once after a change") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr file = NewFile(fs, kAlice, "f", 0644);
  const vfs::Timespec w = f.clock().Tick();
  REQUIRE_OK(fs.WriteInode(kAlice, file.ino, 0, "abc"));
  auto after_write = fs.GetAttr(file.ino);
  CHECK(after_write->mtime == w);
  CHECK(after_write->ctime == w);
  CHECK(after_write->atime == file.atime);
  // An empty write changes nothing.
  f.clock().Tick();
  REQUIRE_OK(fs.WriteInode(kAlice, file.ino, 1, ""));
  CHECK(fs.GetAttr(file.ino)->mtime == w);
  const vfs::Timespec r1 = f.clock().Tick();
  REQUIRE_OK(fs.ReadInode(kAlice, file.ino, 0, 10));
  CHECK(fs.GetAttr(file.ino)->atime == r1);
  f.clock().Tick();
  REQUIRE_OK(fs.ReadInode(kAlice, file.ino, 0, 10));
  CHECK(fs.GetAttr(file.ino)->atime == r1);  // atime is newer than mtime and ctime
  f.clock().Set(r1.sec + 86400, 0);
  REQUIRE_OK(fs.ReadInode(kAlice, file.ino, 0, 10));
  CHECK(fs.GetAttr(file.ino)->atime == vfs::Timespec{r1.sec + 86400, 0});  // once a day
  // readdir and readlink count as reads of the directory and the link.
  const vfs::Timespec r2 = f.clock().Tick();
  REQUIRE_OK(fs.ReadDirInode(kAlice, kRootIno, 0, 10));
  CHECK(fs.GetAttr(kRootIno)->atime == r2);
}

TEST_CASE("noatime and strictatime") {
  VfsFixture f;
  const vfs::Attr file = NewFile(f.fs(), kAlice, "f", 0644, "x");
  f.Reopen(false, vfs::AtimeMode::kNoatime);
  f.clock().Tick();
  REQUIRE_OK(f.fs().ReadInode(kAlice, file.ino, 0, 1));
  CHECK(f.fs().GetAttr(file.ino)->atime == file.atime);
  f.Reopen(false, vfs::AtimeMode::kStrictatime);
  const vfs::Timespec a = f.clock().Tick();
  REQUIRE_OK(f.fs().ReadInode(kAlice, file.ino, 0, 1));
  const vfs::Timespec b = f.clock().Tick();
  REQUIRE_OK(f.fs().ReadInode(kAlice, file.ino, 0, 1));
  CHECK(a != b);
  CHECK(f.fs().GetAttr(file.ino)->atime == b);
}

TEST_CASE("access checks the owner, group or other bits, whichever class the caller is in") {
  VfsFixture f;
  auto& fs = f.fs();
  const vfs::Attr file = NewFile(fs, kAlice, "f", 0640);
  REQUIRE_OK(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chown(std::nullopt, 100)));
  REQUIRE_OK(fs.Access(kAlice, file.ino, vfs::kAccessRead | vfs::kAccessWrite));
  CHECK_ERRNO(fs.Access(kAlice, file.ino, vfs::kAccessExecute), EACCES);
  REQUIRE_OK(fs.Access(kBob, file.ino, vfs::kAccessRead));  // group 100
  CHECK_ERRNO(fs.Access(kBob, file.ino, vfs::kAccessWrite), EACCES);
  CHECK_ERRNO(fs.Access(kCarol, file.ino, vfs::kAccessRead), EACCES);
  CHECK_ERRNO(fs.Access(kCarol, file.ino, 8), EINVAL);
  // The owner class decides alone, even if "other" would allow more.
  REQUIRE_OK(fs.SetAttr(kAlice, file.ino, SetAttrRequest::Chmod(0007)));
  CHECK_ERRNO(fs.Access(kAlice, file.ino, vfs::kAccessRead), EACCES);
  REQUIRE_OK(fs.Access(kCarol, file.ino, vfs::kAccessRead));
}
