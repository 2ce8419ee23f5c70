#include "recovery.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "checkpoint_record.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/segment/segment_writer.h"

namespace zerofs::engine {
namespace {

// The meta ops every record ends with: where the chain continues and at which epoch.
void AppendChainOps(index::JournalRecord& record, std::uint64_t next_seq, std::uint64_t epoch) {
  record.ops.push_back(
      index::IndexOp::Put(index::MetaKey(format::kMetaNextSeq), index::EncodeU64Value(next_seq)));
  record.ops.push_back(
      index::IndexOp::Put(index::MetaKey(format::kMetaChainEpoch), index::EncodeU64Value(epoch)));
}

}  // namespace

Result<RecoveryResult> Recovery::Run() {
  ZEROFS_ASSIGN_OR_RETURN(ctx_.key, Volume::OpenKey(ctx_.store(), ctx_.options.password));
  ZEROFS_RETURN_IF_ERROR(OpenCacheDir());
  if (ctx_.options.checkpoint.empty()) ZEROFS_RETURN_IF_ERROR(OpenRoot());
  ZEROFS_RETURN_IF_ERROR(OpenReaders());
  if (!ctx_.options.checkpoint.empty()) {
    ZEROFS_RETURN_IF_ERROR(OpenCheckpoint());
  } else {
    ZEROFS_RETURN_IF_ERROR(PrepareLocalIndex());
    ZEROFS_RETURN_IF_ERROR(Replay());
    if (!ctx_.read_only()) ZEROFS_RETURN_IF_ERROR(WriteFence());
  }
  ZEROFS_ASSIGN_OR_RETURN(out_.next_inode, IndexMetaU64(*ctx_.db, format::kMetaNextInode, 2));
  return std::move(out_);
}

Status Recovery::OpenCacheDir() {
  if (ctx_.options.cache_dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zerofs-volume-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Status::FromErrno(errno, "mkdtemp " + tmpl);
    ctx_.cache_dir = tmpl;
    ctx_.owns_cache_dir = true;
  } else {
    ctx_.cache_dir = ctx_.options.cache_dir;
    std::error_code ec;
    std::filesystem::create_directories(ctx_.cache_dir, ec);
    if (ec)
      return Status::IoError("cannot create cache dir " + ctx_.cache_dir.string() + ": " +
                             ec.message());
  }

  return Status::Ok();
}

Status Recovery::OpenRoot() {
  objstore::ObjectStore& store = ctx_.store();
  // The root: create it for a fresh volume, then (as the writer) bump the epoch by CAS.
  for (int attempt = 0;; ++attempt) {
    if (attempt == 20) return Status::Unavailable("root keeps changing; another writer is racing");
    auto read = index::ReadRoot(store, *ctx_.key.keys, ctx_.key.uuid);
    if (read.status().IsNotFound()) {
      index::RootRecord fresh;
      auto created = index::WriteRoot(store, *ctx_.key.keys, ctx_.key.uuid, fresh,
                                      objstore::PutOptions::IfNoneMatch());
      if (!created.ok() && !created.status().IsPreconditionFailed()) return created.status();
      continue;
    }
    if (!read.ok()) return read.status();
    out_.root = read->first;
    out_.root_etag = read->second;
    if (ctx_.read_only()) break;
    index::RootRecord bumped = out_.root;
    bumped.writer_epoch = out_.root.writer_epoch + 1;
    auto written = index::WriteRoot(store, *ctx_.key.keys, ctx_.key.uuid, bumped,
                                    objstore::PutOptions::IfMatch(out_.root_etag));
    if (written.status().IsPreconditionFailed()) continue;
    if (!written.ok()) return written.status();
    out_.root = bumped;
    out_.root_etag = *written;
    break;
  }
  return Status::Ok();
}

Status Recovery::OpenReaders() {
  // A lost segment upload stops the volume, so segment PUTs get a longer budget than the
  // store's own: kIoError counts as transient too, 50 ms doubling to 2 s between attempts.
  objstore::RetryPolicy upload_policy;
  upload_policy.max_attempts = std::max<std::uint32_t>(ctx_.options.upload_attempts, 1);
  upload_policy.base_delay = std::chrono::milliseconds(50);
  upload_policy.max_delay = std::chrono::milliseconds(2000);
  upload_policy.retry_io_errors = true;
  ctx_.upload_store = std::make_shared<objstore::RetryingStore>(ctx_.options.store, upload_policy);

  segment::SegmentReaderOptions reader_options;
  ctx_.reader = std::make_unique<segment::SegmentReader>(ctx_.options.store, ctx_.key.keys,
                                                         ctx_.key.uuid, reader_options);
  ctx_.extent_cache = std::make_unique<cache::ExtentCache>(ctx_.options.memory_cache_bytes);
  if (ctx_.options.disk_cache_bytes > 0) {
    auto disk = cache::DiskCache::Open(ctx_.cache_dir / "extents", ctx_.options.disk_cache_bytes);
    if (!disk.ok()) return disk.status().WithContext("opening the disk cache");
    ctx_.disk_cache = std::move(disk).value();
  }
  ctx_.cached_reader =
      std::make_unique<cache::CachedExtentReader>(ctx_.options.store, ctx_.key.keys, ctx_.key.uuid,
                                                  ctx_.extent_cache.get(), ctx_.disk_cache.get());

  return Status::Ok();
}

Status Recovery::PrepareLocalIndex() {
  const index::RootRecord& root = out_.root;
  const std::filesystem::path dir = ctx_.cache_dir / "index";
  index::IndexDbOptions db_options;
  db_options.block_cache_bytes =
      std::max<std::uint64_t>(ctx_.options.memory_cache_bytes / 8, 8 << 20);

  // A local index is reusable if it belongs to this volume and is at least as far along
  // the chain as the root's snapshot: replay continues from where it stopped.
  if (std::filesystem::exists(dir / "CURRENT")) {
    bool reusable_files = false;
    auto db = index::IndexDb::Open(dir, db_options);
    if (db.ok()) {
      auto uuid = (*db)->Get(index::MetaKey(format::kMetaVolumeUuid));
      const std::uint64_t covers = root.snapshot ? root.snapshot->covers_seq : 0;
      const bool same_volume = uuid.ok() && uuid->has_value() && **uuid == ctx_.key.uuid.ToString();
      if (same_volume && (*db)->applied_seq() >= covers) {
        ctx_.db = std::move(db).value();
        ZEROFS_LOG(kInfo) << "reusing local index at seq " << ctx_.db->applied_seq();
        return Status::Ok();
      }
      // Behind the snapshot: restoring it reuses the SSTs the two have in common.
      reusable_files = same_volume && root.snapshot.has_value();
    } else {
      ZEROFS_LOG(kWarn) << "local index unusable, rebuilding: " << db.status();
    }
    if (!reusable_files) ZEROFS_RETURN_IF_ERROR(index::IndexDb::Destroy(dir));
  }
  if (root.snapshot.has_value()) {
    ZEROFS_ASSIGN_OR_RETURN(index::RestoreStats restored,
                            index::RestoreSnapshot(*ctx_.options.store, *ctx_.key.keys,
                                                   ctx_.key.uuid, *root.snapshot, dir));
    out_.upload_state = std::move(restored.upload_state);
  }
  ZEROFS_ASSIGN_OR_RETURN(ctx_.db, index::IndexDb::Open(dir, db_options));
  return Status::Ok();
}

Status Recovery::OpenCheckpoint() {
  ZEROFS_ASSIGN_OR_RETURN(
      CheckpointRecord checkpoint,
      ReadCheckpoint(*ctx_.options.store, *ctx_.key.keys, ctx_.key.uuid, ctx_.options.checkpoint));
  out_.root = checkpoint.root;
  // A directory of its own: the volume's local index is newer than the checkpoint. Restoring
  // reuses the SST files already there.
  const std::filesystem::path dir = ctx_.cache_dir / "checkpoints" / ctx_.options.checkpoint;
  index::IndexDbOptions db_options;
  db_options.block_cache_bytes =
      std::max<std::uint64_t>(ctx_.options.memory_cache_bytes / 8, 8 << 20);
  ZEROFS_ASSIGN_OR_RETURN(index::RestoreStats restored,
                          index::RestoreSnapshot(*ctx_.options.store, *ctx_.key.keys, ctx_.key.uuid,
                                                 *out_.root.snapshot, dir));
  (void)restored;
  ZEROFS_ASSIGN_OR_RETURN(ctx_.db, index::IndexDb::Open(dir, db_options));
  // Frozen: nothing after the snapshot is part of the checkpoint, so there is no replay.
  out_.chain.durable_seq = ctx_.db->applied_seq();
  out_.chain.next_seq = out_.chain.durable_seq + 1;
  out_.chain.durable_next_seq = out_.chain.next_seq;
  return Status::Ok();
}

Status Recovery::Replay() {
  JournalReplayer replayer(*ctx_.reader, *ctx_.db);
  ZEROFS_ASSIGN_OR_RETURN(ChainCursor cursor, replayer.CursorOfIndex(out_.root.journal_start_seq));
  ZEROFS_ASSIGN_OR_RETURN(ReplayStep step, replayer.ApplyNext(cursor));
  out_.replayed_segments += step.applied;
  out_.chain.chain_epoch = cursor.chain_epoch;
  out_.chain.next_seq = cursor.next_seq;
  out_.chain.durable_next_seq = cursor.next_seq;
  out_.chain.durable_seq = ctx_.db->applied_seq();
  return Status::Ok();
}

Status Recovery::WriteFence() {
  const std::uint64_t epoch = out_.root.writer_epoch;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::uint64_t seq = out_.chain.next_seq;
    index::JournalRecord record;
    record.ops.push_back(
        index::IndexOp::Put(index::MetaKey(format::kMetaVolumeUuid), ctx_.key.uuid.ToString()));
    AppendChainOps(record, seq + format::kFenceWindowSegments, epoch);
    segment::SegmentWriterOptions writer_options;
    writer_options.compression = ctx_.options.compression;
    segment::SegmentWriter writer(ctx_.key.keys, ctx_.key.uuid, seq, epoch, writer_options);
    ZEROFS_ASSIGN_OR_RETURN(std::string object, writer.Finish(index::EncodeJournalRecord(record)));
    auto put = ctx_.options.store->Put(format::SegmentObjectName(seq), object,
                                       objstore::PutOptions::IfNoneMatch());
    if (put.status().IsPreconditionFailed()) {
      // Another writer's segment landed at our fence position: replay it and try after it.
      ZEROFS_RETURN_IF_ERROR(Replay());
      if (out_.chain.next_seq == seq) {
        return Status::Corruption(format::SegmentObjectName(seq) +
                                  " exists but does not continue the chain");
      }
      continue;
    }
    if (!put.ok()) return put.status().WithContext("writing the fence segment");
    ZEROFS_RETURN_IF_ERROR(ctx_.db->Apply(record, seq));
    out_.chain.chain_epoch = epoch;
    out_.chain.durable_seq = seq;
    out_.chain.next_seq = seq + format::kFenceWindowSegments;
    out_.chain.durable_next_seq = out_.chain.next_seq;
    out_.segments_written++;
    return Status::Ok();
  }
  return Status::Unavailable("could not place a fence segment: segments keep appearing");
}

}  // namespace zerofs::engine
