// Conditional puts on a LocalStore raced by separate processes, each with its own store
// opened on the same directory, as two ZeroFS servers (a zombie writer and its successor)
// would race on one file:// bucket. The engine's fencing rests on these two properties:
// exactly one create of a key wins, and exactly one compare-and-swap from a given etag wins.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "local_dir_support.h"
#include "zerofs/objstore/local_store.h"

using namespace zerofs;
using objstore::LocalStore;
using objstore::PutOptions;
using zerofs::testing::CountFiles;
using zerofs::testing::OpenOrDie;
using zerofs::testing::RaceInChildren;
using zerofs::testing::TempDir;

namespace {

constexpr int kRounds = 50;
constexpr int kProcesses = 8;

// Exit codes of a racing child.
constexpr int kWon = 0;
constexpr int kLost = 1;         // kPreconditionFailed
constexpr int kOtherError = 2;   // any other failure of the put
constexpr int kSetupFailed = 3;  // open or head failed

std::string Payload(int round, int child) {
  return "round " + std::to_string(round) + " child " + std::to_string(child);
}

struct Tally {
  int won = 0;
  int lost = 0;
  int other = 0;
  int winner = -1;
};

Tally Count(const std::vector<int>& codes) {
  Tally t;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] == kWon) {
      ++t.won;
      t.winner = static_cast<int>(i);
    } else if (codes[i] == kLost) {
      ++t.lost;
    } else {
      ++t.other;
    }
  }
  return t;
}

int Report(const Status& status) {
  if (status.ok()) return kWon;
  if (status.IsPreconditionFailed()) return kLost;
  std::fprintf(stderr, "racing put failed: %s\n", status.ToString().c_str());
  return kOtherError;
}

}  // namespace

TEST_CASE("LocalStore: processes racing If-None-Match: * on one key, exactly one wins") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "segments/" + std::to_string(round);
    const auto codes = RaceInChildren(kProcesses, [&](int child, const auto& await_start) {
      auto mine = LocalStore::Open(dir.path());
      if (!mine.ok()) return kSetupFailed;
      await_start();
      return Report((*mine)->Put(key, Payload(round, child), PutOptions::IfNoneMatch()).status());
    });
    const Tally t = Count(codes);
    INFO("round " << round);
    REQUIRE(t.won == 1);
    REQUIRE(t.lost == kProcesses - 1);
    auto stored = store->Get(key);
    REQUIRE(stored.ok());
    CHECK(stored->data == Payload(round, t.winner));
  }
  CHECK(store->List("segments/")->size() == kRounds);
  CHECK(CountFiles(dir.path() / ".zerofs-local" / "tmp") == 0);
}

TEST_CASE("LocalStore: processes racing If-Match on one etag, exactly one wins") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto initial = store->Put("root", "epoch 0");
  REQUIRE(initial.ok());
  std::string etag = initial->etag;
  for (int round = 0; round < kRounds; ++round) {
    const auto codes = RaceInChildren(kProcesses, [&](int child, const auto& await_start) {
      auto mine = LocalStore::Open(dir.path());
      if (!mine.ok()) return kSetupFailed;
      // Every child reads the current version, then all try to replace it at once.
      auto head = (*mine)->Head("root");
      if (!head.ok() || head->etag != etag) return kSetupFailed;
      await_start();
      return Report(
          (*mine)->Put("root", Payload(round, child), PutOptions::IfMatch(head->etag)).status());
    });
    const Tally t = Count(codes);
    INFO("round " << round);
    REQUIRE(t.won == 1);
    REQUIRE(t.lost == kProcesses - 1);
    auto stored = store->Get("root");
    REQUIRE(stored.ok());
    CHECK(stored->data == Payload(round, t.winner));
    CHECK(stored->info.etag != etag);
    etag = stored->info.etag;
  }
  CHECK(CountFiles(dir.path() / ".zerofs-local" / "tmp") == 0);
}

TEST_CASE("LocalStore: processes creating and deleting under shared directories") {
  // Deletes prune empty directories while other processes create keys in them; every
  // acknowledged create must be readable afterwards.
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  const auto codes = RaceInChildren(4, [&](int child, const auto& await_start) {
    auto mine = LocalStore::Open(dir.path());
    if (!mine.ok()) return kSetupFailed;
    await_start();
    for (int i = 0; i < 200; ++i) {
      const std::string key =
          "d" + std::to_string(i % 3) + "/e/" + std::to_string(child) + "-" + std::to_string(i);
      if (child % 2 == 0) {
        if (!(*mine)->Put(key, "v").ok()) return kOtherError;
        if (i % 2 == 0 && !(*mine)->Delete(key).ok()) return kOtherError;
      } else {
        // Keep emptying the directories the even children write into.
        auto listed = (*mine)->List("d");
        if (!listed.ok()) return kOtherError;
        for (const auto& info : *listed) {
          if (info.key.find("/e/0-") == std::string::npos) continue;
          const int n = std::stoi(info.key.substr(info.key.rfind('-') + 1));
          if (n % 2 == 0 && !(*mine)->Delete(info.key).ok()) return kOtherError;
        }
      }
    }
    return kWon;
  });
  for (std::size_t i = 0; i < codes.size(); ++i) {
    INFO("child " << i);
    CHECK(codes[i] == kWon);
  }
  // The odd-numbered keys of the writers were never deleted by anyone.
  for (int child : {0, 2}) {
    for (int i = 1; i < 200; i += 2) {
      const std::string key =
          "d" + std::to_string(i % 3) + "/e/" + std::to_string(child) + "-" + std::to_string(i);
      INFO(key);
      CHECK(store->Get(key).ok());
    }
  }
}
