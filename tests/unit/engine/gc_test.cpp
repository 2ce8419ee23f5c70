// The collector: live-byte accounting on every path that drops data, background dropping of
// large files, compaction (and its race with concurrent writes), deletion rules, space stats.
#include <thread>

#include "gc_support.h"

using namespace zerofs;
using engine::Transaction;
using testing::CheckUsageMatchesExtentMap;
using testing::GcTestOptions;
using testing::OpenVolume;
using testing::TempDir;

namespace {

constexpr std::uint64_t kExtent = 32768;

engine::GcRunOptions DryRun() {
  engine::GcRunOptions o;
  o.dry_run = true;
  return o;
}

engine::GcRunOptions Run(bool snapshot, bool wait_for_grace) {
  engine::GcRunOptions o;
  o.snapshot = snapshot;
  o.wait_for_grace = wait_for_grace;
  return o;
}

std::string Filled(std::size_t n, char c) {
  return std::string(n, c);
}

// Writes `extents` full extents of distinct content to `ino`, one transaction.
std::string WriteExtents(engine::Volume& v, std::uint64_t ino, std::uint64_t extents, char tag) {
  std::string data;
  for (std::uint64_t i = 0; i < extents; ++i) {
    data += Filled(kExtent, static_cast<char>(tag + static_cast<char>(i % 50)));
  }
  Transaction t;
  t.Write(ino, 0, data);
  REQUIRE(v.Commit(t).ok());
  return data;
}

// `rounds` segments, each holding 3 extents appended to file 1 (in `a`) and 1 to file 2 (in
// `b`); then all of file 1 is overwritten, leaving each of those segments a quarter live.
void WriteInterleavedThenOverwrite(engine::Volume& v, int rounds, std::mt19937_64& rng,
                                   std::string& a, std::string& b) {
  for (int round = 0; round < rounds; ++round) {
    Transaction t;
    const std::string pa = testing::RandomBytes(rng, 3 * kExtent);
    const std::string pb = testing::RandomBytes(rng, kExtent);
    t.Write(1, a.size(), pa);
    t.Write(2, b.size(), pb);
    a += pa;
    b += pb;
    auto pos = v.Commit(t);
    REQUIRE(pos.ok());
    REQUIRE(v.Sync(*pos).ok());  // one segment per round
  }
  Transaction t;
  a = testing::RandomBytes(rng, a.size());
  t.Write(1, 0, a);
  REQUIRE(v.Commit(t).ok());
  REQUIRE(v.SyncAll().ok());
}

}  // namespace

TEST_CASE("every path that drops data debits the segment's live bytes in the same commit") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto v = OpenVolume(GcTestOptions(store, cache.path()));
  WriteExtents(*v, 5, 8, 'a');
  WriteExtents(*v, 6, 8, 'k');
  WriteExtents(*v, 7, 8, 'u');
  CheckUsageMatchesExtentMap(*v);

  SECTION("overwrite") {
    Transaction t;
    t.Write(5, kExtent, Filled(2 * kExtent + 10, 'Z'));  // two whole extents, one partial
    REQUIRE(v->Commit(t).ok());
  }
  SECTION("truncate") {
    Transaction t;
    t.Truncate(5, 8 * kExtent, 3 * kExtent + 7);
    REQUIRE(v->Commit(t).ok());
  }
  SECTION("zero range (punch hole, TRIM)") {
    Transaction t;
    t.ZeroRange(6, kExtent / 2, 4 * kExtent);
    REQUIRE(v->Commit(t).ok());
  }
  SECTION("drop of a deleted file's data (small: in the same transaction)") {
    Transaction t;
    t.Delete(index::MetaKey("file7"));
    t.DropData(7);
    REQUIRE(v->Commit(t).ok());
    REQUIRE(v->SyncAll().ok());
    CHECK(testing::StoredExtents(*v, 7) == 0);
    CHECK_FALSE(testing::PendingDrop(*v, 7));
  }
  SECTION("overwrite of extents still in flight, then of committed ones") {
    WriteExtents(*v, 8, 4, 'q');
    WriteExtents(*v, 8, 4, 'r');
    REQUIRE(v->SyncAll().ok());
    WriteExtents(*v, 8, 2, 's');
  }
  CheckUsageMatchesExtentMap(*v);
  auto space = v->SpaceUsage();
  REQUIRE(space.ok());
  CHECK(space->live_bytes > 0);
  CHECK(space->stored_bytes > space->live_bytes);
  CHECK(space->segment_count >= 3);
  REQUIRE(v->Close().ok());
}

