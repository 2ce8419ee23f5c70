// File data: handles, read, write, sparse files, fallocate, SEEK_DATA/SEEK_HOLE, fsync,
// files unlinked while open, read-only volumes.
#include "vfs_test_support.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/vfs/orphans.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;
using vfs::SetAttrRequest;

namespace {

constexpr std::uint64_t kExtent = 32 * 1024;

struct OpenFile {
  vfs::Ino ino = 0;
  vfs::HandleId handle = 0;
};

OpenFile CreateOpen(vfs::Filesystem& fs, const std::string& name, const vfs::Credentials& c = kRoot,
                    std::uint32_t mode = 0644) {
  auto r = fs.Create(c, kRootIno, name, mode, vfs::kOpenReadWrite, true);
  INFO(r.status());
  REQUIRE(r.ok());
  return {r->attr.ino, r->handle};
}

std::string Pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + static_cast<char>(i % 23));
  return s;
}

// Extent-map entries the index holds for `ino` (after a sync, the stored extents).
std::size_t StoredExtents(engine::Volume& v, vfs::Ino ino) {
  std::size_t n = 0;
  REQUIRE(v.Scan(index::ExtentPrefix(ino), {}, [&](std::string_view, std::string_view) {
             ++n;
             return true;
           }).ok());
  return n;
}

}  // namespace

TEST_CASE("write and read back, across extents, with short reads at the end") {
  VfsFixture f;
  auto& fs = f.fs();
  OpenFile file = CreateOpen(fs, "f");
  const std::string data = Pattern(100000, 'a');
  auto n = fs.Write(file.handle, 5, data);
  REQUIRE_OK(n);
  CHECK(*n == data.size());
  CHECK(fs.GetAttr(file.ino)->size == 100005);
  CHECK(*fs.Read(file.handle, 0, 200000) == std::string(5, '\0') + data);
  CHECK(*fs.Read(file.handle, 99990, 100) == data.substr(99985));
  CHECK(fs.Read(file.handle, 100005, 10)->empty());
  CHECK(fs.Read(file.handle, 1 << 30, 10)->empty());
  CHECK(fs.Read(file.handle, 0, 0)->empty());
  // Overwrite in the middle.
  REQUIRE_OK(fs.Write(file.handle, 32760, "XXXXXXXXXXXXXXXX"));
  CHECK(*fs.Read(file.handle, 32758, 20) ==
        data.substr(32753, 2) + "XXXXXXXXXXXXXXXX" + data.substr(32771, 2));
  CHECK(fs.StatFilesystem()->used_bytes == 100005);
  REQUIRE_OK(fs.Release(file.handle));
  // Everything round-trips through the bucket.
  f.Reopen(true);
  auto back = f.fs().ReadInode(kRoot, file.ino, 0, 200000);
  REQUIRE_OK(back);
  CHECK(back->size() == 100005);
  CHECK(back->substr(32760, 16) == "XXXXXXXXXXXXXXXX");
}

TEST_CASE("sparse files: holes read as zeros and cost nothing in the bucket") {
  VfsFixture f;
  auto& fs = f.fs();
  OpenFile file = CreateOpen(fs, "sparse");
  REQUIRE(f.volume().SyncAll().ok());
  const std::uint64_t before = f.store()->BytesStored();
  REQUIRE_OK(fs.Write(file.handle, 1ULL << 40, "end"));  // a 1 TiB file
  REQUIRE_OK(fs.Fsync(file.handle, false));
  CHECK(fs.GetAttr(file.ino)->size == (1ULL << 40) + 3);
  CHECK(f.store()->BytesStored() - before < 64 * 1024);
  CHECK(*fs.Read(file.handle, (1ULL << 40) - 5, 8) == std::string(5, '\0') + "end");
  CHECK(*fs.Read(file.handle, 123456789, 1000) == std::string(1000, '\0'));
  CHECK(StoredExtents(f.volume(), file.ino) == 1);
  // Zeros written over data become a hole again.
  REQUIRE_OK(fs.Write(file.handle, 1ULL << 40, std::string(3, '\0')));
  REQUIRE_OK(fs.Fsync(file.handle, true));
  CHECK(StoredExtents(f.volume(), file.ino) == 0);
  REQUIRE_OK(fs.Release(file.handle));
}

