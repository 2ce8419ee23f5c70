// Crash-recovery property test: random writes, truncates, zero ranges and metadata changes,
// syncs now and then, a crash at a random point (the store stops answering, possibly right
// after a PUT took effect), reopen. Every synced change must be there, and the volume must
// be exactly the state after some commit at or after the last successful sync: never a torn
// transaction, never corrupt. The failing seed is printed; replay with --rng-seed.
#include <map>

#include "engine_test_support.h"
#include "zerofs/index/keys.h"
#include "zerofs/objstore/fault_injecting_store.h"

using namespace zerofs;

namespace {

constexpr std::uint64_t kMaxFileBytes = 300 * 1024;
constexpr int kInodes = 3;

struct Model {
  std::map<std::uint64_t, std::string> files;
  std::map<std::string, std::string> meta;
};

std::string Padded(const std::string& s) {
  std::string out = s;
  out.resize(kMaxFileBytes, '\0');
  return out;
}

bool Matches(engine::Volume& v, const Model& m, std::string* why) {
  for (std::uint64_t ino = 1; ino <= kInodes; ++ino) {
    auto got = v.Read(ino, 0, kMaxFileBytes);
    if (!got.ok()) {
      *why = "read failed: " + got.status().ToString();
      return false;
    }
    auto it = m.files.find(ino);
    const std::string want = Padded(it == m.files.end() ? std::string() : it->second);
    if (*got != want) {
      *why = "inode " + std::to_string(ino) + " differs";
      return false;
    }
  }
  for (int k = 0; k < 8; ++k) {
    const std::string key = "m" + std::to_string(k);
    auto got = v.Get(index::MetaKey(key));
    if (!got.ok()) {
      *why = "get failed";
      return false;
    }
    auto it = m.meta.find(key);
    const std::optional<std::string> want =
        it == m.meta.end() ? std::nullopt : std::optional<std::string>(it->second);
    if (*got != want) {
      *why = "meta " + key + " differs";
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("crash recovery keeps every synced write and never tears a transaction") {
  const std::uint64_t base_seed = Catch::rngSeed();
  for (int iteration = 0; iteration < 12; ++iteration) {
    const std::uint64_t seed = base_seed * 1000 + static_cast<std::uint64_t>(iteration);
    INFO("seed " << seed << " (Catch --rng-seed " << base_seed << ", iteration " << iteration
                 << ")");
    std::mt19937_64 rng(seed);
    auto inner = std::make_shared<objstore::MemoryStore>();
    testing::InitVolume(*inner);
    auto faulty = std::make_shared<objstore::FaultInjectingStore>(inner, seed);
    testing::TempDir cache;
    auto options = testing::TestOptions(faulty, cache.path());
    options.segment_target_bytes = 64 * 1024;  // many segments
    options.flush_interval = std::chrono::milliseconds(5);
    auto v = testing::OpenVolume(options);

    // The crash: after a random number of further PUTs, possibly after one took effect.
    const auto crash_after = rng() % 12 + 1;
    auto rule = objstore::FaultRule::FailNth(crash_after, objstore::StoreOp::kPut);
    if (rng() % 2 == 0) rule = std::move(rule).After();
    faulty->AddRule(std::move(rule).ThenCrash());

    std::vector<Model> history{Model{}};
    std::size_t synced = 0;  // index into history known durable
    for (int op = 0; op < 40; ++op) {
      Model next = history.back();
      engine::Transaction txn;
      const auto ino = rng() % kInodes + 1;
      std::string& file = next.files[ino];
      switch (rng() % 5) {
        case 0:
        case 1: {
          const std::uint64_t off = rng() % (kMaxFileBytes - 1);
          const std::uint64_t len = std::min<std::uint64_t>(rng() % 70000 + 1, kMaxFileBytes - off);
          std::string data = testing::RandomBytes(rng, len);
          if (rng() % 4 == 0) std::fill(data.begin(), data.end(), '\0');
          txn.Write(ino, off, data);
          if (file.size() < off + len) file.resize(off + len, '\0');
          file.replace(off, len, data);
          break;
        }
        case 2: {
          const std::uint64_t new_size = rng() % kMaxFileBytes;
          txn.Truncate(ino, file.size(), new_size);
          file.resize(new_size, '\0');
          break;
        }
        case 3: {
          const std::uint64_t off = rng() % kMaxFileBytes;
          const std::uint64_t len = std::min<std::uint64_t>(rng() % 100000, kMaxFileBytes - off);
          txn.ZeroRange(ino, off, len);
          if (off < file.size()) {
            std::fill(file.begin() + static_cast<std::ptrdiff_t>(off),
                      file.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(off + len, file.size())),
                      '\0');
          }
          break;
        }
        default: {
          const std::string key = "m" + std::to_string(rng() % 8);
          if (rng() % 3 == 0) {
            txn.Delete(index::MetaKey(key));
            next.meta.erase(key);
          } else {
            const std::string value = std::to_string(rng());
            txn.Put(index::MetaKey(key), value);
            next.meta[key] = value;
          }
          // Metadata and data in one transaction: both or neither.
          txn.Write(ino, 0, "M");
          if (file.empty()) file.resize(1);
          file[0] = 'M';
          break;
        }
      }
      auto pos = v->Commit(txn);
      if (!pos.ok()) break;  // the volume already failed
      history.push_back(std::move(next));
      if (rng() % 4 == 0) {
        if (v->Sync(*pos).ok()) {
          synced = history.size() - 1;
        } else {
          break;
        }
      }
    }
    faulty->Crash();
    (void)v->Close();
    v.reset();
    faulty->Restart();
    faulty->ClearRules();

    testing::TempDir fresh;
    auto reopened = testing::OpenVolume(
        testing::TestOptions(faulty, rng() % 2 == 0 ? cache.path() : fresh.path()));
    bool found = false;
    std::string why;
    for (std::size_t i = history.size(); i-- > synced;) {
      if (Matches(*reopened, history[i], &why)) {
        found = true;
        break;
      }
    }
    INFO("history " << history.size() << " commits, last synced " << synced << "; " << why);
    CHECK(found);
    REQUIRE(reopened->Close().ok());
  }
}
