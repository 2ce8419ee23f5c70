// Opening a volume: keys, root, the local index, replay of the segment chain, the fence.
#include <unistd.h>

#include <cstdlib>

#include "volume_impl.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/segment/segment_writer.h"

namespace zerofs::engine {
namespace {

// Reads a u64 meta value from the index; `fallback` if absent.
Result<std::uint64_t> MetaU64(const index::IndexDb& db, std::string_view name,
                              std::uint64_t fallback) {
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> v, db.Get(index::MetaKey(name)));
  if (!v.has_value()) return fallback;
  return index::DecodeU64Value(*v);
}

// The meta ops every record ends with: where the chain continues and at which epoch.
void AppendChainOps(index::JournalRecord& record, std::uint64_t next_seq, std::uint64_t epoch) {
  record.ops.push_back(index::IndexOp::Put(index::MetaKey(format::kMetaNextSeq),
                                           index::EncodeU64Value(next_seq)));
  record.ops.push_back(index::IndexOp::Put(index::MetaKey(format::kMetaChainEpoch),
                                           index::EncodeU64Value(epoch)));
}

}  // namespace

Result<std::unique_ptr<Volume>> Volume::Open(VolumeOptions options) {
  return VolumeImpl::Open(std::move(options));
}

Result<std::unique_ptr<Volume>> VolumeImpl::Open(VolumeOptions options) {
  if (!options.store) return Status::InvalidArgument("Volume::Open: no object store");
  if (options.max_inflight_segments == 0 ||
      options.max_inflight_segments > format::kMaxInflightSegments) {
    return Status::InvalidArgument("max_inflight_segments must be between 1 and " +
                                   std::to_string(format::kMaxInflightSegments));
  }
  if (!options.checkpoint.empty()) {
    ZEROFS_RETURN_IF_ERROR(ValidateCheckpointName(options.checkpoint));
    options.mode = OpenMode::kReadOnly;  // a checkpoint is frozen
  }
  std::unique_ptr<VolumeImpl> volume(new VolumeImpl(std::move(options)));
  Status s = volume->OpenInternal();
  if (!s.ok()) {
    (void)volume->Close();
    return s;
  }
  return std::unique_ptr<Volume>(std::move(volume));
}

