// engine_bench: the storage engine against a bucket with a round-trip time.
//
// A MemoryStore behind a LatencyStore (the given RTT, optionally a bandwidth limit) behind a
// MeteredStore, so the numbers show what the engine does with a remote bucket, not what the
// disk does. For each RTT it prints one table:
//   seq write      MB/s of 1 MiB commits, then one sync
//   4k rand write  commits/s of 4 KiB writes at random offsets from 8 threads, then a sync
//   sync 1 / 64    p50/p99 latency of commit+sync with 1 and 64 concurrent syncers, and the
//                  PUTs per sync (group commit makes it < 1 with many syncers)
//   cold / warm    p50/p99 latency of 32 KiB random reads on a freshly opened volume, then
//                  the same reads again from memory
//   files          RSS after committing N small files (inode + dirent + 100 bytes of data)
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "zerofs/engine/volume.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/objstore/latency_store.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/metered_store.h"

namespace {

using namespace zerofs;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

std::uint64_t RssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "engine_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

struct Env {
  std::shared_ptr<objstore::MemoryStore> memory;
  std::shared_ptr<objstore::MeteredStore> metered;
  std::filesystem::path cache_dir;
  Secret password{"bench-password"};
};

std::unique_ptr<engine::Volume> Open(Env& env, const std::string& cache_name) {
  engine::VolumeOptions o;
  o.store = env.metered;
  o.password = env.password;
  o.cache_dir = env.cache_dir / cache_name;
  o.memory_cache_bytes = 512ULL << 20;
  o.disk_cache_bytes = 0;
  o.snapshot_every_segments = 0;
  auto v = engine::Volume::Open(std::move(o));
  if (!v.ok()) Die("open", v.status());
  return std::move(v).value();
}

void Row(const char* what, const std::string& value, const std::string& detail) {
  std::printf("  %-16s %14s   %s\n", what, value.c_str(), detail.c_str());
}

// "<prefix><v with `decimals` decimals><suffix>"
std::string Fmt(const std::string& prefix, double v, int decimals, const std::string& suffix) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return prefix + buf + suffix;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measures the storage engine against a bucket with a round-trip time."};
  std::vector<int> rtts{20, 100};
  std::uint64_t bandwidth_mib = 0;
  std::uint64_t write_mib = 64;
  int random_seconds = 5;
  int sync_seconds = 5;
  std::uint64_t files = 100000;
  app.add_option("--rtt-ms", rtts, "round-trip times to run with")->capture_default_str();
  app.add_option("--bandwidth-mib", bandwidth_mib, "MiB/s per direction (0: unlimited)");
  app.add_option("--write-mib", write_mib, "size of the sequential write")->capture_default_str();
  app.add_option("--random-seconds", random_seconds, "duration of the 4k random write phase")
      ->capture_default_str();
  app.add_option("--sync-seconds", sync_seconds, "duration of each sync phase")->capture_default_str();
  app.add_option("--files", files, "small files for the memory measurement")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  for (int rtt : rtts) {
    Env env;
    env.memory = std::make_shared<objstore::MemoryStore>();
    objstore::LatencyOptions lat;
    lat.round_trip = std::chrono::milliseconds(rtt);
    lat.bytes_per_second = bandwidth_mib << 20;
    auto slow = std::make_shared<objstore::LatencyStore>(env.memory, lat);
    env.metered = std::make_shared<objstore::MeteredStore>(slow);
    char tmpl[] = "/tmp/zerofs-engine-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    env.cache_dir = tmpl;
    engine::CreateOptions create;
    create.kdf = crypto::Argon2Params::Minimum();
    if (auto k = engine::Volume::Create(*env.memory, env.password, create); !k.ok()) {
      Die("init", k.status());
    }
    std::printf("RTT %d ms%s\n", rtt,
                bandwidth_mib ? (", " + std::to_string(bandwidth_mib) + " MiB/s").c_str() : "");
    auto v = Open(env, "writer");
    std::mt19937_64 rng(42);

    // Sequential write.
    {
      std::string chunk(1 << 20, '\0');
      for (auto& c : chunk) c = static_cast<char>(rng() & 0x3f);  // compressible-ish text
      const auto start = Clock::now();
      for (std::uint64_t i = 0; i < write_mib; ++i) {
        engine::Transaction txn;
        txn.Write(100, i << 20, chunk);
        if (auto p = v->Commit(txn); !p.ok()) Die("commit", p.status());
      }
      if (auto s = v->SyncAll(); !s.ok()) Die("sync", s);
      const double secs = std::chrono::duration<double>(Clock::now() - start).count();
      Row("seq write", Fmt("", static_cast<double>(write_mib << 20) / 1e6 / secs, 1, " MB/s"),
          std::to_string(write_mib) + " MiB in 1 MiB commits + 1 sync");
    }
    // 4 KiB random writes.
    {
      std::atomic<std::uint64_t> ops{0};
      std::atomic<bool> stop{false};
      std::vector<std::thread> threads;
      const auto start = Clock::now();
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
          std::mt19937_64 r(static_cast<std::uint64_t>(t) + 7);
          const std::string block(4096, static_cast<char>('a' + t));
          while (!stop) {
            engine::Transaction txn;
            txn.Write(100, (r() % ((write_mib << 20) / 4096)) * 4096, block);
            if (!v->Commit(txn).ok()) return;
            ++ops;
          }
        });
      }
      std::this_thread::sleep_for(std::chrono::seconds(random_seconds));
      stop = true;
      for (auto& th : threads) th.join();
      if (auto s = v->SyncAll(); !s.ok()) Die("sync", s);
      const double secs = std::chrono::duration<double>(Clock::now() - start).count();
      Row("4k rand write", Fmt("", static_cast<double>(ops) / secs, 0, " IOPS"),
          "8 threads, incl. read-modify-write of uncached extents and the final sync");
    }
    // Sync latency.
    for (int syncers : {1, 64}) {
      std::vector<std::vector<double>> lat_ms(static_cast<std::size_t>(syncers));
      std::atomic<bool> stop{false};
      const auto puts_before = env.metered->Snapshot().put_requests;
      std::vector<std::thread> threads;
      for (int t = 0; t < syncers; ++t) {
        threads.emplace_back([&, t] {
          std::uint64_t n = 0;
          while (!stop) {
            const auto t0 = Clock::now();
            engine::Transaction txn;
            txn.Put(index::MetaKey("s" + std::to_string(t)), std::to_string(n++));
            auto p = v->Commit(txn);
            if (!p.ok() || !v->Sync(*p).ok()) return;
            lat_ms[static_cast<std::size_t>(t)].push_back(Ms(Clock::now() - t0));
          }
        });
      }
      std::this_thread::sleep_for(std::chrono::seconds(sync_seconds));
      stop = true;
      for (auto& th : threads) th.join();
      std::vector<double> all;
      for (auto& l : lat_ms) all.insert(all.end(), l.begin(), l.end());
      const auto puts = env.metered->Snapshot().put_requests - puts_before;
      const std::string name = "sync x" + std::to_string(syncers);
      Row(name.c_str(), Fmt("p50 ", Pct(all, 0.5), 1, " ms"),
          Fmt("p99 ", Pct(all, 0.99), 1, " ms, ") + std::to_string(all.size()) + " syncs, " +
              Fmt("", all.empty() ? 0 : static_cast<double>(puts) / static_cast<double>(all.size()), 2, " PUTs/sync"));
    }
    if (auto s = v->Close(); !s.ok()) Die("close", s);
    v.reset();

    // Cold and warm reads on a fresh open (empty caches).
    {
      auto r = Open(env, "reader");
      std::vector<double> cold, warm;
      std::vector<std::uint64_t> offsets;
      for (int i = 0; i < 50; ++i) offsets.push_back((rng() % ((write_mib << 20) / 32768)) * 32768);
      for (std::uint64_t off : offsets) {
        const auto t0 = Clock::now();
        if (auto d = r->Read(100, off, 32768); !d.ok()) Die("read", d.status());
        cold.push_back(Ms(Clock::now() - t0));
      }
      for (std::uint64_t off : offsets) {
        const auto t0 = Clock::now();
        if (auto d = r->Read(100, off, 32768); !d.ok()) Die("read", d.status());
        warm.push_back(Ms(Clock::now() - t0));
      }
      Row("cold read 32k", Fmt("p50 ", Pct(cold, 0.5), 1, " ms"), Fmt("p99 ", Pct(cold, 0.99), 1, " ms"));
      Row("warm read 32k", Fmt("p50 ", Pct(warm, 0.5), 3, " ms"), Fmt("p99 ", Pct(warm, 0.99), 3, " ms"));
      (void)r->Close();
    }
    // Memory with many small files.
    {
      auto f = Open(env, "files");
      const std::uint64_t rss_before = RssKiB();
      const std::string data(100, 'x');
      for (std::uint64_t i = 0; i < files; ++i) {
        auto ino = f->AllocateInode();
        if (!ino.ok()) Die("allocate", ino.status());
        index::InodeRecord rec;
        rec.ino = *ino;
        rec.mode = 0100644;
        rec.nlink = 1;
        rec.size = data.size();
        engine::Transaction txn;
        txn.Put(index::InodeKey(*ino), index::EncodeInodeRecord(rec));
        txn.Put(index::DirentKey(1, "f" + std::to_string(i)),
                index::EncodeDirentRecord({*ino, index::FileType::kRegular, i + 3}));
        txn.Write(*ino, 0, data);
        if (auto p = f->Commit(txn); !p.ok()) Die("commit", p.status());
      }
      if (auto s = f->SyncAll(); !s.ok()) Die("sync", s);
      Row("files", std::to_string(files),
          "RSS +" + std::to_string((RssKiB() - rss_before) / 1024) + " MiB after commit+sync, " +
              std::to_string(RssKiB() / 1024) + " MiB total");
      (void)f->Close();
    }
    std::printf("  requests: %s\n", env.metered->Snapshot().ToString().c_str());
    std::filesystem::remove_all(env.cache_dir);
  }
  return 0;
}