TEST_CASE("handles: access modes, O_APPEND, O_TRUNC, EBADF, directories and symlinks") {
  VfsFixture f;
  auto& fs = f.fs();
  OpenFile file = CreateOpen(fs, "f");
  REQUIRE_OK(fs.Write(file.handle, 0, "hello"));
  auto ro = fs.Open(kRoot, file.ino, vfs::kOpenReadOnly);
  REQUIRE_OK(ro);
  CHECK_ERRNO(fs.Write(*ro, 0, "x"), EBADF);
  CHECK_ERRNO(fs.Fallocate(*ro, 0, 0, 10), EBADF);
  auto wo = fs.Open(kRoot, file.ino, vfs::kOpenWriteOnly | vfs::kOpenAppend);
  REQUIRE_OK(wo);
  CHECK_ERRNO(fs.Read(*wo, 0, 5), EBADF);
  REQUIRE_OK(fs.Write(*wo, 0, " world"));  // appends whatever the offset
  CHECK(*fs.Read(*ro, 0, 100) == "hello world");
  const vfs::Timespec now = f.clock().Tick();
  auto tr = fs.Open(kRoot, file.ino, vfs::kOpenWriteOnly | vfs::kOpenTruncate);
  REQUIRE_OK(tr);
  auto attr = fs.GetAttr(file.ino);
  CHECK(attr->size == 0);
  CHECK(attr->mtime == now);
  CHECK_ERRNO(fs.Open(kRoot, file.ino, 3), EINVAL);
  CHECK_ERRNO(fs.Open(kRoot, kRootIno, vfs::kOpenWriteOnly), EISDIR);
  CHECK_ERRNO(fs.Open(kRoot, 4242, vfs::kOpenReadOnly), ESTALE);
  auto dir = fs.Open(kRoot, kRootIno, vfs::kOpenReadOnly | vfs::kOpenDirectory);
  REQUIRE_OK(dir);
  CHECK_ERRNO(fs.Read(*dir, 0, 1), EISDIR);
  CHECK_ERRNO(fs.ReadDir(*ro, 0, 10), ENOTDIR);
  for (vfs::HandleId h : {*ro, *wo, *tr, *dir, file.handle}) REQUIRE_OK(fs.Release(h));
  CHECK_ERRNO(fs.Release(*ro), EBADF);
  CHECK_ERRNO(fs.Read(*ro, 0, 1), EBADF);
  CHECK_ERRNO(fs.Fsync(*ro, false), EBADF);
  // Permission is checked at open, for what the flags ask.
  REQUIRE_OK(fs.SetAttr(kRoot, file.ino, SetAttrRequest::Chmod(0604)));
  REQUIRE_OK(fs.Open(kAlice, file.ino, vfs::kOpenReadOnly));
  CHECK_ERRNO(fs.Open(kAlice, file.ino, vfs::kOpenReadWrite), EACCES);
  CHECK_ERRNO(fs.Open(kAlice, file.ino, vfs::kOpenReadOnly | vfs::kOpenTruncate), EACCES);
  CHECK_ERRNO(fs.ReadInode(kCarol, kRootIno, 0, 1), EISDIR);
  CHECK_ERRNO(fs.WriteInode(kCarol, file.ino, 0, "x"), EACCES);
}

