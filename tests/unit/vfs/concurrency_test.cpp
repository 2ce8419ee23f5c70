// Several threads at once: namespace changes, writes to shared and private files; afterwards
// the tree, the data, the link counts and the volume counters must all agree.
#include <atomic>
#include <thread>

#include "vfs_test_support.h"
#include "zerofs/vfs/paths.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;

namespace {

constexpr int kThreads = 8;
constexpr int kFilesPerThread = 60;
constexpr std::uint64_t kSlice = 5000;

// Counts the inodes below `dir` (itself included) and checks directory link counts.
std::uint64_t CountTree(vfs::Filesystem& fs, vfs::Ino dir) {
  auto entries = fs.ReadDirInode(kRoot, dir, 0, 100000);
  REQUIRE(entries.ok());
  std::uint64_t count = 1;
  std::uint32_t subdirs = 0;
  for (const vfs::DirEntry& e : *entries) {
    if (e.name == "." || e.name == "..") continue;
    if (e.type == index::FileType::kDirectory) {
      ++subdirs;
      count += CountTree(fs, e.ino);
    } else {
      ++count;
    }
  }
  CHECK(fs.GetAttr(dir)->nlink == 2 + subdirs);
  return count;
}

}  // namespace

TEST_CASE("concurrent namespace changes and writes keep the filesystem consistent") {
  VfsFixture f;
  auto& fs = f.fs();
  REQUIRE_OK(fs.SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(0777)));
  REQUIRE_OK(vfs::MakeDirs(fs, kRoot, "/shared"));
  auto shared_file = fs.Create(kRoot, kRootIno, "together", 0666, vfs::kOpenReadWrite, true);
  REQUIRE_OK(shared_file);
  const vfs::Ino shared = vfs::ResolvePath(fs, kRoot, "/shared")->ino;

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto fail = [&](const Status& s) {
        if (!s.ok()) failures++;
      };
      const std::string me = "t" + std::to_string(t);
      auto dir = fs.Mkdir(kRoot, kRootIno, me, 0755);
      fail(dir.status());
      if (!dir.ok()) return;
      for (int i = 0; i < kFilesPerThread; ++i) {
        const std::string name = "f" + std::to_string(i);
        auto c = fs.Create(kRoot, dir->ino, name, 0644, vfs::kOpenReadWrite, true);
        fail(c.status());
        if (!c.ok()) continue;
        fail(fs.Write(c->handle, 0, me + "/" + name).status());
        fail(fs.Release(c->handle));
        // Half move to the shared directory under a unique name, a third are removed.
        if (i % 2 == 0) fail(fs.Rename(kRoot, dir->ino, name, shared, me + name, 0));
        if (i % 3 == 0 && i % 2 != 0) fail(fs.Unlink(kRoot, dir->ino, name));
        if (i % 10 == 0) fail(fs.Mkdir(kRoot, dir->ino, "d" + std::to_string(i), 0755).status());
        // Everyone writes its own slice of one shared file.
        const std::string slice(kSlice, static_cast<char>('A' + t));
        const auto slot = static_cast<std::uint64_t>(t * kFilesPerThread + i);
        fail(fs.Write(shared_file->handle, slot * kSlice, slice).status());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(failures == 0);
  REQUIRE_OK(fs.Release(shared_file->handle));

  // Every file has its content, in its directory.
  for (int t = 0; t < kThreads; ++t) {
    const std::string me = "t" + std::to_string(t);
    for (int i = 0; i < kFilesPerThread; ++i) {
      const std::string name = "f" + std::to_string(i);
      const std::string path = i % 2 == 0 ? "/shared/" + me + name : "/" + me + "/" + name;
      auto data = vfs::ReadFile(fs, kRoot, path);
      if (i % 3 == 0 && i % 2 != 0) {
        CHECK_ERRNO(data, ENOENT);
      } else {
        REQUIRE_OK(data);
        CHECK(*data == me + "/" + name);
      }
    }
  }
  auto together = vfs::ReadFile(fs, kRoot, "/together", 1ULL << 30);
  REQUIRE_OK(together);
  REQUIRE(together->size() == kThreads * kFilesPerThread * kSlice);
  for (int t = 0; t < kThreads; ++t) {
    const std::uint64_t begin = static_cast<std::uint64_t>(t) * kFilesPerThread * kSlice;
    CHECK(together->substr(begin, kFilesPerThread * kSlice) ==
          std::string(kFilesPerThread * kSlice, static_cast<char>('A' + t)));
  }
  const std::uint64_t inodes = CountTree(fs, kRootIno);
  auto st = fs.StatFilesystem();
  CHECK(st->inodes == inodes);
  f.Reopen(true);
  CHECK(CountTree(f.fs(), kRootIno) == inodes);
  CHECK(f.fs().StatFilesystem()->inodes == inodes);
}

TEST_CASE("handles, renames, unlinks and reads race on one file without losing it") {
  VfsFixture f;
  auto& fs = f.fs();
  auto created = fs.Create(kRoot, kRootIno, "a", 0644, vfs::kOpenReadWrite, true);
  REQUIRE_OK(created);
  const vfs::Ino ino = created->attr.ino;
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0};
  std::thread writer([&] {
    for (std::uint64_t i = 0; !stop; ++i) {
      if (!fs.Write(created->handle, (i % 64) * 1000, std::string(1000, 'w')).ok()) unexpected++;
      auto r = fs.Read(created->handle, 0, 4096);
      if (!r.ok()) unexpected++;
    }
  });
  std::thread renamer([&] {
    for (int i = 0; i < 300; ++i) {
      const Status s =
          fs.Rename(kRoot, kRootIno, i % 2 == 0 ? "a" : "b", kRootIno, i % 2 == 0 ? "b" : "a", 0);
      if (!s.ok()) unexpected++;
    }
  });
  std::thread opener([&] {
    for (int i = 0; i < 300; ++i) {
      auto h = fs.Open(kRoot, ino, vfs::kOpenReadOnly);
      if (!h.ok() || !fs.Read(*h, 0, 10).ok() || !fs.Release(*h).ok()) unexpected++;
    }
  });
  std::thread lister([&] {
    for (int i = 0; i < 300; ++i) {
      auto l = fs.ReadDirInode(kRoot, kRootIno, 0, 10);
      if (!l.ok() || l->size() != 3) unexpected++;
    }
  });
  renamer.join();
  opener.join();
  lister.join();
  stop = true;
  writer.join();
  CHECK(unexpected == 0);
  // Unlinked while the writer's handle is open, then released: reclaimed.
  REQUIRE_OK(fs.Unlink(kRoot, kRootIno, "a"));
  REQUIRE_OK(fs.GetAttr(ino));
  REQUIRE_OK(fs.Release(created->handle));
  CHECK_ERRNO(fs.GetAttr(ino), ESTALE);
  CHECK(fs.StatFilesystem()->inodes == 1);
}
