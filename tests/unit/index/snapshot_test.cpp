// Index snapshots: upload, restore, incremental uploads, reuse of local files, consistency
// under concurrent applies, and deletion of unreferenced objects.
#include "zerofs/index/snapshot.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "index_test_util.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/index/snapshot_manifest.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/metered_store.h"

using namespace zerofs;
using namespace zerofs::index;
using testing::Contents;
using testing::OpenDb;
using testing::TempDir;
using testing::TestUuid;

namespace {

struct Bucket {
  std::shared_ptr<objstore::MemoryStore> memory = std::make_shared<objstore::MemoryStore>();
  objstore::MeteredStore store{memory};
  std::shared_ptr<const crypto::KeyRing> keys = testing::FixedKeys();
};

// Applies record `seq`: `count` inodes starting at `first`, with values tagged by `tag`.
void Fill(IndexDb& db, std::uint64_t seq, std::uint64_t first, std::uint64_t count,
          const std::string& tag) {
  JournalRecord r;
  for (std::uint64_t i = first; i < first + count; ++i) {
    r.ops.push_back(IndexOp::Put(InodeKey(i), tag + std::to_string(i) + std::string(100, 'p')));
  }
  REQUIRE(db.Apply(r, seq).ok());
}

SnapshotRef Upload(IndexDb& db, Bucket& bucket, SnapshotUploadState& state) {
  auto ref = UploadSnapshot(db, bucket.store, *bucket.keys, TestUuid(), state);
  INFO(ref.status().ToString());
  REQUIRE(ref.ok());
  return *ref;
}

RestoreStats Restore(Bucket& bucket, const SnapshotRef& ref, const std::filesystem::path& dir) {
  auto stats = RestoreSnapshot(bucket.store, *bucket.keys, TestUuid(), ref, dir);
  INFO(stats.status().ToString());
  REQUIRE(stats.ok());
  return *stats;
}

std::size_t SstFiles(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".sst") ++n;
  }
  return n;
}

std::vector<std::string> IndexObjects(Bucket& bucket) {
  const auto listed = bucket.memory->List("index/");
  REQUIRE(listed.ok());
  std::vector<std::string> keys;
  for (const auto& info : *listed) keys.push_back(info.key);
  return keys;
}

}  // namespace

TEST_CASE("a snapshot restores into a fresh directory with identical contents",
          "[index][snapshot]") {
  TempDir tmp;
  Bucket bucket;
  auto db = OpenDb(tmp.path() / "db");
  Fill(*db, 1, 1, 500, "a");
  REQUIRE(db->Flush().ok());
  Fill(*db, 2, 400, 500, "b");  // left in the memtable: the checkpoint must flush it
  SnapshotUploadState state;
  const SnapshotRef ref = Upload(*db, bucket, state);
  CHECK(ref.covers_seq == 2);
  CHECK(IsManifestObjectName(ref.manifest));
  CHECK(ref.manifest.starts_with("index/manifest-0000000000000002-"));
  CHECK(state.last_uploaded_files == 2);
  CHECK(state.files.size() == 2);
  CHECK(bucket.store.Snapshot().put_requests == 3);  // two SSTs and the manifest
  // No leftovers of the checkpoint in the database directory.
  for (const auto& e : std::filesystem::directory_iterator(tmp.path() / "db")) {
    CHECK_FALSE(e.is_directory());
  }

  const RestoreStats stats = Restore(bucket, ref, tmp.path() / "restored");
  CHECK(stats.covers_seq == 2);
  CHECK(stats.downloaded_files == 2);
  CHECK(stats.reused_files == 0);
  CHECK(stats.upload_state.files.size() == 2);
  auto restored = OpenDb(tmp.path() / "restored");
  CHECK(restored->applied_seq() == ref.covers_seq);
  CHECK(Contents(*restored) == Contents(*db));

  // The restored database carries on where the original was.
  Fill(*restored, 3, 1, 1, "c");
  CHECK(restored->applied_seq() == 3);
}

TEST_CASE("later snapshots upload only new SST files", "[index][snapshot]") {
  TempDir tmp;
  Bucket bucket;
  auto db = OpenDb(tmp.path() / "db");
  Fill(*db, 1, 1, 1000, "a");
  SnapshotUploadState state;
  Upload(*db, bucket, state);
  REQUIRE(state.last_uploaded_files == 1);

  // A small change: one new SST; the old one is neither read, hashed nor uploaded again.
  Fill(*db, 2, 5, 3, "b");
  bucket.store.Reset();
  const SnapshotRef second = Upload(*db, bucket, state);
  const auto meter = bucket.store.Snapshot();
  CHECK(state.last_uploaded_files == 1);
  CHECK(state.last_reused_files == 1);
  CHECK(meter.put_requests == state.last_uploaded_files + 1);
  CHECK(meter.get_requests == 0);

  // No change at all: only a new manifest.
  bucket.store.Reset();
  const SnapshotRef third = Upload(*db, bucket, state);
  CHECK(state.last_uploaded_files == 0);
  CHECK(bucket.store.Snapshot().put_requests == 1);
  CHECK(third.covers_seq == second.covers_seq);
  CHECK(third.manifest != second.manifest);

  // A fresh state (say, after a restart) finds the SSTs in the bucket and uploads none.
  SnapshotUploadState fresh;
  bucket.store.Reset();
  Upload(*db, bucket, fresh);
  CHECK(fresh.last_uploaded_files == 0);
  CHECK(fresh.last_reused_files == 2);
  CHECK(bucket.store.Snapshot().put_requests == 1);

  const RestoreStats stats = Restore(bucket, second, tmp.path() / "restored");
  auto restored = OpenDb(tmp.path() / "restored");
  CHECK(restored->applied_seq() == 2);
  CHECK(Contents(*restored) == Contents(*db));
  CHECK(stats.downloaded_files == 2);
}