TEST_CASE("a file unlinked while open stays usable until its last release") {
  VfsFixture f;
  auto& fs = f.fs();
  OpenFile file = CreateOpen(fs, "f");
  REQUIRE_OK(fs.Write(file.handle, 0, Pattern(70000, 'q')));
  auto second = fs.Open(kRoot, file.ino, vfs::kOpenReadOnly);
  REQUIRE_OK(second);
  REQUIRE_OK(fs.Unlink(kRoot, kRootIno, "f"));
  CHECK_ERRNO(fs.Lookup(kRoot, kRootIno, "f"), ENOENT);
  CHECK(fs.GetAttr(file.ino)->nlink == 0);
  REQUIRE_OK(fs.Write(file.handle, 70000, "tail"));
  CHECK(*fs.Read(*second, 69998, 10) == Pattern(70000, 'q').substr(69998) + "tail");
  CHECK(fs.StatFilesystem()->inodes == 2);
  CHECK_ERRNO(fs.Link(kRoot, file.ino, kRootIno, "back"), ENOENT);
  REQUIRE_OK(fs.Release(file.handle));
  REQUIRE_OK(fs.GetAttr(file.ino));  // one handle left
  REQUIRE_OK(fs.Release(*second));
  CHECK_ERRNO(fs.GetAttr(file.ino), ESTALE);
  auto st = fs.StatFilesystem();
  CHECK(st->inodes == 1);
  CHECK(st->used_bytes == 0);
  REQUIRE(f.volume().SyncAll().ok());
  CHECK(StoredExtents(f.volume(), file.ino) == 0);
}

TEST_CASE("a file left open and unlinked when the process dies is reclaimed at the next open") {
  VfsFixture f;
  OpenFile file = CreateOpen(f.fs(), "f");
  REQUIRE_OK(f.fs().Write(file.handle, 0, Pattern(100000, 'z')));
  REQUIRE_OK(f.fs().Unlink(kRoot, kRootIno, "f"));
  REQUIRE(f.volume().SyncAll().ok());
  CHECK(StoredExtents(f.volume(), file.ino) == 4);
  f.Reopen(true);  // handles dropped without Release, index rebuilt from the bucket
  CHECK_ERRNO(f.fs().GetAttr(file.ino), ESTALE);
  CHECK(f.fs().StatFilesystem()->inodes == 1);
  CHECK(f.fs().StatFilesystem()->used_bytes == 0);
  REQUIRE(f.volume().SyncAll().ok());
  CHECK(StoredExtents(f.volume(), file.ino) == 0);
  bool orphan_keys = false;
  REQUIRE(f.volume()
              .Scan(index::MetaKey(vfs::kOrphanMetaPrefix), {},
                    [&](std::string_view, std::string_view) {
                      orphan_keys = true;
                      return false;
                    })
              .ok());
  CHECK_FALSE(orphan_keys);
}

TEST_CASE("fallocate: allocate, punch hole, zero range") {
  VfsFixture f;
  auto& fs = f.fs();
  OpenFile file = CreateOpen(fs, "f");
  std::string model = Pattern(200000, 'k');
  REQUIRE_OK(fs.Write(file.handle, 0, model));
  REQUIRE_OK(
      fs.Fallocate(file.handle, vfs::kFallocPunchHole | vfs::kFallocKeepSize, 40000, 100000));
  std::fill(model.begin() + 40000, model.begin() + 140000, '\0');
  CHECK(fs.GetAttr(file.ino)->size == 200000);
  CHECK(*fs.Read(file.handle, 0, 300000) == model);
  REQUIRE_OK(fs.Fsync(file.handle, false));
  CHECK(StoredExtents(f.volume(), file.ino) == 7 - 2);  // 65536..131071 released
  REQUIRE_OK(fs.Fallocate(file.handle, vfs::kFallocZeroRange, 190000, 20000));
  std::fill(model.begin() + 190000, model.end(), '\0');
  model.resize(210000, '\0');
  CHECK(*fs.Read(file.handle, 0, 300000) == model);
  REQUIRE_OK(fs.Fallocate(file.handle, vfs::kFallocZeroRange | vfs::kFallocKeepSize, 0, 500000));
  CHECK(fs.GetAttr(file.ino)->size == 210000);
  const vfs::Timespec now = f.clock().Tick();
  REQUIRE_OK(fs.Fallocate(file.handle, 0, 0, 300000));
  auto attr = fs.GetAttr(file.ino);
  CHECK(attr->size == 300000);
  CHECK(attr->mtime == now);
  CHECK(*fs.Read(file.handle, 0, 300000) == std::string(300000, '\0'));
  CHECK_ERRNO(fs.Fallocate(file.handle, vfs::kFallocPunchHole, 0, 10), EOPNOTSUPP);
  CHECK_ERRNO(fs.Fallocate(file.handle, 0x40, 0, 10), EOPNOTSUPP);
  CHECK_ERRNO(fs.Fallocate(file.handle, 0, 0, 0), EINVAL);
  CHECK_ERRNO(fs.Fallocate(file.handle, 0, vfs::kMaxFileSize, 1), EFBIG);
  auto fifo = fs.Mknod(kRoot, kRootIno, "p", index::kModeFifo | 0666, 0);
  REQUIRE_OK(fifo);
  auto fh = fs.Open(kRoot, fifo->ino, vfs::kOpenReadWrite);
  REQUIRE_OK(fh);
  CHECK_ERRNO(fs.Fallocate(*fh, 0, 0, 10), ENODEV);
}

