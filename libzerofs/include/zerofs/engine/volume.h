// Volume: a ZeroFS volume opened on a bucket — the storage engine (docs/engine.md).
//
// A Volume owns everything between the VFS and the bucket: the metadata index (RocksDB,
// a cache of what the bucket's snapshot + journal say), the write buffer, the flush
// pipeline that turns it into segments, fencing against other writers, recovery, and the
// caches. The VFS and the NBD server are its users; they speak in index keys and inode
// data (transaction.h), and in write batch numbers for durability.
//
// Durability: Commit returns the number of the write batch the transaction joined
// (BatchNumber below). Sync(batch) returns OK only once that batch and every earlier one
// are in the bucket; it returns an error (kCancelled "fenced" / the failure) if the
// transaction can never become durable because this writer was fenced or a flush failed
// for good. SyncAll() covers everything committed before the call.
//
// Reads (Get, Scan, Read) see every committed transaction at once, durable or not.
//
// Lifecycle: a volume is created once (Volume::Create writes its key file), opened by every
// process that serves it (Volume::Open; Volume::OpenKey for tools that only need the key)
// and may have its password changed (Volume::ChangePassword) while it is open elsewhere:
// the data key stays the same, so open volumes are not affected.
//
// Thread-safety: every method may be called from any thread concurrently. Commit is atomic
// with respect to other Commits; callers that read, decide and commit (the VFS) hold their
// own locks across the three. The static lifecycle functions may run concurrently with each
// other and with open volumes; the store's conditional writes arbitrate.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/common/secret.h"
#include "zerofs/crypto/codec.h"
#include "zerofs/crypto/key_file.h"
#include "zerofs/crypto/random.h"
#include "zerofs/crypto/volume_key.h"
#include "zerofs/engine/space.h"
#include "zerofs/engine/transaction.h"
#include "zerofs/objstore/object_store.h"

namespace zerofs::engine {

// The number of a write batch of this Volume: the open batch collects Commits until a
// flush cuts it; batches are numbered 1, 2, 3, ... from the open, and each cut batch is
// uploaded as one segment. Not a segment seq: fence, compaction and replayed segments take
// seqs and no batch number, and a batch's seq is only known once it is sealed. Meaningful
// only to the Volume instance that returned it (a reopen starts again at 1).
using BatchNumber = std::uint64_t;

enum class OpenMode : std::uint8_t {
  kWrite = 0,     // the single writer: fences any earlier writer
  kReadOnly = 1,  // a read replica of the latest state (does not fence)
};

struct VolumeOptions {
  std::shared_ptr<objstore::ObjectStore> store;
  Secret password;
  // Local state: the RocksDB index cache and the disk cache live here. Empty: a private
  // temporary directory removed on close.
  std::filesystem::path cache_dir;
  OpenMode mode = OpenMode::kWrite;
  // Open this named checkpoint instead of the latest state: read-only (as kReadOnly), frozen
  // at the moment it was taken.
  std::string checkpoint;

  std::uint64_t memory_cache_bytes = 256ULL << 20;
  std::uint64_t disk_cache_bytes = 10ULL << 30;
  // Dirty plus in-flight data held in memory; writers wait beyond it (backpressure).
  std::uint64_t write_buffer_bytes = 256ULL << 20;
  // A flush starts when the open batch holds this much data.
  std::uint64_t segment_target_bytes = 16ULL << 20;
  // ... and at the latest this long after its first change.
  std::chrono::milliseconds flush_interval{2000};
  std::uint32_t max_inflight_segments = 4;
  // An index snapshot is uploaded after this many segments, or this long after the last one
  // when any segment was written since (0: not on that trigger).
  std::uint32_t snapshot_every_segments = 512;
  std::chrono::seconds snapshot_interval{600};
  crypto::CompressionOptions compression;
  // Attempts at uploading one segment when the store fails transiently (with exponential
  // backoff and full jitter from 50 ms up to 2 s between them; objstore::RetryingStore),
  // in total: a store that retries by itself (S3Store) shares this budget. After the last,
  // the volume stops acknowledging writes.
  std::uint32_t upload_attempts = 30;
  // Space reclamation on the writer (space.h).
  GcSettings gc;
};

// How Volume::Create makes the key file of a new volume.
struct CreateOptions {
  crypto::Argon2Params kdf = crypto::Argon2Params::Default();
  crypto::RandomSource* random = nullptr;  // null: crypto::SystemRandom()
};

// How Volume::ChangePassword re-wraps the data key.
struct ChangePasswordOptions {
  std::optional<crypto::Argon2Params> kdf;  // empty: keep the key file's cost parameters
  crypto::RandomSource* random = nullptr;   // null: crypto::SystemRandom()
};

struct VolumeStats {
  std::uint64_t durable_seq = 0;  // every segment up to here is in the bucket
  // The BatchNumber the next Commit gets (a batch number despite the name, which the
  // stats JSON and the zerofs_committed_seq metric keep).
  std::uint64_t committed_seq = 0;
  std::uint64_t writer_epoch = 0;
  std::uint64_t segments_written = 0;
  std::uint64_t flushes = 0;
  std::uint64_t buffered_bytes = 0;  // dirty + in flight
  std::uint64_t snapshots_written = 0;
  std::uint64_t replayed_segments = 0;  // at open
  std::uint64_t gc_rounds = 0;          // background and on-demand
  std::uint64_t gc_segments_deleted = 0;
  std::uint64_t gc_bytes_freed = 0;
  std::uint64_t gc_bytes_rewritten = 0;
  bool fenced = false;

  // Reads of extents: frames served by the memory cache, by the disk cache, and fetched
  // from the bucket (the misses), with the GETs that fetched them.
  std::uint64_t cache_memory_hits = 0;
  std::uint64_t cache_disk_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t cache_gets = 0;

