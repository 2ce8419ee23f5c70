// zerofs_cache_bench: what a read of a committed 32 KiB extent costs, warm and cold.
//
// Builds a volume of segments in a MemoryStore, then measures CachedExtentReader::Read:
//   memory hit    the plaintext is in the ExtentCache (DESIGN §9: microseconds, no network)
//   disk hit      memory cache off, the sealed frame in a DiskCache under the temp dir:
//                 one file read + checksum + AEAD open + decompress
//   cold, 1       no caches, the store behind a LatencyStore (--rtt-ms, --mbps): one GET
//   sequential    a file of 256 extents read extent by extent, without and with Prefetch
//                 of the next readahead_extents, through an empty memory cache
// Prints latency percentiles or throughput, and the GETs made (from a MeteredStore).
//
//   zerofs_cache_bench [--seconds S] [--rtt-ms N] [--mbps N]
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "zerofs/cache/cached_extent_reader.h"
#include "zerofs/objstore/latency_store.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/metered_store.h"
#include "zerofs/segment/segment_writer.h"

using namespace zerofs;
using Clock = std::chrono::steady_clock;
using segment::ExtentRef;

namespace {

constexpr std::size_t kExtentBytes = 32 * 1024;
constexpr std::size_t kExtentsPerSegment = 256;

struct Args {
  double seconds = 1.0;
  double rtt_ms = 20.0;
  double mbps = 100.0;  // per direction; 0: unlimited
};

[[noreturn]] void Die(const std::string& what, const Status& status) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), status.ToString().c_str());
  std::exit(1);
}

// Half-compressible bytes: runs of random words, so zstd has realistic work to do.
std::string Data(std::mt19937_64& rng) {
  std::string out;
  while (out.size() < kExtentBytes) {
    const std::uint64_t v = rng();
    const std::size_t run = 4 + v % 12;
    for (std::size_t i = 0; i < run; ++i)
      out.push_back(static_cast<char>('a' + (v >> (i % 8 * 8)) % 26));
    out.push_back(' ');
  }
  out.resize(kExtentBytes);
  return out;
}

// Writes `segments` segments of kExtentsPerSegment extents; returns their refs in file order.
std::vector<ExtentRef> WriteVolume(objstore::ObjectStore& store,
                                   const std::shared_ptr<const crypto::KeyRing>& keys,
                                   const crypto::VolumeUuid& uuid, std::uint64_t segments) {
  std::mt19937_64 rng(42);
  std::vector<ExtentRef> refs;
  for (std::uint64_t seq = 1; seq <= segments; ++seq) {
    segment::SegmentWriter writer(keys, uuid, seq, 1);
    for (std::size_t i = 0; i < kExtentsPerSegment; ++i) {
      const std::uint64_t index = refs.size();
      auto loc = writer.AddExtent(1000 + seq, index, Data(rng));
      if (!loc.ok()) Die("AddExtent", loc.status());
      refs.push_back(ExtentRef{1000 + seq, index, **loc});
    }
    auto object = writer.Finish("bench journal");
    if (!object.ok()) Die("Finish", object.status());
    auto put = store.Put(format::SegmentObjectName(seq), *object);
    if (!put.ok()) Die("Put", put.status());
  }
  return refs;
}

struct Latency {
  std::vector<double> us;
  void Add(Clock::duration d) {
    us.push_back(std::chrono::duration<double, std::micro>(d).count());
  }
  double Percentile(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    const auto at = static_cast<std::size_t>(p * static_cast<double>(us.size() - 1));
    return us[at];
  }
};

void ReadOrDie(cache::CachedExtentReader& reader, const ExtentRef& ref) {
  auto got = reader.Read(ref);
  if (!got.ok()) Die("Read", got.status());
  if ((*got)->size() != ref.location.plaintext_length) Die("Read", Status::Internal("short"));
}

