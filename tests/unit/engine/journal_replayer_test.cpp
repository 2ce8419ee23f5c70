// JournalReplayer, the replay seam a read replica calls in a loop: it applies the committed
// segments after a cursor, in order, a bounded number per step, and picks up what a writer
// added since (including a new writer's fence, which jumps the chain).
#include "engine/journal_replayer.h"

#include <string>

#include "engine_test_support.h"
#include "zerofs/index/index_db.h"
#include "zerofs/index/keys.h"
#include "zerofs/segment/segment_reader.h"

using namespace zerofs;
using namespace zerofs::testing;

namespace {

// Opens a writer on `store`, commits keys first..last-1 each in its own segment, closes.
void WriteKeys(const std::shared_ptr<objstore::ObjectStore>& store, int first, int last) {
  TempDir cache;
  auto volume = OpenVolume(TestOptions(store, cache.path()));
  for (int i = first; i < last; ++i) {
    engine::Transaction txn;
    txn.Put(index::MetaKey("k" + std::to_string(i)), std::to_string(i));
    auto pos = volume->Commit(txn);
    REQUIRE(pos.ok());
    REQUIRE(volume->Sync(*pos).ok());
  }
  REQUIRE(volume->Close().ok());
}

int KeysPresent(const index::IndexDb& db, int last) {
  int present = 0;
  for (int i = 0; i < last; ++i) {
    auto v = db.Get(index::MetaKey("k" + std::to_string(i)));
    REQUIRE(v.ok());
    if (v->has_value()) ++present;
  }
  return present;
}

}  // namespace

TEST_CASE("JournalReplayer applies the chain in bounded steps and follows a new writer") {
  INFO("seed " << Catch::rngSeed() << " (deterministic: no randomness)");
  auto store = std::make_shared<objstore::MemoryStore>();
  InitVolume(*store);
  WriteKeys(store, 0, 5);  // fence at seq 1, then one segment per key

  auto key = engine::Volume::OpenKey(*store, TestPassword());
  REQUIRE(key.ok());
  segment::SegmentReader reader(store, key->keys, key->uuid);
  TempDir dir;
  auto db = index::IndexDb::Open(dir.path() / "index", index::IndexDbOptions{});
  REQUIRE(db.ok());
  engine::JournalReplayer replayer(reader, **db);
  auto cursor = replayer.CursorOfIndex(1);
  REQUIRE(cursor.ok());
  CHECK(cursor->next_seq == 1);

  // Two segments per step: the fence and the first key, then two more keys.
  auto step = replayer.ApplyNext(*cursor, 2);
  REQUIRE(step.ok());
  CHECK(step->applied == 2);
  CHECK_FALSE(step->at_end);
  CHECK(KeysPresent(**db, 5) == 1);
  const std::uint64_t after_first = (*db)->applied_seq();
  step = replayer.ApplyNext(*cursor, 2);
  REQUIRE(step.ok());
  CHECK(step->applied == 2);
  CHECK(KeysPresent(**db, 5) == 3);
  CHECK((*db)->applied_seq() > after_first);

  // The rest, to the end of the chain; then an idle step applies nothing.
  step = replayer.ApplyNext(*cursor);
  REQUIRE(step.ok());
  CHECK(step->applied == 2);
  CHECK(step->at_end);
  CHECK(KeysPresent(**db, 5) == 5);
  step = replayer.ApplyNext(*cursor);
  REQUIRE(step.ok());
  CHECK(step->applied == 0);
  CHECK(step->at_end);

  // A new writer fences (its fence continues the chain a window further on) and writes on;
  // the same cursor follows it. The cursor survives in the index too.
  WriteKeys(store, 5, 8);
  CHECK(engine::SegmentsAfter(*store, (*db)->applied_seq(), 1000).value() == 4);
  step = replayer.ApplyNext(*cursor);
  REQUIRE(step.ok());
  CHECK(step->applied == 4);  // the fence and three keys
  CHECK(step->at_end);
  CHECK(KeysPresent(**db, 8) == 8);
  auto again = replayer.CursorOfIndex(1);
  REQUIRE(again.ok());
  CHECK(again->next_seq == cursor->next_seq);
  CHECK(again->chain_epoch == cursor->chain_epoch);
  CHECK(engine::SegmentsAfter(*store, (*db)->applied_seq(), 1000).value() == 0);
}
