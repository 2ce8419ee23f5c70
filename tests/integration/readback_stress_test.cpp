// Many small files written at once, the way a source tree is copied: several threads create
// files of 100 B .. 100 KiB in pieces, while segments are cut every few milliseconds, the
// memory cache is too small to hold the data, and the collector compacts and deletes
// segments in the background (other files are deleted to give it work). Every file must
// read back exactly right away, after the others are done, after a clean reopen, after a
// reopen from the bucket alone, and after a crash. READBACK_NO_GC=1 turns the collector off
// (to tell its part in a failure from the rest).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "../unit/vfs/vfs_test_support.h"
#include "zerofs/objstore/fault_injecting_store.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;

namespace {

constexpr int kThreads = 4;
constexpr int kFilesPerThread = 300;

engine::VolumeOptions StressOptions(std::shared_ptr<objstore::ObjectStore> store,
                                    const std::filesystem::path& cache_dir) {
  engine::VolumeOptions o = TestOptions(std::move(store), cache_dir);
  o.memory_cache_bytes = 1 << 20;  // far less than the data: reads go to disk and bucket
  o.disk_cache_bytes = 64 << 20;
  o.segment_target_bytes = 256 << 10;
  o.flush_interval = std::chrono::milliseconds(3);
  o.gc.background = std::getenv("READBACK_NO_GC") == nullptr;
  o.gc.interval = std::chrono::milliseconds(20);
  o.gc.compact_below_live_fraction = 0.9;
  o.gc.small_segment_bytes = 1 << 20;
  o.gc.deletion_grace = std::chrono::milliseconds(0);
  o.snapshot_every_segments = 32;  // so that compacted segments leave the journal and go
  return o;
}

// The content of file `n`: its number in every 8 bytes, so that a mix-up shows whose bytes
// were read, plus random bytes.
std::string Content(std::mt19937_64& rng, std::uint64_t n) {
  std::uniform_int_distribution<std::size_t> size(100, 100 * 1024);
  std::string s = RandomBytes(rng, size(rng));
  for (std::size_t i = 0; i + 8 <= s.size(); i += 64) std::memcpy(s.data() + i, &n, 8);
  return s;
}

class Harness {
 public:
  explicit Harness(std::shared_ptr<objstore::ObjectStore> store) : store_(std::move(store)) {
    log::SetLevel(log::Level::kWarn);
    caches_.push_back(std::make_unique<TempDir>());
    Open();
  }
  ~Harness() { Close(); }

  void Open() {
    auto volume = engine::Volume::Open(StressOptions(store_, caches_.back()->path()));
    INFO(volume.status().ToString());
    REQUIRE(volume.ok());
    volume_ = std::shared_ptr<engine::Volume>(std::move(*volume));
    vfs::FilesystemOptions options;
    options.volume = volume_;
    auto fs = vfs::Filesystem::Open(std::move(options));
    INFO(fs.status().ToString());
    REQUIRE(fs.ok());
    fs_ = std::move(*fs);
  }
  void Close() {
    fs_.reset();
    if (volume_) {
      REQUIRE(volume_->SyncAll().ok());
      REQUIRE(volume_->Close().ok());
      volume_.reset();
    }
  }
  // As a killed process leaves things: the store refuses every call from now on, the volume
  // is dropped without flushing; then the store serves again.
  void Crash(objstore::FaultInjectingStore& faulty) {
    faulty.Crash();
    fs_.reset();
    if (volume_) (void)volume_->Close();
    volume_.reset();
    faulty.Restart();
  }
  void NewCacheDir() { caches_.push_back(std::make_unique<TempDir>()); }
  vfs::Filesystem& fs() { return *fs_; }
  // What the collector did so far in this opening, so that a run shows it was exercised.
  void PrintGc(const char* when) {
    const engine::VolumeStats s = volume_->stats();
    std::printf("%s: %llu gc rounds, %llu bytes rewritten, %llu segments deleted\n", when,
                static_cast<unsigned long long>(s.gc_rounds),
                static_cast<unsigned long long>(s.gc_bytes_rewritten),
                static_cast<unsigned long long>(s.gc_segments_deleted));
    std::fflush(stdout);
  }