TEST_CASE("a large file's data is dropped in bounded rounds, resumed after a reopen") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto options = GcTestOptions(store, cache.path());
  options.gc.drop_extents_per_round = 300;
  constexpr std::uint64_t kIno = 9;
  constexpr std::uint64_t kExtents = 2000;  // more than a transaction drops at once
  {
    auto v = OpenVolume(options);
    // Small extents keep the test quick: one byte at the start of each.
    for (std::uint64_t first = 0; first < kExtents; first += 500) {
      Transaction t;
      for (std::uint64_t i = first; i < first + 500; ++i) t.Write(kIno, i * kExtent, "x");
      REQUIRE(v->Commit(t).ok());
    }
    WriteExtents(*v, 10, 3, 'k');  // a neighbour that must survive
    REQUIRE(v->SyncAll().ok());
    REQUIRE(testing::StoredExtents(*v, kIno) == kExtents);

    Transaction del;
    del.Delete(index::MetaKey("big"));
    del.DropData(kIno);
    auto pos = v->Commit(del);
    REQUIRE(pos.ok());
    REQUIRE(v->Sync(*pos).ok());
    // Committed at once, the data still there: the collector has not run (no background).
    CHECK(testing::PendingDrop(*v, kIno));
    CHECK(testing::StoredExtents(*v, kIno) == kExtents);
    auto space = v->SpaceUsage();
    REQUIRE(space.ok());
    CHECK(space->pending_drops == 1);
    REQUIRE(v->Close().ok());
  }
  {
    // After a restart the record is still there, and a run finishes the job.
    auto v = OpenVolume(options);
    CHECK(testing::PendingDrop(*v, kIno));
    const auto before = v->stats().durable_seq;
    auto stats = v->RunGc({});
    REQUIRE(stats.ok());
    CHECK(stats->files_dropped == 1);
    CHECK(stats->extents_dropped == kExtents);
    // One commit per round of at most 300 extents, plus the last that removes the record.
    CHECK(v->stats().durable_seq - before >= (kExtents + 299) / 300 + 1);
    CHECK(testing::StoredExtents(*v, kIno) == 0);
    CHECK_FALSE(testing::PendingDrop(*v, kIno));
    CHECK(testing::StoredExtents(*v, 10) == 3);
    CheckUsageMatchesExtentMap(*v);
    REQUIRE(v->Close().ok());
  }
}

