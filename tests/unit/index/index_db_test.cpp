// IndexDb: atomic Apply with applied_seq, reopen, Scan semantics, concurrent readers, and a
// process killed while applying.
#include "zerofs/index/index_db.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "index/rocksdb_status.h"
#include "index_test_util.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

using namespace zerofs;
using namespace zerofs::index;
using testing::Contents;
using testing::OpenDb;
using testing::TempDir;

namespace {

JournalRecord Puts(std::initializer_list<std::pair<std::string, std::string>> kvs) {
  JournalRecord r;
  for (const auto& [k, v] : kvs) r.ops.push_back(IndexOp::Put(k, v));
  return r;
}

std::optional<std::string> GetOrDie(const IndexDb& db, std::string_view key) {
  auto r = db.Get(key);
  REQUIRE(r.ok());
  return *r;
}

// Record `seq` of the crash test: moves a window of extents forward and sets a counter, so
// that any prefix of records leaves a state that names its own seq.
JournalRecord WindowRecord(std::uint64_t seq) {
  JournalRecord r;
  r.ops.push_back(IndexOp::Put(ExtentKey(1, seq), EncodeU64Value(seq)));
  if (seq > 5) r.ops.push_back(IndexOp::Delete(ExtentKey(1, seq - 5)));
  r.ops.push_back(IndexOp::Put(MetaKey("counter"), EncodeU64Value(seq)));
  return r;
}

void CheckWindowState(const IndexDb& db) {
  const std::uint64_t seq = db.applied_seq();
  const auto counter = GetOrDie(db, MetaKey("counter"));
  if (seq == 0) {
    CHECK_FALSE(counter.has_value());
    return;
  }
  REQUIRE(counter.has_value());
  CHECK(*DecodeU64Value(*counter) == seq);
  std::vector<std::uint64_t> extents;
  REQUIRE(db.Scan(ExtentPrefix(1), "", [&](std::string_view k, std::string_view) {
              extents.push_back(DecodeExtentKey(k)->extent_index);
              return true;
            }).ok());
  std::vector<std::uint64_t> expected;
  for (std::uint64_t s = seq > 5 ? seq - 4 : 1; s <= seq; ++s) expected.push_back(s);
  CHECK(extents == expected);
}

}  // namespace

TEST_CASE("a new index is empty at applied seq 0", "[index][db]") {
  TempDir tmp;
  auto db = OpenDb(tmp.path() / "db");
  CHECK(db->applied_seq() == 0);
  CHECK_FALSE(GetOrDie(*db, InodeKey(1)).has_value());
  CHECK(Contents(*db).empty());
}

TEST_CASE("apply writes every op and applied_seq, reopen keeps both", "[index][db]") {
  TempDir tmp;
  const auto dir = tmp.path() / "db";
  {
    auto db = OpenDb(dir);
    REQUIRE(db->Apply(Puts({{InodeKey(1), "one"}, {InodeKey(2), "two"}}), 1).ok());
    CHECK(db->applied_seq() == 1);
    JournalRecord r;
    r.ops.push_back(IndexOp::Delete(InodeKey(1)));
    r.ops.push_back(IndexOp::Put(InodeKey(3), "three"));
    REQUIRE(db->Apply(r, 4).ok());  // seqs may skip (void segments)
    CHECK(db->applied_seq() == 4);
    REQUIRE(db->Apply({}, 5).ok());  // a fence segment carries an empty record
    CHECK(db->applied_seq() == 5);
  }
  auto db = OpenDb(dir);
  CHECK(db->applied_seq() == 5);
  CHECK_FALSE(GetOrDie(*db, InodeKey(1)).has_value());
  CHECK(GetOrDie(*db, InodeKey(2)) == "two");
  CHECK(GetOrDie(*db, InodeKey(3)) == "three");
  CHECK(GetOrDie(*db, MetaKey("applied_seq")) == EncodeU64Value(5));
}