 private:
  std::shared_ptr<objstore::ObjectStore> store_;
  std::vector<std::unique_ptr<TempDir>> caches_;
  std::shared_ptr<engine::Volume> volume_;
  std::unique_ptr<vfs::Filesystem> fs_;
};

// Reads `ino` whole through a fresh handle, in pieces of `piece` bytes; std::nullopt if a
// call fails. No REQUIRE: it runs on the writer threads too.
std::optional<std::string> ReadAll(vfs::Filesystem& fs, vfs::Ino ino, std::size_t piece) {
  auto h = fs.Open(kRoot, ino, vfs::kOpenReadOnly);
  if (!h.ok()) return std::nullopt;
  std::string out;
  for (;;) {
    auto got = fs.Read(*h, out.size(), piece);
    if (!got.ok()) {
      (void)fs.Release(*h);
      return std::nullopt;
    }
    if (got->empty()) break;
    out += *got;
  }
  if (!fs.Release(*h).ok()) return std::nullopt;
  return out;
}

// The number of the file whose bytes `got` holds at its first 8 bytes, for messages.
std::uint64_t Owner(const std::string& got) {
  std::uint64_t n = 0;
  if (got.size() >= 8) std::memcpy(&n, got.data(), 8);
  return n;
}

std::size_t CheckAll(vfs::Filesystem& fs, const std::map<std::string, std::string>& expected,
                     const char* when) {
  std::size_t bad = 0;
  for (const auto& [name, content] : expected) {
    auto attr = fs.Lookup(kRoot, kRootIno, name);
    REQUIRE_OK(attr);
    const std::optional<std::string> read = ReadAll(fs, attr->ino, 128 << 10);
    const std::string got = read.value_or("(unreadable)");
    if (got != content) {
      if (++bad <= 5) {
        std::printf("%s: %s differs (size %zu, expected %zu; bytes of file %llu)\n", when,
                    name.c_str(), got.size(), content.size(),
                    static_cast<unsigned long long>(Owner(got)));
      }
    }
  }
  std::printf("%s: %zu of %zu files differ\n", when, bad, expected.size());
  std::fflush(stdout);
  return bad;
}


// Creates kFilesPerThread files "<prefix><n>" from each of kThreads threads (scratch files
// too, deleted at once), reading each back right away; adds them to `expected`. Returns
// how many were wrong right away (or failed).
int WriteFiles(vfs::Filesystem& fs, std::uint64_t seed, const std::string& prefix,
               std::map<std::string, std::string>& expected) {
  std::mutex mu;
  std::atomic<int> immediate_bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(t));
      for (int i = 0; i < kFilesPerThread; ++i) {
        const std::uint64_t n =
            static_cast<std::uint64_t>(t) * 100000 + static_cast<std::uint64_t>(i) + 1;
        const std::string name = prefix + std::to_string(n);
        const std::string content = Content(rng, n);
        auto created = fs.Create(kRoot, kRootIno, name, 0644, vfs::kOpenReadWrite, true);
        if (!created.ok()) {
          immediate_bad++;
          continue;
        }
        // Pieces as a FUSE client sends them: 4 KiB .. 128 KiB, in order.
        std::uniform_int_distribution<std::size_t> piece(4096, 128 << 10);
        for (std::size_t at = 0; at < content.size();) {
          const std::size_t len = std::min(piece(rng), content.size() - at);
          auto w = fs.Write(created->handle, at, std::string_view(content).substr(at, len));
          if (!w.ok() || *w != len) immediate_bad++;
          at += len;
        }
        (void)fs.Flush(created->handle);
        (void)fs.Release(created->handle);
        // Garbage for the collector: every third file is a scratch file that is deleted.
        if (i % 3 == 2) {
          const std::string scratch = prefix + "scratch" + std::to_string(n);
          auto sc = fs.Create(kRoot, kRootIno, scratch, 0644, vfs::kOpenReadWrite, true);
          if (sc.ok()) {
            (void)fs.Write(sc->handle, 0, RandomBytes(rng, 40 << 10));
            (void)fs.Release(sc->handle);
            (void)fs.Unlink(kRoot, kRootIno, scratch);
          }
        }
        auto attr = fs.Lookup(kRoot, kRootIno, name);
        if (!attr.ok() || ReadAll(fs, attr->ino, 4096 * (1 + rng() % 32)) != content) {
          // Expected only while the store is down (the crash phase ignores the count).
          std::printf("right after writing: %s differs or is unreadable\n", name.c_str());
          immediate_bad++;
        }
        std::lock_guard lock(mu);
        expected.emplace(name, content);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  return immediate_bad.load();
}

}  // namespace

TEST_CASE("small files written by several threads read back exactly, with GC and reopens") {
  const std::uint64_t seed = std::random_device{}();
  std::printf("readback stress seed %llu\n", static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  INFO("seed " << seed);

  auto memory = std::make_shared<objstore::MemoryStore>();
  InitVolume(*memory);
  auto faulty = std::make_shared<objstore::FaultInjectingStore>(memory, seed);
  Harness h(faulty);
  REQUIRE_OK(h.fs().SetAttr(kRoot, kRootIno, vfs::SetAttrRequest::Chmod(0777)));

  std::map<std::string, std::string> expected;
  CHECK(WriteFiles(h.fs(), seed, "f", expected) == 0);
  CHECK(CheckAll(h.fs(), expected, "after the writes") == 0);
  h.PrintGc("after the writes");

  h.Close();
  h.Open();
  CHECK(CheckAll(h.fs(), expected, "after a clean reopen") == 0);
  // Let the collector run a few rounds on the reopened volume while reading.
  for (int round = 0; round < 3; ++round) {
    CHECK(CheckAll(h.fs(), expected, "while collecting") == 0);
  }
  h.PrintGc("after the reopen");

  h.Close();
  h.NewCacheDir();
  h.Open();
  CHECK(CheckAll(h.fs(), expected, "after a reopen from the bucket") == 0);

  // A crash in the middle of writing more (what was not synced may be lost, so those files
  // are not checked), then a restart on the same cache directory: the new writer fences
  // and continues; new files and the synced ones must read back exactly.
  REQUIRE_OK(h.fs().SyncAll());
  std::map<std::string, std::string> lost;
  std::thread crasher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    faulty->Crash();
  });
  (void)WriteFiles(h.fs(), seed + 1000, "g", lost);
  crasher.join();
  h.Crash(*faulty);
  h.Open();
  CHECK(WriteFiles(h.fs(), seed + 2000, "h", expected) == 0);
  CHECK(CheckAll(h.fs(), expected, "after a crash") == 0);
  h.Close();
  h.Open();
  CHECK(CheckAll(h.fs(), expected, "after a crash and a clean reopen") == 0);
}