TEST_CASE("restore downloads only what is missing or damaged", "[index][snapshot]") {
  TempDir tmp;
  Bucket bucket;
  auto db = OpenDb(tmp.path() / "db");
  Fill(*db, 1, 1, 300, "a");
  REQUIRE(db->Flush().ok());
  Fill(*db, 2, 1000, 300, "b");
  REQUIRE(db->Flush().ok());
  Fill(*db, 3, 2000, 300, "c");
  SnapshotUploadState state;
  const SnapshotRef ref = Upload(*db, bucket, state);
  const auto expected = Contents(*db);
  const std::size_t ssts = state.files.size();
  REQUIRE(ssts == 3);

  const auto dir = tmp.path() / "restored";
  Restore(bucket, ref, dir);

  SECTION("a directory that has every file downloads nothing") {
    bucket.store.Reset();
    const RestoreStats again = Restore(bucket, ref, dir);
    CHECK(again.downloaded_files == 0);
    CHECK(again.reused_files == ssts);
    CHECK(bucket.store.Snapshot().get_requests == 1);  // the manifest
  }
  SECTION("the original database's own directory, after it is closed") {
    db.reset();
    bucket.store.Reset();
    const RestoreStats again = Restore(bucket, ref, tmp.path() / "db");
    CHECK(again.downloaded_files == 0);
    CHECK(again.removed_files > 0);  // its write-ahead log, info log, LOCK, ...
    auto reopened = OpenDb(tmp.path() / "db");
    CHECK(reopened->applied_seq() == ref.covers_seq);
    CHECK(Contents(*reopened) == expected);
  }
  SECTION("a damaged file is fetched again and stale files are removed") {
    // Same size, one byte changed.
    std::filesystem::path victim;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".sst") victim = e.path();
    }
    {
      std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(10);
      f.put('\x5a');
    }
    // A write-ahead log of a database that went further: replaying it would be wrong.
    std::ofstream(dir / "000999.log") << "garbage";
    std::ofstream(dir / "999999.sst") << "garbage";
    const RestoreStats again = Restore(bucket, ref, dir);
    CHECK(again.downloaded_files == 1);
    CHECK(again.reused_files == ssts - 1);
    CHECK(again.removed_files >= 2);
    CHECK_FALSE(std::filesystem::exists(dir / "000999.log"));
    CHECK(SstFiles(dir) == ssts);
  }
  auto restored = OpenDb(dir);
  CHECK(restored->applied_seq() == ref.covers_seq);
  CHECK(Contents(*restored) == expected);
}

TEST_CASE("a snapshot taken while records are applied holds exactly covers_seq",
          "[index][snapshot]") {
  TempDir tmp;
  Bucket bucket;
  auto db = OpenDb(tmp.path() / "db", {.write_buffer_bytes = 256 << 10});
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    for (std::uint64_t seq = 1; !stop; ++seq) {
      JournalRecord r;
      r.ops.push_back(IndexOp::Put(InodeKey(1), EncodeU64Value(seq)));
      r.ops.push_back(IndexOp::Put(InodeKey(seq + 10), std::string(200, 'x')));
      if (!db->Apply(r, seq).ok()) {
        failed = true;
        return;
      }
    }
  });
  std::vector<SnapshotRef> refs;
  SnapshotUploadState state;
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    refs.push_back(Upload(*db, bucket, state));
  }
  stop = true;
  writer.join();
  REQUIRE_FALSE(failed);

  for (std::size_t i = 0; i < refs.size(); ++i) {
    const auto dir = tmp.path() / ("restored" + std::to_string(i));
    Restore(bucket, refs[i], dir);
    auto restored = OpenDb(dir);
    REQUIRE(restored->applied_seq() == refs[i].covers_seq);
    if (refs[i].covers_seq == 0) continue;
    auto value = restored->Get(InodeKey(1));
    REQUIRE(value.ok());
    REQUIRE(value->has_value());
    CHECK(*DecodeU64Value(**value) == refs[i].covers_seq);
    CHECK(restored->Get(InodeKey(refs[i].covers_seq + 10))->has_value());
    CHECK_FALSE(restored->Get(InodeKey(refs[i].covers_seq + 11))->has_value());
  }
}

