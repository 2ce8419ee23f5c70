#include "zerofs/index/index_db.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <system_error>
#include <vector>

#include "rocksdb_status.h"
#include "zerofs/common/log.h"
#include "zerofs/index/index_format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

namespace zerofs::index {
namespace {

rocksdb::Slice ToSlice(std::string_view s) {
  return {s.data(), s.size()};
}
std::string_view ToView(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

const std::string& AppliedSeqKey() {
  static const std::string key = MetaKey(format::kMetaAppliedSeq);
  return key;
}

bool Supports(const std::vector<rocksdb::CompressionType>& supported,
              rocksdb::CompressionType type) {
  return std::find(supported.begin(), supported.end(), type) != supported.end();
}

rocksdb::Options MakeOptions(const IndexDbOptions& o,
                             const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::Options options;
  options.create_if_missing = !o.read_only;
  options.create_missing_column_families = false;
  // A crash leaves the database at the last whole WriteBatch in the log: exactly some
  // applied seq.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.write_buffer_size = o.write_buffer_bytes;
  options.target_file_size_base = o.target_file_bytes;
  // Bounded resources: open table readers, info-log files, and a MANIFEST that rolls over
  // while small, because every snapshot embeds it.
  options.max_open_files = 1024;
  options.keep_log_file_num = 4;
  options.max_log_file_size = 4ULL << 20;
  options.max_manifest_file_size = 4ULL << 20;
  options.IncreaseParallelism(2);

  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  options.compression = Supports(supported, rocksdb::kLZ4Compression) ? rocksdb::kLZ4Compression
                                                                      : rocksdb::kNoCompression;
  if (Supports(supported, rocksdb::kZSTD)) options.bottommost_compression = rocksdb::kZSTD;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks stay with their table readers, outside the block cache: in the
  // cache, data blocks evicted them once a volume held about a million files, and every
  // point lookup then read and checksummed a whole filter block again (creates slowed from
  // 70k/s to 9k/s). They cost about 1.3 bytes per key (10-bit Bloom filters) plus the index.
  table.cache_index_and_filter_blocks = false;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_size = 16 * 1024;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// The smallest string greater than every string that starts with `prefix`, or empty if
// there is none (an empty prefix, or one of only 0xff bytes).
std::string PrefixSuccessor(std::string_view prefix) {
  std::string limit(prefix);
  while (!limit.empty()) {
    const auto last = static_cast<std::uint8_t>(limit.back());
    if (last != 0xff) {
      limit.back() = static_cast<char>(last + 1);
      return limit;
    }
    limit.pop_back();
  }
  return limit;
}

}  // namespace

IndexDb::IndexDb(std::filesystem::path dir, bool read_only, std::shared_ptr<rocksdb::Cache> cache,
                 std::unique_ptr<rocksdb::DB> db, std::uint64_t applied_seq)
    : dir_(std::move(dir)),
      read_only_(read_only),
      cache_(std::move(cache)),
      db_(std::move(db)),
      applied_seq_(applied_seq) {}

IndexDb::~IndexDb() {
  if (db_ != nullptr) {
    const rocksdb::Status s = db_->Close();
    if (!s.ok()) {
      ZEROFS_LOG(kWarn) << "closing index " << dir_.string() << ": " << s.ToString();
    }
  }
}

Result<std::unique_ptr<IndexDb>> IndexDb::Open(const std::filesystem::path& dir,
                                               const IndexDbOptions& options) {
  const std::string what = "index open " + dir.string();
  if (!options.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::FromErrno(ec.value(), what);
  } else if (!std::filesystem::exists(dir / "CURRENT")) {
    return Status::NotFound(what + ": no database");
  }

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  const rocksdb::Options rocks_options = MakeOptions(options, cache);
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = options.read_only
                                ? rocksdb::DB::OpenForReadOnly(rocks_options, dir.string(), &raw)
                                : rocksdb::DB::Open(rocks_options, dir.string(), &raw);
  ZEROFS_RETURN_IF_ERROR(FromRocksDb(s, what));
  std::unique_ptr<rocksdb::DB> db(raw);

  std::string value;
  const rocksdb::Status g = db->Get(rocksdb::ReadOptions(), ToSlice(AppliedSeqKey()), &value);
  std::uint64_t applied_seq = 0;
  if (g.ok()) {
    Result<std::uint64_t> decoded = DecodeU64Value(value);
    if (!decoded.ok()) return decoded.status().WithContext(what + ": applied_seq");
    applied_seq = *decoded;
  } else if (!g.IsNotFound()) {
    return FromRocksDb(g, what + ": applied_seq");
  }
  return std::unique_ptr<IndexDb>(
      new IndexDb(dir, options.read_only, std::move(cache), std::move(db), applied_seq));
}

Status IndexDb::Destroy(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::Ok();
  if (std::filesystem::exists(dir / "CURRENT", ec)) {
    ZEROFS_RETURN_IF_ERROR(
        FromRocksDb(rocksdb::DestroyDB(dir.string(), rocksdb::Options()), "index destroy"));
  }
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::FromErrno(ec.value(), "index destroy " + dir.string());
  return Status::Ok();
}

Result<std::optional<std::string>> IndexDb::Get(std::string_view key) const {
  rocksdb::PinnableSlice value;
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  ZEROFS_RETURN_IF_ERROR(FromRocksDb(s, "index get"));
  return std::optional<std::string>(value.ToString());
}

Status IndexDb::Scan(std::string_view prefix, std::string_view start_after,
                     const Visitor& visit) const {
  const std::string limit = PrefixSuccessor(prefix);
  const rocksdb::Slice limit_slice = ToSlice(limit);
  rocksdb::ReadOptions read;
  if (!limit.empty()) read.iterate_upper_bound = &limit_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));

