// Checkpoints: frozen, named states that keep reading the same bytes while the volume moves
// on and the collector compacts; deleting one makes its space reclaimable.
#include "gc_support.h"

using namespace zerofs;
using engine::Transaction;
using testing::GcTestOptions;
using testing::OpenVolume;
using testing::TempDir;

namespace {

constexpr std::uint64_t kExtent = 32768;

engine::VolumeOptions CheckpointOptions(std::shared_ptr<objstore::ObjectStore> store,
                                        const std::filesystem::path& cache, std::string name) {
  engine::VolumeOptions o = GcTestOptions(std::move(store), cache);
  o.checkpoint = std::move(name);
  return o;
}

}  // namespace

TEST_CASE("a checkpoint reads its frozen state after overwrites, deletes and compaction") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto v = OpenVolume(GcTestOptions(store, cache.path()));
  std::mt19937_64 rng(11);
  const std::string one = testing::RandomBytes(rng, 8 * kExtent);
  const std::string two = testing::RandomBytes(rng, 4 * kExtent + 100);
  {
    Transaction t;
    t.Write(1, 0, one);
    t.Write(2, 0, two);
    t.Put(index::MetaKey("state"), "old");
    REQUIRE(v->Commit(t).ok());
  }
  auto info = v->CreateCheckpoint("before-changes");
  REQUIRE(info.ok());
  CHECK(info->name == "before-changes");
  CHECK(info->covers_seq > 0);
  CHECK(info->segment_count >= 1);
  CHECK(info->created_unix_ms > 0);
  CHECK(v->CreateCheckpoint("before-changes").status().code() == StatusCode::kAlreadyExists);
  CHECK(v->CreateCheckpoint("a/b").status().code() == StatusCode::kInvalidArgument);
  CHECK(v->CreateCheckpoint("..").status().code() == StatusCode::kInvalidArgument);

  // The volume moves on: two overwrites, a deleted file, a metadata change.
  std::string now_one;
  for (int i = 0; i < 2; ++i) {
    Transaction t;
    now_one = testing::RandomBytes(rng, 8 * kExtent);
    t.Write(1, 0, now_one);
    REQUIRE(v->Commit(t).ok());
    REQUIRE(v->SyncAll().ok());
  }
  {
    Transaction t;
    t.DropData(2);
    t.Put(index::MetaKey("state"), "new");
    REQUIRE(v->Commit(t).ok());
  }
  auto gc = v->RunGc({});
  REQUIRE(gc.ok());
  CHECK(gc->segments_kept_by_checkpoints >= 1);
  testing::CheckUsageMatchesExtentMap(*v);
  CHECK(*v->Read(1, 0, now_one.size()) == now_one);
  CHECK(*v->Read(2, 0, two.size()) == std::string(two.size(), '\0'));

  auto space = v->SpaceUsage();
  REQUIRE(space.ok());
  CHECK(space->checkpoints == 1);
  CHECK(space->checkpoint_held_bytes > 0);

  {
    TempDir other;
    auto frozen = OpenVolume(CheckpointOptions(store, other.path(), "before-changes"));
    CHECK(frozen->read_only());
    CHECK(*frozen->Read(1, 0, one.size()) == one);
    CHECK(*frozen->Read(2, 0, two.size()) == two);
    CHECK(*frozen->Get(index::MetaKey("state")) == std::optional<std::string>("old"));
    Transaction t;
    t.Write(1, 0, "nope");
    CHECK(frozen->Commit(t).status().code() == StatusCode::kCancelled);
    CHECK(frozen->CreateCheckpoint("x").status().code() == StatusCode::kCancelled);
    // The same cache dir as the live volume works too: the checkpoint's index is kept apart.
  }
  {
    auto frozen = OpenVolume(CheckpointOptions(store, cache.path() / "ro", "before-changes"));
    CHECK(*frozen->Read(1, 0, one.size()) == one);
  }

  auto list = v->ListCheckpoints();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].name == "before-changes");
  auto got = v->GetCheckpoint("before-changes");
  REQUIRE(got.ok());
  CHECK(got->covers_seq == info->covers_seq);
  CHECK(v->GetCheckpoint("nope").status().code() == StatusCode::kNotFound);

  // Deleting it lets the collector reclaim what only it kept.
  REQUIRE(v->DeleteCheckpoint("before-changes").ok());
  CHECK(v->DeleteCheckpoint("before-changes").code() == StatusCode::kNotFound);
  auto reclaimed = v->RunGc({});
  REQUIRE(reclaimed.ok());
  CHECK(reclaimed->segments_deleted >= 1);
  CHECK(reclaimed->segments_kept_by_checkpoints == 0);
  auto after = v->SpaceUsage();
  REQUIRE(after.ok());
  CHECK(after->checkpoint_held_bytes == 0);
  CHECK(after->stored_bytes < space->stored_bytes);
  CHECK(*v->Read(1, 0, now_one.size()) == now_one);
  TempDir third;
  auto gone = engine::Volume::Open(CheckpointOptions(store, third.path(), "before-changes"));
  CHECK(gone.status().code() == StatusCode::kNotFound);
}

TEST_CASE("a checkpoint's index snapshot outlives later snapshots") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto v = OpenVolume(GcTestOptions(store, cache.path()));
  {
    Transaction t;
    t.Write(1, 0, "first state");
    REQUIRE(v->Commit(t).ok());
  }
  REQUIRE(v->CreateCheckpoint("c1").ok());
  for (int i = 0; i < 3; ++i) {
    Transaction t;
    t.Write(1, 0, "state " + std::to_string(i) + "    ");
    t.Put(index::MetaKey("k" + std::to_string(i)), "v");
    REQUIRE(v->Commit(t).ok());
    REQUIRE(v->SyncAll().ok());
    REQUIRE(v->Snapshot().ok());
  }
  REQUIRE(v->CreateCheckpoint("c2").ok());
  REQUIRE(v->RunGc({}).ok());
  TempDir other;
  auto c1 = OpenVolume(CheckpointOptions(store, other.path(), "c1"));
  CHECK(*c1->Read(1, 0, 11) == "first state");
  auto c2 = OpenVolume(CheckpointOptions(store, other.path() / "2", "c2"));
  CHECK(*c2->Read(1, 0, 11) == "state 2    ");
  CHECK(*c2->Get(index::MetaKey("k2")) == std::optional<std::string>("v"));
  CHECK(*c1->Get(index::MetaKey("k2")) == std::nullopt);
}
