// zerofs_vfs_bench: metadata operations per second through the Filesystem API, and the
// memory a volume of many files costs.
//
// For 1 and 8 threads (--threads), on a fresh volume in a file:// bucket under a temporary
// directory: every thread creates --files/threads empty files in its own directory, then
// stats them (lookup + getattr), renames each, and unlinks them. Prints operations per
// second per phase. Then, on another fresh volume, creates --rss-files files (1000 per
// directory) and prints the resident set size before and after, and its peak: the VFS keeps
// no per-file state, so what grows is the engine's (write buffer, index cache).
//
//   zerofs_vfs_bench [--files N] [--threads 1,8] [--rss-files N] [--store memory|file]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/crypto/key_file.h"
#include "zerofs/engine/volume.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/open.h"
#include "zerofs/vfs/error.h"
#include "zerofs/vfs/filesystem.h"

using namespace zerofs;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::uint64_t files = 20000;
  std::vector<int> threads{1, 8};
  std::uint64_t rss_files = 100000;
  std::string store = "file";
};

[[noreturn]] void Die(const std::string& what, const Status& status) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), status.ToString().c_str());
  std::exit(1);
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

// kB of a field of /proc/self/status ("VmRSS", "VmHWM").
std::uint64_t ProcStatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return 0;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "zerofs-vfs-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A fresh volume and its filesystem; the bucket and the cache live under one temp dir.
struct Bench {
  explicit Bench(const Args& args) {
    std::shared_ptr<objstore::ObjectStore> store;
    if (args.store == "memory") {
      store = std::make_shared<objstore::MemoryStore>();
    } else {
      auto opened = objstore::Open("file://" + (dir.path() / "bucket").string());
      if (!opened.ok()) Die("open bucket", opened.status());
      store = *opened;
    }
    const Secret password("bench-password");
    engine::CreateOptions key_options;
    key_options.kdf = crypto::Argon2Params::Minimum();
    auto key = engine::Volume::Create(*store, password, key_options);
    if (!key.ok()) Die("create volume", key.status());
    engine::VolumeOptions options;
    options.store = store;
    options.password = password;
    options.cache_dir = dir.path() / "cache";
    options.snapshot_every_segments = 0;
    auto v = engine::Volume::Open(options);
    if (!v.ok()) Die("open volume", v.status());
    volume = std::shared_ptr<engine::Volume>(std::move(*v));
    vfs::FilesystemOptions fo;
    fo.volume = volume;
    auto f = vfs::Filesystem::Open(fo);
    if (!f.ok()) Die("open filesystem", f.status());
    fs = std::move(*f);
  }
  ~Bench() {
    fs.reset();
    if (volume) (void)volume->Close();
  }
  TempDir dir;
  std::shared_ptr<engine::Volume> volume;
  std::unique_ptr<vfs::Filesystem> fs;
};

const vfs::Credentials kRoot = vfs::Credentials::Root();

// Runs `op(thread, i)` for i in [0, per_thread) on `threads` threads; returns ops/second.
template <typename Op>
double Timed(int threads, std::uint64_t per_thread, const Op& op) {
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread; ++i) op(t, i);
    });
  }
  for (std::thread& w : workers) w.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(per_thread) * threads / seconds;
}

