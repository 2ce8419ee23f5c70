// objstore_bench: PUT and GET throughput and latency of an ObjectStore.
//
// For every object size and parallelism it PUTs `ops` distinct objects from `parallel`
// threads, then GETs them back (verifying the bytes), then deletes them, and prints one
// table row per (operation, size, parallelism): requests/s, MB/s, p50 and p99 latency.
//
//   objstore_bench --url s3://bucket/bench --config zerofs.toml
//                  --sizes 32K,1M,16M --parallel 1,8,32
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "zerofs/objstore/open.h"
#include "zerofs/server/config.h"

namespace {

using Clock = std::chrono::steady_clock;
using zerofs::objstore::ObjectStore;

struct Row {
  const char* op;
  std::uint64_t size;
  unsigned parallel;
  std::size_t ops;
  double seconds;
  std::vector<double> latencies_ms;
};

std::uint64_t ParseSize(const std::string& text) {
  std::size_t used = 0;
  std::uint64_t v = std::stoull(text, &used);
  const std::string unit = text.substr(used);
  if (unit == "K" || unit == "KiB") return v << 10;
  if (unit == "M" || unit == "MiB") return v << 20;
  if (unit == "G" || unit == "GiB") return v << 30;
  if (unit.empty()) return v;
  throw std::invalid_argument("unknown size unit in '" + text + "'");
}

std::string HumanSize(std::uint64_t bytes) {
  if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1ULL << 10) && bytes % (1ULL << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " B";
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

// Runs fn(i) for i in [0, ops) on `parallel` threads; returns false on the first failure.
template <typename Fn>
bool RunParallel(unsigned parallel, std::size_t ops, Fn fn, Row& row) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::vector<double>> lat(parallel);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (unsigned t = 0; t < parallel; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = next++; i < ops && !failed; i = next++) {
        const auto t0 = Clock::now();
        if (!fn(i)) {
          failed = true;
          return;
        }
        lat[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& th : threads) th.join();
  row.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& l : lat) row.latencies_ms.insert(row.latencies_ms.end(), l.begin(), l.end());
  return !failed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measures PUT and GET throughput and latency of an object store."};
  std::string url = "memory://bench";
  std::string config_path;
  std::string sizes_arg = "32K,1M,16M";
  std::string parallel_arg = "1,8,32";
  std::size_t ops_arg = 0;
  std::uint64_t bytes_per_run = 256ULL << 20;
  app.add_option("--url", url, "store URL (a fresh prefix is used under it)")->capture_default_str();
  app.add_option("--config", config_path, "TOML config whose [s3] table is used");
  app.add_option("--sizes", sizes_arg, "object sizes, e.g. 32K,1M,16M")->capture_default_str();
  app.add_option("--parallel", parallel_arg, "parallelism levels")->capture_default_str();
  app.add_option("--ops", ops_arg, "objects per run (default: bytes-per-run / size, 16..512)");
  app.add_option("--bytes-per-run", bytes_per_run, "data volume per run when --ops is not given")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  zerofs::objstore::S3Options s3;
  if (!config_path.empty()) {
    auto cfg = zerofs::server::LoadConfigFile(config_path);
    if (!cfg.ok()) {
      std::fprintf(stderr, "objstore_bench: %s\n", cfg.status().ToString().c_str());
      return 2;
    }
    s3 = cfg->s3;
  }
  std::vector<std::uint64_t> sizes;
  std::vector<unsigned> parallels;
  try {
    std::stringstream ss(sizes_arg);
    for (std::string item; std::getline(ss, item, ',');) sizes.push_back(ParseSize(item));
    std::stringstream ps(parallel_arg);
    for (std::string item; std::getline(ps, item, ',');) {
      parallels.push_back(static_cast<unsigned>(std::stoul(item)));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "objstore_bench: bad --sizes or --parallel: %s\n", e.what());
    return 2;
  }

  auto opened = zerofs::objstore::Open(url, s3);
  if (!opened.ok()) {
    std::fprintf(stderr, "objstore_bench: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  ObjectStore& store = **opened;
  const std::string run_prefix =
      "bench-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());

  std::printf("store: %s\n", store.Describe().c_str());
  std::printf("%-4s %9s %5s %6s %10s %10s %10s %10s\n", "op", "size", "par", "ops", "req/s",
              "MB/s", "p50 ms", "p99 ms");
  std::mt19937_64 rng(42);
  for (std::uint64_t size : sizes) {
    std::string payload(size, '\0');
    for (auto& c : payload) c = static_cast<char>(rng());
    for (unsigned parallel : parallels) {
      std::size_t ops = ops_arg;
      if (ops == 0) ops = std::clamp<std::size_t>(bytes_per_run / size, 16, 512);
      ops = std::max<std::size_t>(ops, parallel);
      const std::string prefix = run_prefix + "/" + std::to_string(size) + "-" +
                                 std::to_string(parallel) + "/";
      auto key = [&](std::size_t i) { return prefix + std::to_string(i); };

      Row put{"PUT", size, parallel, ops, 0, {}};
      const bool put_ok = RunParallel(parallel, ops, [&](std::size_t i) {
        auto r = store.Put(key(i), payload);
        if (!r.ok()) std::fprintf(stderr, "PUT failed: %s\n", r.status().ToString().c_str());
        return r.ok();
      }, put);
      Row get{"GET", size, parallel, ops, 0, {}};
      const bool get_ok = put_ok && RunParallel(parallel, ops, [&](std::size_t i) {
        auto r = store.Get(key(i));
        if (!r.ok()) std::fprintf(stderr, "GET failed: %s\n", r.status().ToString().c_str());
        if (r.ok() && r->data != payload) {
          std::fprintf(stderr, "GET returned wrong bytes for %s\n", key(i).c_str());
          return false;
        }
        return r.ok();
      }, get);
      std::vector<std::string> keys;
      for (std::size_t i = 0; i < ops; ++i) keys.push_back(key(i));
      if (auto s = store.DeleteMany(keys); !s.ok()) {
        std::fprintf(stderr, "cleanup failed: %s\n", s.ToString().c_str());
      }
      if (!put_ok || !get_ok) return 1;
      for (const Row* row : {&put, &get}) {
        const double total_mb = static_cast<double>(row->size) * static_cast<double>(row->ops) / 1e6;
        std::printf("%-4s %9s %5u %6zu %10.1f %10.1f %10.2f %10.2f\n", row->op,
                    HumanSize(row->size).c_str(), row->parallel, row->ops,
                    static_cast<double>(row->ops) / row->seconds, total_mb / row->seconds,
                    Percentile(row->latencies_ms, 0.50), Percentile(row->latencies_ms, 0.99));
      }
      std::fflush(stdout);
    }
  }
  return 0;
}