TEST_CASE("the background collector drops a deleted file's data without being asked") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto options = GcTestOptions(store, cache.path());
  options.gc.background = true;
  options.gc.interval = std::chrono::milliseconds(3600 * 1000);  // only the drop wakes it
  options.gc.drop_extents_per_round = 500;
  auto v = OpenVolume(options);
  Transaction t;
  for (std::uint64_t i = 0; i < 1500; ++i) t.Write(3, i * kExtent, "y");
  REQUIRE(v->Commit(t).ok());
  REQUIRE(v->SyncAll().ok());
  Transaction del;
  del.DropData(3);
  REQUIRE(v->Commit(del).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((testing::PendingDrop(*v, 3) || testing::StoredExtents(*v, 3) > 0) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(testing::PendingDrop(*v, 3));
  CHECK(testing::StoredExtents(*v, 3) == 0);
  CheckUsageMatchesExtentMap(*v);
  REQUIRE(v->Close().ok());
}

TEST_CASE("compaction rewrites sparse segments and deletes them, the data reads back the same") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto options = GcTestOptions(store, cache.path());
  options.gc.small_segment_bytes = 0;  // only sparseness counts here
  auto v = OpenVolume(options);
  std::mt19937_64 rng(7);
  std::string a, b;
  WriteInterleavedThenOverwrite(*v, 4, rng, a, b);
  // The four interleaved segments come right before the overwrite's.
  const auto first_data_seq = v->stats().durable_seq - 4;
  for (std::uint64_t seq = first_data_seq; seq < first_data_seq + 4; ++seq) {
    INFO("segment " << seq);
    REQUIRE(testing::SegmentExists(*store, seq));  // the four interleaved segments
  }
  CheckUsageMatchesExtentMap(*v);
  auto before = v->SpaceUsage();
  REQUIRE(before.ok());

  auto dry = v->RunGc(DryRun());
  REQUIRE(dry.ok());
  CHECK(dry->segments_compacted == 4);
  CHECK(dry->segments_deleted == 0);  // nothing yet: no snapshot covers them

  std::vector<engine::GcProgress> seen;
  auto stats = v->RunGc({}, [&](const engine::GcProgress& p) { seen.push_back(p); });
  REQUIRE(stats.ok());
  CHECK(stats->segments_compacted == 4);
  CHECK(stats->extents_rewritten == 4);
  CHECK(stats->segments_deleted >= 4);
  CHECK(stats->bytes_freed > 0);
  CHECK_FALSE(seen.empty());
  for (std::uint64_t seq = first_data_seq; seq < first_data_seq + 4; ++seq) {
    INFO("segment " << seq);
    CHECK_FALSE(testing::SegmentExists(*store, seq));
  }
  CheckUsageMatchesExtentMap(*v);
  CHECK(*v->Read(1, 0, a.size()) == a);
  CHECK(*v->Read(2, 0, b.size()) == b);
  auto after = v->SpaceUsage();
  REQUIRE(after.ok());
  CHECK(after->stored_bytes < before->stored_bytes);
  CHECK(after->live_bytes == before->live_bytes);
  CHECK(v->stats().gc_segments_deleted == stats->segments_deleted);
  REQUIRE(v->Close().ok());

  // Everything is still there for a fresh machine (index from the snapshot + journal).
  TempDir other;
  auto reopened = OpenVolume(GcTestOptions(store, other.path()));
  CHECK(*reopened->Read(1, 0, a.size()) == a);
  CHECK(*reopened->Read(2, 0, b.size()) == b);
  CheckUsageMatchesExtentMap(*reopened);
}

TEST_CASE("compaction moves an extent only if the map still points at the old place") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto v = OpenVolume(GcTestOptions(store, cache.path()));
  std::string file = WriteExtents(*v, 4, 8, 'a');
  REQUIRE(v->SyncAll().ok());
  WriteExtents(*v, 5, 8, 'A');  // the sparse victim: overwritten below
  REQUIRE(v->SyncAll().ok());
  {
    // Make the first segment sparse: most of inode 4 is rewritten elsewhere.
    Transaction t;
    t.Write(4, 0, Filled(6 * kExtent, 'p'));
    file.replace(0, 6 * kExtent, Filled(6 * kExtent, 'p'));
    REQUIRE(v->Commit(t).ok());
    REQUIRE(v->SyncAll().ok());
  }
  // While compaction has read extents 6 and 7 of inode 4 from the sparse segment, a write
  // replaces extent 6 (committed and durable: the index moves) and a truncate drops 7
  // (still in flight). Neither may be undone by the relocation.
  engine::GcRunOptions run;
  int calls = 0;
  run.before_relocate_commit = [&] {
    if (calls++ > 0) return;
    Transaction w;
    w.Write(4, 6 * kExtent, Filled(kExtent, 'W'));
    auto pos = v->Commit(w);
    REQUIRE(pos.ok());
    REQUIRE(v->Sync(*pos).ok());
    Transaction tr;
    tr.Truncate(4, 8 * kExtent, 7 * kExtent);
    REQUIRE(v->Commit(tr).ok());
  };
  auto stats = v->RunGc(run);
  REQUIRE(stats.ok());
  CHECK(calls >= 1);
  CHECK(stats->segments_compacted >= 1);
  file.replace(6 * kExtent, kExtent, Filled(kExtent, 'W'));
  file.resize(7 * kExtent);
  CHECK(*v->Read(4, 0, 8 * kExtent) == file + std::string(kExtent, '\0'));
  CheckUsageMatchesExtentMap(*v);
  REQUIRE(v->Close().ok());
  TempDir other;
  auto reopened = OpenVolume(GcTestOptions(store, other.path()));
  CHECK(*reopened->Read(4, 0, 8 * kExtent) == file + std::string(kExtent, '\0'));
}

