// MemoryBlockDevice, MemoryExportProvider and the command-line syntaxes they come with.
#include <atomic>
#include <catch2/catch.hpp>
#include <random>
#include <thread>

#include "zerofs/nbd/memory_export_provider.h"
#include "zerofs/nbd/server.h"

using namespace zerofs::nbd;
using zerofs::StatusCode;

namespace {
constexpr std::uint64_t kChunk = MemoryBlockDevice::kChunkBytes;
}

TEST_CASE("a new device reads as zeroes and stores nothing") {
  MemoryBlockDevice dev(1ULL << 40, {});  // 1 TiB, nothing allocated
  CHECK(dev.Size() == 1ULL << 40);
  CHECK(*dev.Read((1ULL << 40) - 10, 10) == std::string(10, '\0'));
  CHECK(dev.StoredBytes() == 0);
}

TEST_CASE("writes across chunk boundaries read back, only touched chunks are stored") {
  MemoryBlockDevice dev(1 << 20, {});
  std::string data(kChunk + 100, 'q');
  REQUIRE(dev.Write(kChunk - 50, data, false).ok());
  CHECK(*dev.Read(kChunk - 50, static_cast<std::uint32_t>(data.size())) == data);
  CHECK(*dev.Read(kChunk - 51, 1) == std::string(1, '\0'));
  CHECK(dev.StoredBytes() == 3 * kChunk);
}

TEST_CASE("zero pages are not stored") {
  MemoryBlockDevice dev(1 << 20, {});
  REQUIRE(dev.Write(0, std::string(3 * kChunk, '\0'), false).ok());
  CHECK(dev.StoredBytes() == 0);
  REQUIRE(dev.Write(10, "x", false).ok());
  CHECK(dev.StoredBytes() == kChunk);
  REQUIRE(dev.Write(10, std::string(1, '\0'), false).ok());  // the chunk is all zero again
  CHECK(dev.StoredBytes() == 0);
}

TEST_CASE("trim and write-zeroes zero the range and free whole chunks") {
  MemoryBlockDevice dev(1 << 20, {});
  REQUIRE(dev.Write(0, std::string(4 * kChunk, 'a'), false).ok());
  REQUIRE(dev.Trim(100, 200, false).ok());  // partial: zeroed, chunk kept
  CHECK(*dev.Read(99, 202) == "a" + std::string(200, '\0') + "a");
  CHECK(dev.StoredBytes() == 4 * kChunk);
  REQUIRE(dev.Trim(kChunk, static_cast<std::uint32_t>(2 * kChunk), false).ok());
  CHECK(dev.StoredBytes() == 2 * kChunk);
  REQUIRE(dev.WriteZeroes(3 * kChunk, static_cast<std::uint32_t>(kChunk), true, true, true).ok());
  CHECK(dev.StoredBytes() == kChunk);
  CHECK(*dev.Read(3 * kChunk, 4) == std::string(4, '\0'));
  CHECK(dev.fua_count() == 1);
}

TEST_CASE("fast zeroing refused by a slow-zero device leaves data alone") {
  MemoryDeviceOptions opts;
  opts.fast_zero = false;
  MemoryBlockDevice dev(1 << 20, opts);
  REQUIRE(dev.Write(0, "data", false).ok());
  CHECK(dev.WriteZeroes(0, 4, false, true, false).code() == StatusCode::kNotSupported);
  CHECK(*dev.Read(0, 4) == "data");
  CHECK(dev.WriteZeroes(0, 4, false, false, false).ok());
  CHECK(*dev.Read(0, 4) == std::string(4, '\0'));
  CHECK(!dev.Capabilities().can_fast_zero);
}

TEST_CASE("range and permission errors") {
  MemoryBlockDevice dev(1000, {});
  CHECK(dev.Write(999, "ab", false).code() == StatusCode::kNoSpace);
  CHECK(dev.Read(999, 2).status().code() == StatusCode::kInvalidArgument);
  CHECK(dev.Read(~std::uint64_t{0}, 2).status().code() == StatusCode::kInvalidArgument);
  MemoryDeviceOptions ro;
  ro.read_only = true;
  MemoryBlockDevice rodev(1000, ro);
  CHECK(rodev.Write(0, "a", false).code() == StatusCode::kPermissionDenied);
  CHECK(rodev.Trim(0, 1, false).code() == StatusCode::kPermissionDenied);
  CHECK(rodev.Capabilities().read_only);
  CHECK(!MemoryBlockDevice::Create(100, {true, 3, true}).ok());  // 3 is not a power of two
}