  const bool resume = !start_after.empty() && start_after >= prefix;
  it->Seek(ToSlice(resume ? start_after : prefix));
  if (resume && it->Valid() && ToView(it->key()) == start_after) it->Next();
  for (; it->Valid(); it->Next()) {
    const std::string_view key = ToView(it->key());
    if (!key.starts_with(prefix)) break;
    if (!visit(key, ToView(it->value()))) return Status::Ok();
  }
  return FromRocksDb(it->status(), "index scan");
}

Status IndexDb::Apply(const JournalRecord& record, std::uint64_t seq) {
  if (read_only_) return Status::NotSupported("index " + dir_.string() + " is open read-only");
  ZEROFS_RETURN_IF_ERROR(ValidateJournalRecord(record));
  std::lock_guard<std::mutex> lock(apply_mu_);
  const std::uint64_t applied = applied_seq_.load(std::memory_order_relaxed);
  if (seq <= applied) {
    return Status::InvalidArgument("index apply: seq " + std::to_string(seq) +
                                   " is not after applied seq " + std::to_string(applied));
  }
  rocksdb::WriteBatch batch;
  for (const IndexOp& op : record.ops) {
    const rocksdb::Status s = op.kind == IndexOp::Kind::kPut
                                  ? batch.Put(ToSlice(op.key), ToSlice(op.value))
                                  : batch.Delete(ToSlice(op.key));
    ZEROFS_RETURN_IF_ERROR(FromRocksDb(s, "index apply"));
  }
  const std::string seq_value = EncodeU64Value(seq);
  ZEROFS_RETURN_IF_ERROR(
      FromRocksDb(batch.Put(ToSlice(AppliedSeqKey()), ToSlice(seq_value)), "index apply"));

  rocksdb::WriteOptions write;
  write.disableWAL = false;
  write.sync = false;  // the bucket is the durable copy; see the header
  ZEROFS_RETURN_IF_ERROR(
      FromRocksDb(db_->Write(write, &batch), "index apply seq " + std::to_string(seq)));
  applied_seq_.store(seq, std::memory_order_release);
  return Status::Ok();
}

Status IndexDb::Flush() {
  if (read_only_) return Status::NotSupported("index " + dir_.string() + " is open read-only");
  return FromRocksDb(db_->Flush(rocksdb::FlushOptions()), "index flush");
}

Result<std::uint64_t> IndexDb::CreateCheckpoint(const std::filesystem::path& checkpoint_dir) {
  if (read_only_) return Status::NotSupported("index " + dir_.string() + " is open read-only");
  // Flush most of the memtable while Apply may still run; the checkpoint below then
  // flushes only what arrived meanwhile.
  ZEROFS_RETURN_IF_ERROR(Flush());

  rocksdb::Checkpoint* raw = nullptr;
  ZEROFS_RETURN_IF_ERROR(
      FromRocksDb(rocksdb::Checkpoint::Create(db_.get(), &raw), "index checkpoint"));
  const std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // No Apply between the flush and the file list: the copy holds exactly applied seq.
  std::lock_guard<std::mutex> lock(apply_mu_);
  const std::uint64_t seq = applied_seq_.load(std::memory_order_relaxed);
  ZEROFS_RETURN_IF_ERROR(
      FromRocksDb(checkpoint->CreateCheckpoint(checkpoint_dir.string(), /*log_size_for_flush=*/0),
                  "index checkpoint into " + checkpoint_dir.string()));
  return seq;
}

}  // namespace zerofs::index