Status VolumeImpl::OpenInternal() {
  objstore::ObjectStore& store = *options_.store;
  ZEROFS_ASSIGN_OR_RETURN(key_, crypto::OpenVolumeKey(store, options_.password));

  if (options_.cache_dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zerofs-volume-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Status::FromErrno(errno, "mkdtemp " + tmpl);
    cache_dir_ = tmpl;
    owns_cache_dir_ = true;
  } else {
    cache_dir_ = options_.cache_dir;
    std::error_code ec;
    std::filesystem::create_directories(cache_dir_, ec);
    if (ec) return Status::IoError("cannot create cache dir " + cache_dir_.string() + ": " + ec.message());
  }

  // The root: create it for a fresh volume, then (as the writer) bump the epoch by CAS.
  for (int attempt = 0; options_.checkpoint.empty(); ++attempt) {
    if (attempt == 20) return Status::Unavailable("root keeps changing; another writer is racing");
    auto read = index::ReadRoot(store, *key_.keys, key_.uuid);
    if (read.status().IsNotFound()) {
      index::RootRecord fresh;
      auto created = index::WriteRoot(store, *key_.keys, key_.uuid, fresh,
                                      objstore::PutOptions::IfNoneMatch());
      if (!created.ok() && !created.status().IsPreconditionFailed()) return created.status();
      continue;
    }
    if (!read.ok()) return read.status();
    root_ = read->first;
    root_etag_ = read->second;
    if (read_only()) break;
    index::RootRecord bumped = root_;
    bumped.writer_epoch = root_.writer_epoch + 1;
    auto written = index::WriteRoot(store, *key_.keys, key_.uuid, bumped,
                                    objstore::PutOptions::IfMatch(root_etag_));
    if (written.status().IsPreconditionFailed()) continue;
    if (!written.ok()) return written.status();
    root_ = bumped;
    root_etag_ = *written;
    break;
  }
  stats_.writer_epoch = root_.writer_epoch;

  // A lost segment upload stops the volume, so segment PUTs get a longer budget than the
  // store's own: kIoError counts as transient too, 50 ms doubling to 2 s between attempts.
  objstore::RetryPolicy upload_policy;
  upload_policy.max_attempts = std::max<std::uint32_t>(options_.upload_attempts, 1);
  upload_policy.base_delay = std::chrono::milliseconds(50);
  upload_policy.max_delay = std::chrono::milliseconds(2000);
  upload_policy.retry_io_errors = true;
  upload_store_ = std::make_shared<objstore::RetryingStore>(options_.store, upload_policy);

  segment::SegmentReaderOptions reader_options;
  reader_ = std::make_unique<segment::SegmentReader>(options_.store, key_.keys, key_.uuid,
                                                     reader_options);
  extent_cache_ = std::make_unique<cache::ExtentCache>(options_.memory_cache_bytes);
  if (options_.disk_cache_bytes > 0) {
    auto disk = cache::DiskCache::Open(cache_dir_ / "extents", options_.disk_cache_bytes);
    if (!disk.ok()) return disk.status().WithContext("opening the disk cache");
    disk_cache_ = std::move(disk).value();
  }
  cached_reader_ = std::make_unique<cache::CachedExtentReader>(
      options_.store, key_.keys, key_.uuid, extent_cache_.get(), disk_cache_.get());

  if (!options_.checkpoint.empty()) {
    ZEROFS_RETURN_IF_ERROR(OpenCheckpoint());
  } else {
    ZEROFS_RETURN_IF_ERROR(PrepareLocalIndex(root_));
    ZEROFS_RETURN_IF_ERROR(Replay());
    if (!read_only()) ZEROFS_RETURN_IF_ERROR(WriteFence());
  }

  ZEROFS_ASSIGN_OR_RETURN(next_inode_, MetaU64(*db_, format::kMetaNextInode, 2));
  {
    std::lock_guard lock(mu_);
    open_ = std::make_shared<Batch>();
    open_->number = next_batch_number_;
    durable_batch_ = next_batch_number_ - 1;
    last_snapshot_ms_ = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }
  if (!read_only()) {
    flusher_ = std::thread([this] { FlusherLoop(); });
    for (std::uint32_t i = 0; i < options_.max_inflight_segments; ++i) {
      uploaders_.emplace_back([this] { UploadLoop(); });
    }
    if (options_.gc.background) gc_thread_ = std::thread([this] { GcLoop(); });
  }
  ZEROFS_LOG(kInfo) << "opened volume " << key_.uuid.ToString() << " at "
                    << options_.store->Describe()
                    << (options_.checkpoint.empty() ? "" : " checkpoint " + options_.checkpoint)
                    << (read_only() ? " read-only" : "")
                    << ", epoch " << root_.writer_epoch << ", durable through seq "
                    << durable_seq_ << ", " << stats_.replayed_segments << " segments replayed";
  return Status::Ok();
}