TEST_CASE("SEEK_DATA and SEEK_HOLE see extents") {
  VfsFixture f;
  auto& fs = f.fs();
  OpenFile file = CreateOpen(fs, "f");
  // data in extents 2 and 3 and 6; the file ends inside extent 8 (a hole).
  REQUIRE_OK(fs.Write(file.handle, 2 * kExtent + 100, Pattern(kExtent, 'd')));
  REQUIRE_OK(fs.Write(file.handle, 6 * kExtent, "x"));
  REQUIRE_OK(fs.SetAttr(kRoot, file.ino, SetAttrRequest::Truncate(8 * kExtent + 10)));
  CHECK(*fs.Seek(file.handle, 0, vfs::kSeekData) == 2 * kExtent);
  CHECK(*fs.Seek(file.handle, 2 * kExtent + 7, vfs::kSeekData) == 2 * kExtent + 7);
  CHECK(*fs.Seek(file.handle, 4 * kExtent, vfs::kSeekData) == 6 * kExtent);
  CHECK_ERRNO(fs.Seek(file.handle, 7 * kExtent, vfs::kSeekData), ENXIO);
  CHECK(*fs.Seek(file.handle, 0, vfs::kSeekHole) == 0);
  CHECK(*fs.Seek(file.handle, 2 * kExtent, vfs::kSeekHole) == 4 * kExtent);
  CHECK(*fs.Seek(file.handle, 6 * kExtent + 5, vfs::kSeekHole) == 7 * kExtent);
  CHECK(*fs.Seek(file.handle, 8 * kExtent, vfs::kSeekHole) == 8 * kExtent);
  CHECK_ERRNO(fs.Seek(file.handle, 8 * kExtent + 10, vfs::kSeekHole), ENXIO);
  CHECK_ERRNO(fs.Seek(file.handle, 0, 0), EINVAL);
  // A file that is data to its end: the end is the hole.
  OpenFile full = CreateOpen(fs, "full");
  REQUIRE_OK(fs.Write(full.handle, 0, Pattern(100, 'f')));
  CHECK(*fs.Seek(full.handle, 10, vfs::kSeekHole) == 100);
}