TEST_CASE("ops of one record apply in order", "[index][db]") {
  TempDir tmp;
  auto db = OpenDb(tmp.path());
  JournalRecord r;
  r.ops.push_back(IndexOp::Put(InodeKey(1), "a"));
  r.ops.push_back(IndexOp::Delete(InodeKey(1)));
  r.ops.push_back(IndexOp::Delete(InodeKey(2)));
  r.ops.push_back(IndexOp::Put(InodeKey(2), "b"));
  r.ops.push_back(IndexOp::Put(InodeKey(3), "c"));
  r.ops.push_back(IndexOp::Put(InodeKey(3), "d"));
  REQUIRE(db->Apply(r, 1).ok());
  CHECK_FALSE(GetOrDie(*db, InodeKey(1)).has_value());
  CHECK(GetOrDie(*db, InodeKey(2)) == "b");
  CHECK(GetOrDie(*db, InodeKey(3)) == "d");
}

TEST_CASE("a refused apply writes nothing", "[index][db]") {
  TempDir tmp;
  auto db = OpenDb(tmp.path());
  REQUIRE(db->Apply(Puts({{InodeKey(1), "a"}}), 10).ok());
  const auto before = Contents(*db);

  // Not after the applied seq.
  CHECK(db->Apply(Puts({{InodeKey(2), "b"}}), 10).code() == StatusCode::kInvalidArgument);
  CHECK(db->Apply(Puts({{InodeKey(2), "b"}}), 3).code() == StatusCode::kInvalidArgument);
  // One bad op spoils the record: the valid ops before it are not written either.
  JournalRecord bad = Puts({{InodeKey(2), "b"}, {"not a key", "x"}});
  CHECK(db->Apply(bad, 11).code() == StatusCode::kInvalidArgument);
  CHECK(db->Apply(Puts({{MetaKey("applied_seq"), EncodeU64Value(99)}}), 11).code() ==
        StatusCode::kInvalidArgument);
  CHECK(db->applied_seq() == 10);
  CHECK(Contents(*db) == before);
}

TEST_CASE("scan visits one prefix, strictly after start_after, until told to stop", "[index][db]") {
  TempDir tmp;
  auto db = OpenDb(tmp.path());
  JournalRecord r;
  for (std::uint64_t idx : {0ULL, 1ULL, 2ULL, 255ULL, 256ULL, 1ULL << 40}) {
    r.ops.push_back(IndexOp::Put(ExtentKey(7, idx), "e" + std::to_string(idx)));
    r.ops.push_back(IndexOp::Put(ExtentKey(6, idx), "other"));
    r.ops.push_back(IndexOp::Put(ExtentKey(8, idx), "other"));
  }
  r.ops.push_back(IndexOp::Put(ExtentKey(UINT64_MAX, 0), "last0"));
  r.ops.push_back(IndexOp::Put(ExtentKey(UINT64_MAX, UINT64_MAX), "last1"));
  r.ops.push_back(IndexOp::Put(SegmentUsageKey(1), EncodeSegmentUsage({})));
  REQUIRE(db->Apply(r, 1).ok());

  const auto scan = [&](const std::string& prefix, const std::string& start_after,
                        std::size_t limit = 1000) {
    std::vector<std::string> keys;
    REQUIRE(db->Scan(prefix, start_after, [&](std::string_view k, std::string_view) {
                keys.emplace_back(k);
                return keys.size() < limit;
              }).ok());
    return keys;
  };
  const std::vector<std::string> all7 = {ExtentKey(7, 0),   ExtentKey(7, 1),
                                         ExtentKey(7, 2),   ExtentKey(7, 255),
                                         ExtentKey(7, 256), ExtentKey(7, 1ULL << 40)};
  CHECK(scan(ExtentPrefix(7), "") == all7);
  // Strictly after an existing key; after a key that does not exist; before the prefix.
  CHECK(scan(ExtentPrefix(7), ExtentKey(7, 2)) ==
        std::vector<std::string>(all7.begin() + 3, all7.end()));
  CHECK(scan(ExtentPrefix(7), ExtentKey(7, 100)) ==
        std::vector<std::string>(all7.begin() + 3, all7.end()));
  CHECK(scan(ExtentPrefix(7), ExtentKey(6, 5)) == all7);
  CHECK(scan(ExtentPrefix(7), ExtentKey(7, 1ULL << 40)).empty());
  CHECK(scan(ExtentPrefix(7), ExtentKey(9, 0)).empty());
  // Early stop.
  CHECK(scan(ExtentPrefix(7), "", 2) == std::vector<std::string>(all7.begin(), all7.begin() + 2));
  // A prefix of 0xff bytes has no successor; the scan still ends at the prefix.
  CHECK(scan(ExtentPrefix(UINT64_MAX), "") ==
        std::vector<std::string>{ExtentKey(UINT64_MAX, 0), ExtentKey(UINT64_MAX, UINT64_MAX)});
  CHECK(scan(ExtentPrefix(5), "").empty());
  // Whole tables, and everything.
  CHECK(scan(TablePrefix(IndexTable::kExtent), "").size() == 3 * 6 + 2);
  CHECK(scan("", "").size() == 3 * 6 + 2 + 1 + 1);  // + segment usage + applied_seq
}