Status VolumeImpl::PrepareLocalIndex(const index::RootRecord& root) {
  const std::filesystem::path dir = cache_dir_ / "index";
  index::IndexDbOptions db_options;
  db_options.block_cache_bytes = std::max<std::uint64_t>(options_.memory_cache_bytes / 8, 8 << 20);

  // A local index is reusable if it belongs to this volume and is at least as far along
  // the chain as the root's snapshot: replay continues from where it stopped.
  if (std::filesystem::exists(dir / "CURRENT")) {
    bool reusable_files = false;
    auto db = index::IndexDb::Open(dir, db_options);
    if (db.ok()) {
      auto uuid = (*db)->Get(index::MetaKey(format::kMetaVolumeUuid));
      const std::uint64_t covers = root.snapshot ? root.snapshot->covers_seq : 0;
      const bool same_volume = uuid.ok() && uuid->has_value() && **uuid == key_.uuid.ToString();
      if (same_volume && (*db)->applied_seq() >= covers) {
        db_ = std::move(db).value();
        ZEROFS_LOG(kInfo) << "reusing local index at seq " << db_->applied_seq();
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
                            index::RestoreSnapshot(*options_.store, *key_.keys, key_.uuid,
                                                   *root.snapshot, dir));
    snapshot_state_ = std::move(restored.upload_state);
  }
  ZEROFS_ASSIGN_OR_RETURN(db_, index::IndexDb::Open(dir, db_options));
  return Status::Ok();
}

Status VolumeImpl::OpenCheckpoint() {
  ZEROFS_ASSIGN_OR_RETURN(CheckpointRecord checkpoint,
                          ReadCheckpoint(*options_.store, *key_.keys, key_.uuid,
                                         options_.checkpoint));
  root_ = checkpoint.root;
  // A directory of its own: the volume's local index is newer than the checkpoint. Restoring
  // reuses the SST files already there.
  const std::filesystem::path dir = cache_dir_ / "checkpoints" / options_.checkpoint;
  index::IndexDbOptions db_options;
  db_options.block_cache_bytes = std::max<std::uint64_t>(options_.memory_cache_bytes / 8, 8 << 20);
  ZEROFS_ASSIGN_OR_RETURN(index::RestoreStats restored,
                          index::RestoreSnapshot(*options_.store, *key_.keys, key_.uuid,
                                                 *root_.snapshot, dir));
  (void)restored;
  ZEROFS_ASSIGN_OR_RETURN(db_, index::IndexDb::Open(dir, db_options));
  // Frozen: nothing after the snapshot is part of the checkpoint, so there is no replay.
  durable_seq_ = db_->applied_seq();
  next_seq_ = durable_seq_ + 1;
  durable_next_seq_ = next_seq_;
  return Status::Ok();
}

Status VolumeImpl::Replay() {
  ZEROFS_ASSIGN_OR_RETURN(std::uint64_t expected,
                          MetaU64(*db_, format::kMetaNextSeq, root_.journal_start_seq));
  ZEROFS_ASSIGN_OR_RETURN(std::uint64_t chain_epoch, MetaU64(*db_, format::kMetaChainEpoch, 0));

  for (;;) {
    auto journal = reader_->ReadJournal(expected);
    if (journal.status().IsNotFound()) break;
    if (!journal.ok()) return journal.status();
    const std::uint64_t epoch = journal->meta.footer.writer_epoch;
    if (epoch < chain_epoch) {
      // A fenced writer's late segment at a position the chain has moved past: void.
      ZEROFS_LOG(kWarn) << "skipping void segment " << expected << " (epoch " << epoch
                        << " < " << chain_epoch << ")";
      ++expected;
      continue;
    }
    ZEROFS_ASSIGN_OR_RETURN(index::JournalRecord record,
                            index::DecodeJournalRecord(journal->record,
                                                       format::SegmentObjectName(expected)));
    // The record says where the chain continues (a fence jumps its window).
    std::uint64_t next = expected + 1;
    for (const index::IndexOp& op : record.ops) {
      if (op.kind == index::IndexOp::Kind::kPut &&
          op.key == index::MetaKey(format::kMetaNextSeq)) {
        ZEROFS_ASSIGN_OR_RETURN(next, index::DecodeU64Value(op.value));
      }
    }
    if (next <= expected) {
      return Status::Corruption(format::SegmentObjectName(expected) +
                                ": journal continues the chain backwards");
    }
    ZEROFS_RETURN_IF_ERROR(db_->Apply(record, expected));
    chain_epoch = epoch;
    stats_.replayed_segments++;
    expected = next;
  }
  chain_epoch_ = chain_epoch;
  next_seq_ = expected;
  durable_next_seq_ = expected;
  durable_seq_ = db_->applied_seq();
  return Status::Ok();
}

Status VolumeImpl::WriteFence() {
  const std::uint64_t epoch = root_.writer_epoch;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::uint64_t seq = next_seq_;
    index::JournalRecord record;
    record.ops.push_back(index::IndexOp::Put(index::MetaKey(format::kMetaVolumeUuid),
                                             key_.uuid.ToString()));
    AppendChainOps(record, seq + format::kFenceWindowSegments, epoch);
    segment::SegmentWriterOptions writer_options;
    writer_options.compression = options_.compression;
    segment::SegmentWriter writer(key_.keys, key_.uuid, seq, epoch, writer_options);
    ZEROFS_ASSIGN_OR_RETURN(std::string object, writer.Finish(index::EncodeJournalRecord(record)));
    auto put = options_.store->Put(format::SegmentObjectName(seq), object,
                                   objstore::PutOptions::IfNoneMatch());
    if (put.status().IsPreconditionFailed()) {
      // Another writer's segment landed at our fence position: replay it and try after it.
      ZEROFS_RETURN_IF_ERROR(Replay());
      if (next_seq_ == seq) {
        return Status::Corruption(format::SegmentObjectName(seq) +
                                  " exists but does not continue the chain");
      }
      continue;
    }
    if (!put.ok()) return put.status().WithContext("writing the fence segment");
    ZEROFS_RETURN_IF_ERROR(db_->Apply(record, seq));
    chain_epoch_ = epoch;
    durable_seq_ = seq;
    next_seq_ = seq + format::kFenceWindowSegments;
    durable_next_seq_ = next_seq_;
    stats_.segments_written++;
    return Status::Ok();
  }
  return Status::Unavailable("could not place a fence segment: segments keep appearing");
}

}  // namespace zerofs::engine
