// Space reclamation end to end, on a MemoryStore: write N MiB of incompressible data in 16
// files, take a checkpoint, overwrite every file twice, delete half of them, run the
// collector. The checkpoint still reads the original bytes; after it is deleted, another
// run brings the bucket within 1.25x of the live data, and every file reads back exactly.
// Prints live and stored bytes, amplification and times at each step.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "../unit/engine/gc_support.h"

using namespace zerofs;
using engine::Transaction;

namespace {

constexpr std::uint64_t kFiles = 16;
constexpr std::uint64_t kChunk = 1 << 20;  // bytes per transaction

std::uint64_t TotalBytes() {
  const char* env = std::getenv("ZEROFS_GC_TEST_MIB");
  const std::uint64_t mib = env != nullptr ? std::strtoull(env, nullptr, 10) : 1024;
  return std::max<std::uint64_t>(mib, 16) << 20;
}

// The content of `file` at `version`, chunk by chunk: deterministic, incompressible.
std::string Chunk(std::uint64_t file, int version, std::uint64_t chunk) {
  std::mt19937_64 rng(file * 1'000'003 + static_cast<std::uint64_t>(version) * 7919 + chunk);
  std::string s(kChunk, '\0');
  for (std::size_t i = 0; i < s.size(); i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  return s;
}

void WriteAll(engine::Volume& v, std::uint64_t file_bytes, int version) {
  for (std::uint64_t f = 0; f < kFiles; ++f) {
    for (std::uint64_t c = 0; c < file_bytes / kChunk; ++c) {
      Transaction t;
      t.Write(f + 100, c * kChunk, Chunk(f, version, c));
      REQUIRE(v.Commit(t).ok());
    }
  }
  REQUIRE(v.SyncAll().ok());
}

// Every file reads back as `version_of(file)` (0: deleted, all zeros).
template <typename VersionOf>
void Verify(engine::Volume& v, std::uint64_t file_bytes, VersionOf version_of) {
  const std::string zeros(kChunk, '\0');
  for (std::uint64_t f = 0; f < kFiles; ++f) {
    const int version = version_of(f);
    for (std::uint64_t c = 0; c < file_bytes / kChunk; ++c) {
      auto got = v.Read(f + 100, c * kChunk, kChunk);
      REQUIRE(got.ok());
      if (*got != (version == 0 ? zeros : Chunk(f, version, c))) {
        FAIL("file " << f << " chunk " << c << " differs from version " << version);
      }
    }
  }
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void PrintSpace(const char* step, engine::Volume& v, double seconds) {
  auto s = v.SpaceUsage();
  REQUIRE(s.ok());
  std::printf(
      "%-34s live %8.1f MiB  stored %8.1f MiB  segments %5llu  amplification %5.2f"
      "  (%.1f s)\n",
      step, static_cast<double>(s->live_bytes) / 1048576.0,
      static_cast<double>(s->stored_bytes) / 1048576.0,
      static_cast<unsigned long long>(s->segment_count), s->amplification(), seconds);
  std::fflush(stdout);
}

}  // namespace

TEST_CASE("compaction brings the bucket near the live data, a checkpoint keeps its bytes") {
  const std::uint64_t total = TotalBytes();
  const std::uint64_t file_bytes = total / kFiles / kChunk * kChunk;
  std::printf("gc integration: %llu MiB in %llu files\n",
              static_cast<unsigned long long>(total >> 20),
              static_cast<unsigned long long>(kFiles));
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  testing::TempDir cache;
  auto options = testing::GcTestOptions(store, cache.path());
  options.memory_cache_bytes = 64 << 20;
  options.disk_cache_bytes = 0;
  options.flush_interval = std::chrono::milliseconds(500);
  // Margin under the 1.25x checked below (segment objects also hold journals, directories).
  options.gc.max_amplification = 1.2;
  auto v = testing::OpenVolume(options);

  auto t0 = std::chrono::steady_clock::now();
  WriteAll(*v, file_bytes, 1);
  PrintSpace("written", *v, Seconds(t0));
  REQUIRE(v->CreateCheckpoint("original").ok());
  t0 = std::chrono::steady_clock::now();
  WriteAll(*v, file_bytes, 2);
  WriteAll(*v, file_bytes, 3);
  PrintSpace("overwritten twice", *v, Seconds(t0));
  {
    Transaction t;
    for (std::uint64_t f = 1; f < kFiles; f += 2) t.DropData(f + 100);
    auto pos = v->Commit(t);
    REQUIRE(pos.ok());
    REQUIRE(v->Sync(*pos).ok());
  }
  auto live_version = [](std::uint64_t f) { return f % 2 == 1 ? 0 : 3; };
  PrintSpace("half deleted", *v, 0);

  t0 = std::chrono::steady_clock::now();
  auto first = v->RunGc({});
  REQUIRE(first.ok());
  PrintSpace("gc with the checkpoint", *v, Seconds(t0));
  std::printf(
      "  compacted %llu segments (%.1f MiB rewritten), deleted %llu (%.1f MiB), "
      "kept %llu for the checkpoint\n",
      static_cast<unsigned long long>(first->segments_compacted),
      static_cast<double>(first->bytes_rewritten) / 1048576.0,
      static_cast<unsigned long long>(first->segments_deleted),
      static_cast<double>(first->bytes_freed) / 1048576.0,
      static_cast<unsigned long long>(first->segments_kept_by_checkpoints));
  CHECK(first->segments_kept_by_checkpoints > 0);
  testing::CheckUsageMatchesExtentMap(*v);
  Verify(*v, file_bytes, live_version);

  {
    t0 = std::chrono::steady_clock::now();
    testing::TempDir other;
    engine::VolumeOptions o = testing::GcTestOptions(store, other.path());
    o.checkpoint = "original";
    o.disk_cache_bytes = 0;
    auto frozen = testing::OpenVolume(o);
    Verify(*frozen, file_bytes, [](std::uint64_t) { return 1; });
    std::printf("checkpoint read back byte for byte (%.1f s)\n", Seconds(t0));
  }

  REQUIRE(v->DeleteCheckpoint("original").ok());
  t0 = std::chrono::steady_clock::now();
  auto second = v->RunGc({});
  REQUIRE(second.ok());
  PrintSpace("gc after deleting the checkpoint", *v, Seconds(t0));
  auto space = v->SpaceUsage();
  REQUIRE(space.ok());
  CHECK(space->live_bytes >= total / 2);
  CHECK(static_cast<double>(space->stored_bytes) <= 1.25 * static_cast<double>(space->live_bytes));
  CHECK(space->checkpoint_held_bytes == 0);
  testing::CheckUsageMatchesExtentMap(*v);
  Verify(*v, file_bytes, live_version);
  REQUIRE(v->Close().ok());

  // A fresh machine sees the same.
  testing::TempDir fresh;
  auto reopened = testing::OpenVolume(testing::GcTestOptions(store, fresh.path()));
  Verify(*reopened, file_bytes, live_version);
}