TEST_CASE("small segments are merged, one alone is left as it is") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto v = OpenVolume(GcTestOptions(store, cache.path()));
  std::string data;
  for (int i = 0; i < 6; ++i) {
    Transaction t;
    const std::string piece = Filled(kExtent, static_cast<char>('a' + i));
    t.Write(1, data.size(), piece);
    data += piece;
    auto pos = v->Commit(t);
    REQUIRE(pos.ok());
    REQUIRE(v->Sync(*pos).ok());  // six tiny segments (fsync-heavy workload)
  }
  auto before = v->SpaceUsage();
  REQUIRE(before.ok());
  auto stats = v->RunGc({});
  REQUIRE(stats.ok());
  CHECK(stats->segments_compacted == 6);
  CHECK(stats->segments_deleted >= 6);
  CHECK(*v->Read(1, 0, data.size()) == data);
  auto after = v->SpaceUsage();
  REQUIRE(after.ok());
  CHECK(after->segment_count < before->segment_count);
  auto again = v->RunGc({});
  REQUIRE(again.ok());
  CHECK(again->segments_compacted == 0);  // the merged segment stays
  CheckUsageMatchesExtentMap(*v);
}

TEST_CASE("dead segments wait for the grace period, journal segments are never deleted") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto options = GcTestOptions(store, cache.path());
  options.gc.deletion_grace = std::chrono::milliseconds(400);
  auto v = OpenVolume(options);
  WriteExtents(*v, 1, 4, 'a');
  REQUIRE(v->SyncAll().ok());
  const auto victim = v->stats().durable_seq;
  WriteExtents(*v, 1, 4, 'b');  // victim now holds nothing live
  REQUIRE(v->SyncAll().ok());

  // Without a snapshot, the victim is part of the journal recovery replays.
  auto journal = v->RunGc(Run(false, false));
  REQUIRE(journal.ok());
  CHECK(journal->segments_kept_by_journal >= 1);
  CHECK(testing::SegmentExists(*store, victim));

  auto early = v->RunGc(Run(true, false));
  REQUIRE(early.ok());
  CHECK(early->segments_kept_by_grace >= 1);
  CHECK(testing::SegmentExists(*store, victim));

  const auto start = std::chrono::steady_clock::now();
  auto waited = v->RunGc({});
  REQUIRE(waited.ok());
  CHECK(waited->segments_deleted >= 1);
  CHECK_FALSE(testing::SegmentExists(*store, victim));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(*v->Read(1, 0, 4 * kExtent) == WriteExtents(*v, 2, 4, 'b'));
}

TEST_CASE("a read-only volume refuses to collect but can report") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  {
    auto v = OpenVolume(GcTestOptions(store, cache.path()));
    WriteExtents(*v, 1, 2, 'a');
    REQUIRE(v->Close().ok());
  }
  TempDir other;
  auto options = GcTestOptions(store, other.path());
  options.mode = engine::OpenMode::kReadOnly;
  auto ro = OpenVolume(options);
  CHECK(ro->RunGc({}).status().code() == StatusCode::kCancelled);
  CHECK(ro->RunGc(DryRun()).ok());
  auto space = ro->SpaceUsage();
  REQUIRE(space.ok());
  CHECK(space->live_bytes > 0);
}

TEST_CASE("a paced compaction rewrites no faster than its bandwidth budget allows") {
  auto store = std::make_shared<objstore::MemoryStore>();
  testing::InitVolume(*store);
  TempDir cache;
  auto options = GcTestOptions(store, cache.path());
  options.gc.small_segment_bytes = 0;
  auto v = OpenVolume(options);
  std::mt19937_64 rng(11);
  // Eight segments, each with one extent that stays live and three that are overwritten.
  std::string a, b;
  WriteInterleavedThenOverwrite(*v, 8, rng, a, b);
  engine::GcRunOptions paced;
  paced.rewrite_bytes_per_second = 512 * 1024;
  paced.max_busy_percent = 50;
  const auto start = std::chrono::steady_clock::now();
  auto stats = v->RunGc(paced);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(stats.ok());
  CHECK(stats->segments_compacted == 8);
  REQUIRE(stats->bytes_rewritten >= 8 * kExtent);
  // A lower bound only: the collector slept at least until bytes / rate had passed.
  CHECK(seconds >= static_cast<double>(stats->bytes_rewritten) / (512.0 * 1024.0) * 0.95);
  CheckUsageMatchesExtentMap(*v);
  CHECK(*v->Read(1, 0, a.size()) == a);
  CHECK(*v->Read(2, 0, b.size()) == b);
  REQUIRE(v->Close().ok());
}