void RunThroughput(const Args& args, int threads) {
  Bench b(args);
  vfs::Filesystem& fs = *b.fs;
  const std::uint64_t per_thread = args.files / static_cast<std::uint64_t>(threads);
  std::vector<vfs::Ino> dirs;
  for (int t = 0; t < threads; ++t) {
    auto d = fs.Mkdir(kRoot, vfs::kRootIno, "t" + std::to_string(t), 0755);
    if (!d.ok()) Die("mkdir", d.status());
    dirs.push_back(d->ino);
  }
  auto name = [](std::uint64_t i, const char* prefix) { return prefix + std::to_string(i); };
  const double creates = Timed(threads, per_thread, [&](int t, std::uint64_t i) {
    auto r =
        fs.Create(kRoot, dirs[static_cast<std::size_t>(t)], name(i, "f"), 0644, 0, true, false);
    if (!r.ok()) Die("create", r.status());
  });
  const double stats = Timed(threads, per_thread, [&](int t, std::uint64_t i) {
    auto a = fs.Lookup(kRoot, dirs[static_cast<std::size_t>(t)], name(i, "f"));
    if (!a.ok()) Die("lookup", a.status());
    auto g = fs.GetAttr(a->ino);
    if (!g.ok()) Die("getattr", g.status());
  });
  const double renames = Timed(threads, per_thread, [&](int t, std::uint64_t i) {
    const vfs::Ino d = dirs[static_cast<std::size_t>(t)];
    Check(fs.Rename(kRoot, d, name(i, "f"), d, name(i, "g"), 0), "rename");
  });
  const double unlinks = Timed(threads, per_thread, [&](int t, std::uint64_t i) {
    Check(fs.Unlink(kRoot, dirs[static_cast<std::size_t>(t)], name(i, "g")), "unlink");
  });
  Check(fs.SyncAll(), "sync");
  std::printf("%7d %10llu %12.0f %12.0f %12.0f %12.0f\n", threads,
              static_cast<unsigned long long>(per_thread * static_cast<std::uint64_t>(threads)),
              creates, stats, renames, unlinks);
}

void RunMemory(const Args& args) {
  const std::uint64_t rss_before = ProcStatusKb("VmRSS");
  Bench b(args);
  vfs::Filesystem& fs = *b.fs;
  const std::uint64_t rss_open = ProcStatusKb("VmRSS");
  constexpr std::uint64_t kPerDir = 1000;
  const auto start = Clock::now();
  vfs::Ino dir = 0;
  for (std::uint64_t i = 0; i < args.rss_files; ++i) {
    if (i % kPerDir == 0) {
      auto d = fs.Mkdir(kRoot, vfs::kRootIno, "d" + std::to_string(i / kPerDir), 0755);
      if (!d.ok()) Die("mkdir", d.status());
      dir = d->ino;
    }
    auto r = fs.Create(kRoot, dir, "f" + std::to_string(i % kPerDir), 0644, 0, true, false);
    if (!r.ok()) Die("create", r.status());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::uint64_t rss_created = ProcStatusKb("VmRSS");
  Check(fs.SyncAll(), "sync");
  const std::uint64_t rss_synced = ProcStatusKb("VmRSS");
  auto st = fs.StatFilesystem();
  std::printf("\n%llu files in %.1f s (%.0f creates/s), statfs says %llu inodes\n",
              static_cast<unsigned long long>(args.rss_files), seconds,
              static_cast<double>(args.rss_files) / seconds,
              static_cast<unsigned long long>(st.ok() ? st->inodes : 0));
  std::printf(
      "RSS: %llu MiB at start, %llu MiB with the volume open, %llu MiB after the "
      "creates, %llu MiB after sync; peak %llu MiB\n",
      static_cast<unsigned long long>(rss_before / 1024),
      static_cast<unsigned long long>(rss_open / 1024),
      static_cast<unsigned long long>(rss_created / 1024),
      static_cast<unsigned long long>(rss_synced / 1024),
      static_cast<unsigned long long>(ProcStatusKb("VmHWM") / 1024));
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      std::exit(2);
    }
    ++i;
    if (flag == "--files") {
      a.files = std::strtoull(value, nullptr, 10);
    } else if (flag == "--rss-files") {
      a.rss_files = std::strtoull(value, nullptr, 10);
    } else if (flag == "--store") {
      a.store = value;
    } else if (flag == "--threads") {
      a.threads.clear();
      for (const char* p = value; *p != '\0';) {
        a.threads.push_back(std::atoi(p));
        const char* comma = std::strchr(p, ',');
        p = comma == nullptr ? p + std::strlen(p) : comma + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: zerofs_vfs_bench [--files N] [--threads 1,8] [--rss-files N] "
                   "[--store memory|file]\n");
      std::exit(2);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  log::SetLevel(log::Level::kWarn);
  std::printf("metadata operations per second through vfs::Filesystem (%s store)\n",
              args.store.c_str());
  std::printf("%7s %10s %12s %12s %12s %12s\n", "threads", "files", "create/s", "stat/s",
              "rename/s", "unlink/s");
  for (int threads : args.threads) {
    if (threads > 0) RunThroughput(args, threads);
  }
  if (args.rss_files > 0) RunMemory(args);
  return 0;
}