  // Flush latency: from the moment a batch is cut (a sync, the interval or a full buffer)
  // until it is durable in the bucket and applied to the index. flush_latency_counts[i]
  // counts flushes that took at most kFlushLatencyBoundsS[i] seconds and more than the
  // bound before it; the last count is for slower ones (not cumulative).
  static constexpr std::array<double, 12> kFlushLatencyBoundsS = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  std::array<std::uint64_t, kFlushLatencyBoundsS.size() + 1> flush_latency_counts{};
  std::uint64_t flush_latency_count = 0;
  double flush_latency_sum_s = 0;
};

class Volume {
 public:
  // Opens the volume in `options.store` (its key file must exist: `zerofs init`).
  // kPermissionDenied for a wrong password, kNotFound when there is no volume.
  static Result<std::unique_ptr<Volume>> Open(VolumeOptions options);

  // `zerofs init`: a random data key and uuid, wrapped under `password` and PUT as the key
  // file with If-None-Match: *, so two racing creates cannot make two keys; the loser (and
  // any create where a volume exists) gets kAlreadyExists "volume already exists at
  // <store> ...". Open the volume afterwards with Open.
  static Result<crypto::VolumeKey> Create(objstore::ObjectStore& store, const Secret& password,
                                          const CreateOptions& options = {});
  // Reads and unlocks the key file alone, as Open does first: kNotFound "no volume at
  // <store>" when there is none, kPermissionDenied "wrong password for volume <uuid>".
  static Result<crypto::VolumeKey> OpenKey(objstore::ObjectStore& store, const Secret& password);
  // `zerofs passwd`: verifies `old_password` (kPermissionDenied if wrong), re-wraps the same
  // data key under `new_password` and replaces the key file with If-Match on the etag it
  // read, so that a concurrent change is detected (kPreconditionFailed), not lost.
  static Result<crypto::VolumeKey> ChangePassword(objstore::ObjectStore& store,
                                                  const Secret& old_password,
                                                  const Secret& new_password,
                                                  const ChangePasswordOptions& options = {});

  virtual ~Volume() = default;

  // --- metadata (the index key space) ---
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // Keys with `prefix` strictly after `start_after` (or from the start), in order, until
  // `visit` returns false.
  virtual Status Scan(
      std::string_view prefix, std::string_view start_after,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) = 0;

  // --- data ---
  // `length` bytes of `inode`'s data at `offset`; holes read as zeros. The caller bounds
  // the range by the file size (the engine does not know it).
  virtual Result<std::string> Read(std::uint64_t inode, std::uint64_t offset,
                                   std::uint64_t length) = 0;
  // Hints that `inode` is read sequentially from `offset`: fetch ahead.
  virtual void ReadAhead(std::uint64_t inode, std::uint64_t offset, std::uint64_t length) = 0;
  // The extents of `inode` with index in [first, last] that changes not yet applied to the
  // index (buffered, or on their way to the bucket) set: index -> true for data, false for a
  // hole. Together with the extent map (Scan of index::ExtentPrefix) it tells which extents
  // hold data without waiting for a flush.
  virtual std::map<std::uint64_t, bool> PendingExtents(std::uint64_t inode, std::uint64_t first,
                                                       std::uint64_t last) = 0;

  // --- changes ---
  // Applies `txn` atomically; returns the batch it joined. Blocks while the write buffer is
  // full. kCancelled if the volume is fenced or read-only (EROFS for the VFS).
  virtual Result<BatchNumber> Commit(const Transaction& txn) = 0;
  // A new inode number, never handed out before (persisted with the next segment).
  virtual Result<std::uint64_t> AllocateInode() = 0;

  // --- durability ---
  // OK once batch `batch` and every earlier one are durable (see the top of this file).
  virtual Status Sync(BatchNumber batch) = 0;
  virtual Status SyncAll() = 0;
  // Uploads an index snapshot now and points `root` at it.
  virtual Status Snapshot() = 0;
  // Flushes everything and stops background work. Further calls fail.
  virtual Status Close() = 0;

  // --- space (space.h) ---
  // Runs the collector to completion (within `options`' budget): drops pending file data,
  // compacts sparse segments, deletes what nothing needs. Serialized with the background
  // collector. kCancelled on a read-only volume (except a dry run).
  virtual Result<GcStats> RunGc(const GcRunOptions& options,
                                const GcProgressFn& progress = nullptr) = 0;
  // Live, stored and dead bytes; lists the bucket's segments and index objects.
  virtual Result<SpaceStats> SpaceUsage() = 0;
  // How many segment objects the bucket holds beyond the newest this process has applied
  // (one LIST page from there; at most `limit`): how far a read-only replica lags behind
  // its writer. A writer's own lag is 0 by definition and costs no request.
  virtual Result<std::uint64_t> SegmentsBehind(std::uint32_t limit = 1000) = 0;

  // --- checkpoints ---
  // Flushes, uploads an index snapshot and writes checkpoints/<name> naming it (create-only:
  // kPreconditionFailed if the name exists). Names: 1..200 of [A-Za-z0-9._-], not . or ..
  virtual Result<CheckpointInfo> CreateCheckpoint(std::string_view name) = 0;
  virtual Result<std::vector<CheckpointInfo>> ListCheckpoints() = 0;
  // kNotFound if there is no such checkpoint.
  virtual Result<CheckpointInfo> GetCheckpoint(std::string_view name) = 0;
  // Its segments and index objects become reclaimable by the collector.
  virtual Status DeleteCheckpoint(std::string_view name) = 0;

  virtual VolumeStats stats() const = 0;
  virtual bool read_only() const = 0;
};

}  // namespace zerofs::engine
