// IndexDb: the committed metadata index of a volume, a RocksDB database in the local cache
// directory.
//
// It holds exactly the effect of the journal records of segments 1..applied_seq() (minus
// void ones): Apply() writes one record's operations together with meta applied_seq = seq in
// one atomic, write-ahead-logged WriteBatch, so after a crash the database is at some
// applied seq and recovery replays from applied_seq() + 1. Its keys and values are those of
// keys.h and records.h; IndexDb itself stores bytes and does not interpret them.
//
// The database is only a cache of the bucket: the snapshot named by `root` plus the journal
// rebuild it (snapshot.h), so writes are not fsynced; power loss costs at most a longer
// replay. Every rocksdb::Status is converted at this boundary (corruption -> kCorruption,
// I/O -> kIoError, no space -> kNoSpace, ...).
//
// Thread-safety: Get, Scan and applied_seq may run concurrently with each other and with
// one thread calling Apply / Flush / CreateCheckpoint (these serialize on an internal
// mutex). Open and Destroy are not safe against another IndexDb on the same directory
// (RocksDB's LOCK file refuses a second writer in any process).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/index/journal.h"

namespace rocksdb {
class DB;
class Cache;
}  // namespace rocksdb

namespace zerofs::index {

struct IndexDbOptions {
  // Shared LRU cache of uncompressed SST blocks (index and filter blocks included, so this
  // bounds the memory reads use).
  std::uint64_t block_cache_bytes = 64ULL << 20;
  // The memtable size; also about the size of a freshly flushed SST.
  std::uint64_t write_buffer_bytes = 32ULL << 20;
  // Target size of compacted SSTs. Snapshots seal each SST in memory, so keep this moderate
  // (format::kMaxIndexFileBytes is the hard limit a reader accepts).
  std::uint64_t target_file_bytes = 32ULL << 20;
  // Open with RocksDB's read-only mode (inspection, fsck): Apply and Flush fail with
  // kNotSupported, a missing database is kNotFound.
  bool read_only = false;
};

class IndexDb {
 public:
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;

  // Opens the database in `dir`, creating the directory and an empty database (applied
  // seq 0) if missing, unless read_only.
  static Result<std::unique_ptr<IndexDb>> Open(const std::filesystem::path& dir,
                                               const IndexDbOptions& options);

  // Removes the database in `dir` and everything else in that directory. The database must
  // not be open. A missing directory is OK.
  static Status Destroy(const std::filesystem::path& dir);

  ~IndexDb();
  IndexDb(const IndexDb&) = delete;
  IndexDb& operator=(const IndexDb&) = delete;

  // The value of `key`, or nullopt if absent.
  Result<std::optional<std::string>> Get(std::string_view key) const;

  // Visits, in key order, the keys that start with `prefix` and sort strictly after
  // `start_after` (a whole key, typically the last one a previous scan visited; empty: from
  // the first key with the prefix). Stops early when `visit` returns false. The visit sees
  // one consistent point in time; the views are valid only during the call.
  Status Scan(std::string_view prefix, std::string_view start_after, const Visitor& visit) const;

  // Applies every op of `record` in order, and sets applied_seq to `seq`, atomically.
  // kInvalidArgument if `seq` <= applied_seq() or the record is invalid
  // (ValidateJournalRecord); nothing is written then.
  Status Apply(const JournalRecord& record, std::uint64_t seq);

  // The seq of the last applied record (0 for a new database).
  std::uint64_t applied_seq() const { return applied_seq_.load(std::memory_order_acquire); }

  // Writes the memtable to SST files (and waits for it).
  Status Flush();

  // A consistent, openable copy of the database in `checkpoint_dir` (which must not exist,
  // and must be on the same file system so that SSTs are hard links), with the memtable
  // flushed so that the copy is SST files plus small metadata files. Returns the applied seq
  // of the copy. Blocks Apply only for the final, small flush.
  Result<std::uint64_t> CreateCheckpoint(const std::filesystem::path& checkpoint_dir);

  const std::filesystem::path& dir() const { return dir_; }
  bool read_only() const { return read_only_; }

 private:
  IndexDb(std::filesystem::path dir, bool read_only, std::shared_ptr<rocksdb::Cache> cache,
          std::unique_ptr<rocksdb::DB> db, std::uint64_t applied_seq);

  const std::filesystem::path dir_;
  const bool read_only_;
  std::shared_ptr<rocksdb::Cache> cache_;  // outlives db_ (declared first, destroyed last)
  std::unique_ptr<rocksdb::DB> db_;
  std::mutex apply_mu_;                     // serializes Apply, Flush and CreateCheckpoint
  std::atomic<std::uint64_t> applied_seq_;  // written under apply_mu_
};

}  // namespace zerofs::index