TEST_CASE("random operations match a flat model") {
  std::mt19937_64 rng(Catch::rngSeed());
  const std::uint32_t size = 300 * 1024;
  MemoryBlockDevice dev(size, {});
  std::string model(size, '\0');
  for (int i = 0; i < 2000; ++i) {
    std::uint32_t off = static_cast<std::uint32_t>(rng() % size);
    std::uint32_t len =
        static_cast<std::uint32_t>(1 + rng() % std::min<std::uint32_t>(size - off, 70000));
    switch (rng() % 4) {
      case 0: {
        std::string data(len, static_cast<char>('a' + rng() % 26));
        if (rng() % 4 == 0) data.assign(len, '\0');
        REQUIRE(dev.Write(off, data, false).ok());
        model.replace(off, len, data);
        break;
      }
      case 1:
        REQUIRE(dev.Trim(off, len, false).ok());
        model.replace(off, len, len, '\0');
        break;
      case 2:
        REQUIRE(dev.WriteZeroes(off, len, false, false, false).ok());
        model.replace(off, len, len, '\0');
        break;
      default: REQUIRE(*dev.Read(off, len) == model.substr(off, len));
    }
  }
  CHECK(*dev.Read(0, size) == model);
  std::uint64_t nonzero_chunks = 0;
  for (std::uint32_t c = 0; c < size; c += static_cast<std::uint32_t>(kChunk)) {
    if (model.substr(c, kChunk).find_first_not_of('\0') != std::string::npos) ++nonzero_chunks;
  }
  CHECK(dev.StoredBytes() == nonzero_chunks * kChunk);
}

TEST_CASE("concurrent writers and readers see consistent data") {
  MemoryBlockDevice dev(8 << 20, {});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&dev, &failures, t] {
      const std::uint64_t base = static_cast<std::uint64_t>(t) << 20;
      for (int i = 0; i < 200; ++i) {
        std::string data(4096 + 17, static_cast<char>('A' + (i + t) % 26));
        std::uint64_t off = base + static_cast<std::uint64_t>(i % 200) * 5000 % ((1 << 20) - 5000);
        if (!dev.Write(off, data, false).ok()) ++failures;
        auto back = dev.Read(off, static_cast<std::uint32_t>(data.size()));
        if (!back.ok() || *back != data) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  // Each thread's last write is intact in its own megabyte.
  for (int t = 0; t < 8; ++t) {
    std::uint64_t off = (static_cast<std::uint64_t>(t) << 20) + 199ULL * 5000 % ((1 << 20) - 5000);
    CHECK(*dev.Read(off, 4113) == std::string(4113, static_cast<char>('A' + (199 + t) % 26)));
  }
}

TEST_CASE("memory export specs") {
  auto spec = ParseMemoryExportSpec("disk1:256M");
  REQUIRE(spec.ok());
  CHECK(spec->name == "disk1");
  CHECK(spec->size_bytes == 256ULL << 20);
  CHECK(!spec->options.read_only);
  auto full = ParseMemoryExportSpec("d:1G:ro,slow-zero,min-block=512");
  REQUIRE(full.ok());
  CHECK(full->options.read_only);
  CHECK(!full->options.fast_zero);
  CHECK(full->options.min_block_bytes == 512);
  CHECK(*ParseByteSize("4096") == 4096);
  CHECK(*ParseByteSize("2T") == 2ULL << 40);
  for (const char* bad : {"", "disk", ":1M", "d:", "d:12Q", "d:1M:fast", "d:-1", "d:M",
                          "d:99999999999999999999", "d:20000000000T"}) {
    INFO(bad);
    CHECK(ParseMemoryExportSpec(bad).status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("listen addresses") {
  auto a = ParseListenAddress("127.0.0.1:10809");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 10809);
  auto v6 = ParseListenAddress("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  for (const char* bad :
       {"127.0.0.1", "::1:80", "localhost:80", "1.2.3.4:99999", ":80", "1.2.3.4:x", "[::1]80"}) {
    INFO(bad);
    CHECK(!ParseListenAddress(bad).ok());
  }
}

TEST_CASE("memory export provider: add, list, open, default, remove") {
  MemoryExportProvider p;
  CHECK(p.Open("").status().IsNotFound());
  REQUIRE(p.AddMemory({"a", 4096, {}}).ok());
  REQUIRE(p.AddMemory({"b", 8192, {}}).ok());
  CHECK(p.AddMemory({"a", 1, {}}).code() == StatusCode::kAlreadyExists);
  CHECK(p.Add("c", nullptr).code() == StatusCode::kInvalidArgument);
  auto list = p.List();
  REQUIRE(list->size() == 2);
  CHECK((*list)[1].name == "b");
  CHECK((*list)[1].size_bytes == 8192);
  CHECK(p.Open("")->name == "a");
  CHECK(p.Open("b")->device->Size() == 8192);
  CHECK(p.Open("zzz").status().IsNotFound());
  auto held = p.Open("a")->device;
  REQUIRE(p.Remove("a").ok());
  CHECK(p.Open("")->name == "b");
  CHECK(held->Size() == 4096);  // an open device outlives its removal
  CHECK(p.Remove("a").IsNotFound());
}