TEST_CASE("objects no kept snapshot refers to are deleted", "[index][snapshot]") {
  TempDir tmp;
  Bucket bucket;
  const auto dir = tmp.path() / "db";
  SnapshotUploadState state_a;
  SnapshotRef a;
  {
    auto db = OpenDb(dir);
    Fill(*db, 1, 1, 200, "a");
    a = Upload(*db, bucket, state_a);
  }
  // A rebuilt database (different SSTs), as after a restore from an older state.
  REQUIRE(IndexDb::Destroy(dir).ok());
  SnapshotUploadState state_b;
  SnapshotRef b;
  SnapshotRef stray;
  {
    auto db = OpenDb(dir);
    Fill(*db, 5, 1, 200, "b");
    REQUIRE(db->Flush().ok());
    Fill(*db, 6, 300, 10, "b");
    b = Upload(*db, bucket, state_b);
    // An upload whose root swap never happened.
    Fill(*db, 7, 400, 10, "b");
    stray = Upload(*db, bucket, state_b);
  }
  REQUIRE(bucket.memory->Put("index/notes.txt", "not ours").ok());

  const auto objects_a = ListSnapshotObjects(bucket.store, *bucket.keys, TestUuid(), a);
  const auto objects_b = ListSnapshotObjects(bucket.store, *bucket.keys, TestUuid(), b);
  REQUIRE(objects_a.ok());
  REQUIRE(objects_b.ok());
  CHECK(objects_a->size() == 2);  // manifest + one SST
  CHECK(objects_b->size() == 3);  // manifest + two SSTs

  // A kept snapshot that cannot be read stops everything.
  SnapshotRef missing{"index/manifest-0000000000000009-00000000", 9};
  const std::size_t before = IndexObjects(bucket).size();
  CHECK(DeleteUnreferencedIndexObjects(bucket.store, *bucket.keys, TestUuid(), {b, missing})
            .status()
            .code() == StatusCode::kNotFound);
  CHECK(IndexObjects(bucket).size() == before);

  const auto deleted =
      DeleteUnreferencedIndexObjects(bucket.store, *bucket.keys, TestUuid(), {b}, &state_a);
  REQUIRE(deleted.ok());
  std::vector<std::string> expected_left = *objects_b;
  expected_left.push_back("index/notes.txt");
  std::sort(expected_left.begin(), expected_left.end());
  CHECK(IndexObjects(bucket) == expected_left);
  // A's objects, the stray manifest and the SST only it used are gone.
  for (const std::string& key : *objects_a) {
    CHECK(std::find(deleted->begin(), deleted->end(), key) != deleted->end());
  }
  CHECK(std::find(deleted->begin(), deleted->end(), stray.manifest) != deleted->end());
  CHECK(state_a.files.empty());

  CHECK(RestoreSnapshot(bucket.store, *bucket.keys, TestUuid(), a, tmp.path() / "ra")
            .status()
            .code() == StatusCode::kNotFound);
  Restore(bucket, b, tmp.path() / "rb");
  auto rb = OpenDb(tmp.path() / "rb");
  CHECK(rb->applied_seq() == 6);

  // Keeping nothing leaves only what is not ours.
  REQUIRE(DeleteUnreferencedIndexObjects(bucket.store, *bucket.keys, TestUuid(), {}).ok());
  CHECK(IndexObjects(bucket) == std::vector<std::string>{"index/notes.txt"});
}

TEST_CASE("a tampered snapshot does not restore", "[index][snapshot]") {
  TempDir tmp;
  Bucket bucket;
  auto db = OpenDb(tmp.path() / "db");
  Fill(*db, 1, 1, 100, "a");
  REQUIRE(db->Flush().ok());
  Fill(*db, 2, 200, 100, "b");
  SnapshotUploadState state;
  const SnapshotRef ref = Upload(*db, bucket, state);
  const auto objects = ListSnapshotObjects(bucket.store, *bucket.keys, TestUuid(), ref).value();
  REQUIRE(objects.size() == 3);
  const auto code = [&](const SnapshotRef& r) {
    return RestoreSnapshot(bucket.store, *bucket.keys, TestUuid(), r, tmp.path() / "out")
        .status()
        .code();
  };

  // The root and the manifest disagree about the seq.
  CHECK(code({ref.manifest, ref.covers_seq + 1}) == StatusCode::kCorruption);
  // Another volume's keys.
  CHECK(RestoreSnapshot(bucket.store, *testing::FixedKeys(3), TestUuid(), ref, tmp.path() / "o2")
            .status()
            .code() == StatusCode::kCorruption);
  // One SST object holding another's (validly sealed) bytes: the name is bound in.
  const std::string other = bucket.memory->Get(objects[2]).value().data;
  REQUIRE(bucket.memory->Put(objects[1], other).ok());
  CHECK(code(ref) == StatusCode::kCorruption);
  // The directory is not left looking like a database.
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "out" / "CURRENT"));
  CHECK(IndexDb::Open(tmp.path() / "out", {.read_only = true}).status().code() ==
        StatusCode::kNotFound);
}