TEST_CASE("readers see whole records while one thread applies", "[index][db]") {
  TempDir tmp;
  auto db = OpenDb(tmp.path(), {.block_cache_bytes = 1 << 20, .write_buffer_bytes = 64 << 10});
  constexpr std::uint64_t kRecords = 400;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t seq = 1; seq <= kRecords; ++seq) {
      JournalRecord r;
      // Both keys always hold the same value: a torn record would show two.
      r.ops.push_back(IndexOp::Put(InodeKey(1), EncodeU64Value(seq)));
      r.ops.push_back(IndexOp::Put(InodeKey(2), EncodeU64Value(seq)));
      r.ops.push_back(
          IndexOp::Put(XattrKey(3, "user.k" + std::to_string(seq)), std::string(500, 'v')));
      if (!db->Apply(r, seq).ok()) break;
      if (seq % 100 == 0 && !db->Flush().ok()) break;
    }
    done = true;
  });
  std::vector<std::thread> readers;
  std::atomic<int> torn{0};
  std::atomic<int> errors{0};
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        const std::uint64_t seen_seq = db->applied_seq();
        std::vector<std::string> values;
        const Status s = db->Scan(TablePrefix(IndexTable::kInode), "",
                                  [&](std::string_view, std::string_view v) {
                                    values.emplace_back(v);
                                    return true;
                                  });
        if (!s.ok()) ++errors;
        if (values.size() == 2) {
          if (values[0] != values[1]) ++torn;
          // applied_seq is published after the write: the data is at least that new.
          if (*DecodeU64Value(values[0]) < seen_seq) ++torn;
        }
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  CHECK(torn == 0);
  CHECK(errors == 0);
  CHECK(db->applied_seq() == kRecords);
}

// The writer of the crash test, run in a fresh process (the test binary re-executed, so it
// holds no threads or RocksDB state of the parent): applies records until it is killed.
// Hidden ("[.]"): it does something only with the environment the parent sets.
TEST_CASE("crash test writer", "[.][index-crash-writer]") {
  const char* dir = std::getenv("ZEROFS_INDEX_CRASH_DIR");
  const char* fd_text = std::getenv("ZEROFS_INDEX_CRASH_FD");
  if (dir == nullptr || fd_text == nullptr) return;
  const int started_fd = std::atoi(fd_text);
  auto db = IndexDb::Open(dir, {});
  REQUIRE(db.ok());
  for (std::uint64_t seq = 1; seq < 100'000'000; ++seq) {
    REQUIRE((*db)->Apply(WindowRecord(seq), seq).ok());
    if (seq == 50) {
      const char c = 's';
      REQUIRE(::write(started_fd, &c, 1) == 1);
    }
    if (seq % 3000 == 0) REQUIRE((*db)->Flush().ok());
  }
}