// Reads refs round-robin for `seconds`; prints percentiles.
void MeasureWarm(const char* name, cache::CachedExtentReader& reader,
                 const std::vector<ExtentRef>& refs, double seconds) {
  Latency lat;
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  for (std::size_t i = 0; Clock::now() < until; ++i) {
    const auto start = Clock::now();
    ReadOrDie(reader, refs[i % refs.size()]);
    lat.Add(Clock::now() - start);
  }
  const double n = static_cast<double>(lat.us.size());
  std::printf("%-34s %9.1f %9.1f %9.1f %12.0f\n", name, lat.Percentile(0.5), lat.Percentile(0.99),
              lat.Percentile(1.0), n / seconds);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--seconds") == 0 && has_value) {
      args.seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--rtt-ms") == 0 && has_value) {
      args.rtt_ms = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--mbps") == 0 && has_value) {
      args.mbps = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--rtt-ms N] [--mbps N]\n", argv[0]);
      return 2;
    }
  }
  std::array<std::uint8_t, 32> data_key{};
  for (std::size_t i = 0; i < data_key.size(); ++i) data_key[i] = static_cast<std::uint8_t>(i * 3);
  auto keys_or = crypto::KeyRing::FromDataKey(data_key);
  if (!keys_or.ok()) Die("keys", keys_or.status());
  const std::shared_ptr<const crypto::KeyRing> keys = *keys_or;
  const crypto::VolumeUuid uuid =
      crypto::VolumeUuid::Parse("b3a1c0de-1234-4abc-9def-0123456789ab").value();

  auto memory_store = std::make_shared<objstore::MemoryStore>("cache-bench");
  const std::vector<ExtentRef> refs = WriteVolume(*memory_store, keys, uuid, 2);
  const std::vector<ExtentRef> warm_set(refs.begin(), refs.begin() + 256);  // 8 MiB

  std::string pattern =
      (std::filesystem::temp_directory_path() / "zerofs-cache-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp", Status::FromErrno(errno, pattern));
  const std::filesystem::path tmp = pattern;

  std::printf("CachedExtentReader::Read of one 32 KiB extent, one thread\n");
  std::printf("%-34s %9s %9s %9s %12s\n", "", "p50 us", "p99 us", "max us", "reads/s");
  {
    cache::ExtentCache memory(64ULL << 20);
    cache::CachedExtentReader reader(memory_store, keys, uuid, &memory, nullptr);
    for (const ExtentRef& ref : warm_set) ReadOrDie(reader, ref);
    MeasureWarm("memory hit", reader, warm_set, args.seconds);
  }
  {
    auto disk = cache::DiskCache::Open(tmp / "frames", 1ULL << 30);
    if (!disk.ok()) Die("DiskCache::Open", disk.status());
    cache::ExtentCache off(0);
    cache::CachedExtentReader reader(memory_store, keys, uuid, &off, disk->get());
    for (const ExtentRef& ref : warm_set) ReadOrDie(reader, ref);
    MeasureWarm("disk hit (memory cache off)", reader, warm_set, args.seconds);
  }

  objstore::LatencyOptions link;
  link.round_trip = std::chrono::microseconds(static_cast<std::int64_t>(args.rtt_ms * 1000));
  link.bytes_per_second = static_cast<std::uint64_t>(args.mbps * 1e6);
  auto metered = std::make_shared<objstore::MeteredStore>(memory_store);
  auto remote = std::make_shared<objstore::LatencyStore>(metered, link);
  std::printf("\nCold reads through a link of %.1f ms RTT, %.0f MB/s\n", args.rtt_ms, args.mbps);
  {
    cache::CachedExtentReader reader(remote, keys, uuid, nullptr, nullptr);
    Latency lat;
    const std::size_t n = std::max<std::size_t>(3, static_cast<std::size_t>(args.seconds * 20));
    for (std::size_t i = 0; i < n; ++i) {
      const auto start = Clock::now();
      ReadOrDie(reader, refs[(i * 37) % refs.size()]);
      lat.Add(Clock::now() - start);
    }
    std::printf("%-34s %9.0f us p50 %9.0f us max\n", "cold, one extent, no caches",
                lat.Percentile(0.5), lat.Percentile(1.0));
  }
  for (const bool prefetch : {false, true}) {
    cache::ExtentCache memory(64ULL << 20);
    cache::CachedExtentReader reader(remote, keys, uuid, &memory, nullptr);
    metered->Reset();
    const std::vector<ExtentRef> file(refs.begin() + 256, refs.end());
    const std::size_t window = reader.options().readahead_extents;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < file.size(); ++i) {
      if (prefetch && i + 1 < file.size()) {
        const std::size_t count = std::min(window, file.size() - i - 1);
        reader.Prefetch(std::span(file).subspan(i + 1, count));
      }
      ReadOrDie(reader, file[i]);
    }
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    const double mb = static_cast<double>(file.size() * kExtentBytes) / 1e6;
    std::printf("%-34s %9.1f MB/s %6.2f s, %llu GETs\n",
                prefetch ? "sequential, prefetch" : "sequential, no prefetch", mb / secs, secs,
                static_cast<unsigned long long>(metered->Snapshot().get_requests));
  }
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  return 0;
}
