// Compaction and deletion under failures: puts, gets, lists and deletes fail, before or after
// taking effect, and the process "crashes" (the store stops answering) at a random point of
// a collector run. Afterwards every file reads back exactly, the usage records still match
// the extent map, and a rerun completes. Seeded; the failing seed is printed (replay with
// --rng-seed).
#include <map>

#include "gc_support.h"
#include "zerofs/objstore/fault_injecting_store.h"

using namespace zerofs;
using engine::Transaction;

namespace {

constexpr std::uint64_t kMaxFileBytes = 400 * 1024;

std::string Padded(std::string s) {
  s.resize(kMaxFileBytes, '\0');
  return s;
}

void CheckFiles(engine::Volume& v, const std::map<std::uint64_t, std::string>& files) {
  for (const auto& [ino, data] : files) {
    INFO("inode " << ino);
    auto got = v.Read(ino, 0, kMaxFileBytes);
    REQUIRE(got.ok());
    CHECK(*got == Padded(data));
  }
}

}  // namespace

TEST_CASE("a collector run interrupted by faults or a crash never loses a live extent") {
  const std::uint64_t base_seed = Catch::rngSeed();
  for (int iteration = 0; iteration < 10; ++iteration) {
    const std::uint64_t seed = base_seed * 1000 + static_cast<std::uint64_t>(iteration);
    INFO("seed " << seed << " (Catch --rng-seed " << base_seed << ", iteration " << iteration
                 << ")");
    std::mt19937_64 rng(seed);
    auto inner = std::make_shared<objstore::MemoryStore>();
    testing::InitVolume(*inner);
    auto faulty = std::make_shared<objstore::FaultInjectingStore>(inner, seed);
    testing::TempDir cache;
    auto options = testing::GcTestOptions(faulty, cache.path());
    options.segment_target_bytes = 96 * 1024;  // many segments, many relocation commits
    options.flush_interval = std::chrono::milliseconds(5);
    auto v = testing::OpenVolume(options);

    // A history of writes and overwrites that leaves many sparse segments; all durable.
    std::map<std::uint64_t, std::string> files;
    std::uint64_t next_ino = 10;
    for (int op = 0; op < 60; ++op) {
      Transaction t;
      if (files.size() < 3 || rng() % 6 != 0) {
        const std::uint64_t ino = files.size() < 3 ? next_ino++ : 10 + rng() % (next_ino - 10);
        if (!files.contains(ino) && ino + 1 != next_ino) continue;  // dropped
        std::string& file = files[ino];
        const std::uint64_t off = rng() % (kMaxFileBytes - 1);
        const std::uint64_t len = std::min<std::uint64_t>(rng() % 90000 + 1, kMaxFileBytes - off);
        const std::string data = testing::RandomBytes(rng, len);
        t.Write(ino, off, data);
        if (file.size() < off + len) file.resize(off + len, '\0');
        file.replace(off, len, data);
      } else if (rng() % 2 == 0) {
        auto it = files.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(rng() % files.size()));
        const std::uint64_t new_size = rng() % (it->second.size() + 1);
        t.Truncate(it->first, it->second.size(), new_size);
        it->second.resize(new_size);
      } else {
        auto it = files.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(rng() % files.size()));
        t.DropData(it->first);
        files.erase(it);
      }
      auto pos = v->Commit(t);
      REQUIRE(pos.ok());
      if (rng() % 3 == 0) REQUIRE(v->Sync(*pos).ok());
    }
    REQUIRE(v->SyncAll().ok());
    const bool with_checkpoint = rng() % 2 == 0;
    std::map<std::uint64_t, std::string> frozen;
    if (with_checkpoint) {
      REQUIRE(v->CreateCheckpoint("c").ok());
      frozen = files;
      // More overwrites after it, so that it holds segments the volume no longer needs.
      for (auto& [ino, data] : files) {
        if (data.empty()) continue;
        Transaction t;
        const std::string fresh = testing::RandomBytes(rng, data.size());
        t.Write(ino, 0, fresh);
        data = fresh;
        REQUIRE(v->Commit(t).ok());
      }
      REQUIRE(v->SyncAll().ok());
    }

    // The fault: one call of a random kind fails, maybe after taking effect, maybe crashing.
    const objstore::StoreOp ops[] = {objstore::StoreOp::kPut, objstore::StoreOp::kGet,
                                     objstore::StoreOp::kDelete, objstore::StoreOp::kList};
    const objstore::StoreOp op = ops[rng() % 4];
    const std::uint64_t nth = rng() % (op == objstore::StoreOp::kGet ? 40 : 8) + 1;
    auto rule = objstore::FaultRule::FailNth(nth, op);
    if (rng() % 2 == 0) rule = std::move(rule).After();
    const bool crash = rng() % 3 != 0;
    if (crash) rule = std::move(rule).ThenCrash();
    INFO("fault: call " << nth << " of " << objstore::StoreOpName(op) << (crash ? ", crash" : ""));
    faulty->AddRule(std::move(rule));
    auto interrupted = v->RunGc({});
    INFO("interrupted run: " << (interrupted.ok() ? "ok" : interrupted.status().ToString()));
    faulty->Crash();
    (void)v->Close();
    v.reset();
    faulty->Restart();
    faulty->ClearRules();

    testing::TempDir fresh;
    auto reopened = testing::OpenVolume(
        testing::GcTestOptions(faulty, rng() % 2 == 0 ? cache.path() : fresh.path()));
    CheckFiles(*reopened, files);
    testing::CheckUsageMatchesExtentMap(*reopened);
    auto rerun = reopened->RunGc({});
    INFO("rerun: " << rerun.status().ToString());
    REQUIRE(rerun.ok());
    CheckFiles(*reopened, files);
    testing::CheckUsageMatchesExtentMap(*reopened);
    auto space = reopened->SpaceUsage();
    REQUIRE(space.ok());
    if (!with_checkpoint) CHECK(space->dead_bytes * 4 <= space->stored_bytes + 4096);
    if (with_checkpoint) {
      testing::TempDir other;
      engine::VolumeOptions o = testing::GcTestOptions(faulty, other.path());
      o.checkpoint = "c";
      auto c = testing::OpenVolume(o);
      CheckFiles(*c, frozen);
    }
    REQUIRE(reopened->Close().ok());
  }
}