TEST_CASE("a process killed while applying leaves the index at some applied seq",
          "[index][db][crash]") {
  std::mt19937 rng(Catch::rngSeed());
  for (int round = 0; round < 3; ++round) {
    TempDir tmp;
    const auto dir = tmp.path() / "db";
    int started[2];
    REQUIRE(::pipe(started) == 0);
    // Everything the child needs is built before fork: after it, only exec.
    std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string filter = "[index-crash-writer]";
    std::vector<std::string> env_strings = {"ZEROFS_INDEX_CRASH_DIR=" + dir.string(),
                                            "ZEROFS_INDEX_CRASH_FD=" + std::to_string(started[1])};
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    std::vector<char*> env;
    for (std::string& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    char* argv[] = {exe.data(), filter.data(), nullptr};
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(started[0]);
      ::execve(exe.c_str(), argv, env.data());
      ::_exit(127);
    }
    ::close(started[1]);
    char c = 0;
    const ssize_t got = ::read(started[0], &c, 1);
    ::close(started[0]);
    if (got != 1) {
      INFO("the writer exited before applying 50 records: " << testing::WaitChild(child));
      FAIL();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 300));
    ::kill(child, SIGKILL);
    CHECK(testing::WaitChild(child) == 128 + SIGKILL);

    auto db = OpenDb(dir);
    INFO("round " << round << ": applied seq after the kill " << db->applied_seq());
    CHECK(db->applied_seq() >= 50);
    CheckWindowState(*db);
    // Replay continues from there.
    const std::uint64_t next = db->applied_seq() + 1;
    REQUIRE(db->Apply(WindowRecord(next), next).ok());
    CheckWindowState(*db);
  }
}

TEST_CASE("read-only open refuses writes and a missing database", "[index][db]") {
  TempDir tmp;
  const auto dir = tmp.path() / "db";
  CHECK(IndexDb::Open(dir, {.read_only = true}).status().code() == StatusCode::kNotFound);
  {
    auto db = OpenDb(dir);
    REQUIRE(db->Apply(Puts({{InodeKey(1), "a"}}), 1).ok());
  }
  auto db = OpenDb(dir, {.read_only = true});
  CHECK(db->applied_seq() == 1);
  CHECK(GetOrDie(*db, InodeKey(1)) == "a");
  CHECK(db->Apply(Puts({{InodeKey(2), "b"}}), 2).code() == StatusCode::kNotSupported);
}

TEST_CASE("a second writer on the same directory is refused, destroy wipes it", "[index][db]") {
  TempDir tmp;
  const auto dir = tmp.path() / "db";
  {
    auto db = OpenDb(dir);
    REQUIRE(db->Apply(Puts({{InodeKey(1), "a"}}), 1).ok());
    const auto second = IndexDb::Open(dir, {});
    CHECK(second.status().code() == StatusCode::kIoError);
  }
  REQUIRE(IndexDb::Destroy(dir).ok());
  CHECK_FALSE(std::filesystem::exists(dir));
  CHECK(IndexDb::Destroy(dir).ok());
  auto db = OpenDb(dir);
  CHECK(db->applied_seq() == 0);
  CHECK(Contents(*db).empty());
}

TEST_CASE("rocksdb errors map to actionable codes", "[index][db]") {
  CHECK(FromRocksDb(rocksdb::Status::OK(), "x").ok());
  CHECK(FromRocksDb(rocksdb::Status::Corruption("bad block"), "get").code() ==
        StatusCode::kCorruption);
  CHECK(FromRocksDb(rocksdb::Status::IOError("read failed"), "get").code() == StatusCode::kIoError);
  CHECK(FromRocksDb(rocksdb::Status::NoSpace("disk full"), "put").code() == StatusCode::kNoSpace);
  CHECK(FromRocksDb(rocksdb::Status::NotFound(), "get").code() == StatusCode::kNotFound);
  CHECK(FromRocksDb(rocksdb::Status::Busy(), "put").code() == StatusCode::kUnavailable);
  CHECK(FromRocksDb(rocksdb::Status::ShutdownInProgress(), "put").code() == StatusCode::kCancelled);
  const Status s = FromRocksDb(rocksdb::Status::Corruption("bad block"), "index get");
  CHECK(s.message().find("index get") != std::string::npos);
  CHECK(s.message().find("bad block") != std::string::npos);
}