TEST_CASE("SEEK_DATA and SEEK_HOLE merge unflushed changes with the extent map, no flush") {
  VfsFixture f(std::chrono::hours(1));  // nothing is flushed but by Fsync
  auto& fs = f.fs();
  OpenFile file = CreateOpen(fs, "f");
  // Durable: data in extents 1, 2, 3 and 5; the file ends inside extent 9.
  REQUIRE_OK(fs.Write(file.handle, 1 * kExtent, Pattern(3 * kExtent, 'a')));
  REQUIRE_OK(fs.Write(file.handle, 5 * kExtent, Pattern(kExtent, 'b')));
  REQUIRE_OK(fs.SetAttr(kRoot, file.ino, SetAttrRequest::Truncate(9 * kExtent + 10)));
  REQUIRE_OK(fs.Fsync(file.handle, false));
  const std::uint64_t durable_before = f.volume().stats().durable_seq;
  // Buffered: a hole punched in extent 2, data written to extents 0 and 7.
  REQUIRE_OK(fs.Fallocate(file.handle, vfs::kFallocPunchHole | vfs::kFallocKeepSize,
                          2 * kExtent, kExtent));
  REQUIRE_OK(fs.Write(file.handle, 0, "z"));
  REQUIRE_OK(fs.Write(file.handle, 7 * kExtent + 3, "y"));
  CHECK(*fs.Seek(file.handle, 0, vfs::kSeekData) == 0);
  CHECK(*fs.Seek(file.handle, 0, vfs::kSeekHole) == 2 * kExtent);  // 0 and 1 hold data
  CHECK(*fs.Seek(file.handle, 2 * kExtent, vfs::kSeekData) == 3 * kExtent);
  CHECK(*fs.Seek(file.handle, 3 * kExtent, vfs::kSeekHole) == 4 * kExtent);
  CHECK(*fs.Seek(file.handle, 4 * kExtent, vfs::kSeekData) == 5 * kExtent);
  CHECK(*fs.Seek(file.handle, 6 * kExtent, vfs::kSeekData) == 7 * kExtent);
  CHECK(*fs.Seek(file.handle, 7 * kExtent, vfs::kSeekHole) == 8 * kExtent);
  CHECK_ERRNO(fs.Seek(file.handle, 8 * kExtent, vfs::kSeekData), ENXIO);
  // None of that waited for (or caused) an upload.
  CHECK(f.volume().stats().durable_seq == durable_before);
  // After a flush the answers are the same.
  REQUIRE_OK(fs.Fsync(file.handle, false));
  CHECK(*fs.Seek(file.handle, 0, vfs::kSeekHole) == 2 * kExtent);
  CHECK(*fs.Seek(file.handle, 2 * kExtent, vfs::kSeekData) == 3 * kExtent);
  CHECK(*fs.Seek(file.handle, 6 * kExtent, vfs::kSeekData) == 7 * kExtent);
}

TEST_CASE("fsync is honest: after it returns, a reader of the bucket sees the write") {
  VfsFixture f;
  auto& fs = f.fs();
  OpenFile file = CreateOpen(fs, "f");
  REQUIRE_OK(fs.Write(file.handle, 0, "durable"));
  REQUIRE_OK(fs.Fsync(file.handle, false));
  TempDir replica_cache;
  engine::VolumeOptions o = TestOptions(f.store(), replica_cache.path());
  o.mode = engine::OpenMode::kReadOnly;
  auto replica = OpenVolume(std::move(o));
  vfs::FilesystemOptions fo;
  fo.volume = std::shared_ptr<engine::Volume>(std::move(replica));
  auto ro = vfs::Filesystem::Open(fo);
  REQUIRE_OK(ro);
  auto entry = (*ro)->Lookup(kRoot, kRootIno, "f");
  REQUIRE_OK(entry);
  CHECK(*(*ro)->ReadInode(kRoot, entry->ino, 0, 100) == "durable");
  // A read-only volume refuses every change with EROFS.
  CHECK_ERRNO((*ro)->Mkdir(kRoot, kRootIno, "d", 0755), EROFS);
  CHECK_ERRNO((*ro)->WriteInode(kRoot, entry->ino, 0, "x"), EROFS);
  CHECK_ERRNO((*ro)->Unlink(kRoot, kRootIno, "f"), EROFS);
  CHECK_ERRNO((*ro)->Rename(kRoot, kRootIno, "f", kRootIno, "g", 0), EROFS);
  CHECK_ERRNO((*ro)->SetXattr(kRoot, entry->ino, "user.a", "v", 0), EROFS);
  CHECK_ERRNO((*ro)->SetAttr(kRoot, entry->ino, SetAttrRequest::Chmod(0)), EROFS);
  CHECK_ERRNO((*ro)->Open(kRoot, entry->ino, vfs::kOpenWriteOnly), EROFS);
  CHECK_ERRNO((*ro)->Access(kRoot, entry->ino, vfs::kAccessWrite), EROFS);
  REQUIRE_OK((*ro)->Open(kRoot, entry->ino, vfs::kOpenReadOnly));
  REQUIRE_OK(fs.Release(file.handle));
}
