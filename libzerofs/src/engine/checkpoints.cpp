#include "checkpoints.h"

#include <chrono>

#include "checkpoint_record.h"
#include "zerofs/common/log.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

namespace zerofs::engine {
namespace {

std::uint64_t UnixMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

CheckpointInfo InfoOf(const CheckpointRecord& record) {
  CheckpointInfo info;
  info.name = record.name;
  info.created_unix_ms = record.created_unix_ms;
  info.covers_seq = record.root.snapshot ? record.root.snapshot->covers_seq : 0;
  info.segment_count = record.segment_count();
  return info;
}

}  // namespace

Result<CheckpointInfo> Checkpoints::Create(std::string_view name) {
  ZEROFS_RETURN_IF_ERROR(ValidateCheckpointName(name));
  if (ctx_.read_only()) return Status::Cancelled("the volume is open read-only");
  // Fail early on a taken name; the create-only put below is what guarantees uniqueness.
  auto existing = ctx_.options.store->Head(CheckpointObjectName(name));
  if (existing.ok()) {
    return Status::AlreadyExists("a checkpoint named '" + std::string(name) + "' already exists");
  }
  if (!existing.status().IsNotFound()) return existing.status();

  // No collector run meanwhile: a segment the checkpoint keeps must not be deleted between
  // the moment its set is taken and the moment the checkpoint object exists.
  const std::unique_lock run_lock = collector_.Exclusive();
  ZEROFS_RETURN_IF_ERROR(pipeline_.SyncAll());
  std::vector<std::uint64_t> seqs;
  std::uint64_t durable = 0;
  // While no record is applied, the usage records match the durable seq.
  ZEROFS_RETURN_IF_ERROR(pipeline_.WithIndexSteady([&](std::uint64_t durable_seq) {
    durable = durable_seq;
    return ctx_.db->Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                         [&](std::string_view key, std::string_view value) {
                           auto seq = index::DecodeSegmentUsageKey(key);
                           auto usage = index::DecodeSegmentUsage(value);
                           if (seq.ok() && usage.ok() && Collector::Live(*usage)) {
                             seqs.push_back(*seq);
                           }
                           return true;
                         });
  }));
  const std::unique_lock snapshot_lock = snapshots_.Lock();
  ZEROFS_ASSIGN_OR_RETURN(index::SnapshotRef ref, snapshot_locked_());
  // Segments applied between the scan and the snapshot may hold extents the snapshot
  // refers to (live bytes only ever decrease, so the scan covers every older one).
  for (std::uint64_t seq = durable + 1; seq <= ref.covers_seq; ++seq) seqs.push_back(seq);
  CheckpointRecord record;
  record.name = std::string(name);
  record.created_unix_ms = UnixMs();
  record.root = snapshots_.RootLocked();
  record.segments = SeqRanges(std::move(seqs));
  ZEROFS_RETURN_IF_ERROR(
      WriteCheckpoint(*ctx_.options.store, *ctx_.key.keys, ctx_.key.uuid, record));
  ZEROFS_LOG(kInfo) << "checkpoint '" << record.name << "' at seq " << ref.covers_seq << ", "
                    << record.segment_count() << " segments kept";
  return InfoOf(record);
}

Result<std::vector<CheckpointInfo>> Checkpoints::List() {
  ZEROFS_ASSIGN_OR_RETURN(std::vector<CheckpointRecord> records,
                          ReadAllCheckpoints(*ctx_.options.store, *ctx_.key.keys, ctx_.key.uuid));
  std::vector<CheckpointInfo> out;
  out.reserve(records.size());
  for (const CheckpointRecord& r : records) out.push_back(InfoOf(r));
  return out;
}

Result<CheckpointInfo> Checkpoints::Get(std::string_view name) {
  ZEROFS_ASSIGN_OR_RETURN(CheckpointRecord record,
                          ReadCheckpoint(*ctx_.options.store, *ctx_.key.keys, ctx_.key.uuid, name));
  return InfoOf(record);
}

Status Checkpoints::Delete(std::string_view name) {
  ZEROFS_RETURN_IF_ERROR(ValidateCheckpointName(name));
  if (ctx_.read_only()) return Status::Cancelled("the volume is open read-only");
  auto existing = ctx_.options.store->Head(CheckpointObjectName(name));
  if (existing.status().IsNotFound()) {
    return Status::NotFound("no checkpoint named '" + std::string(name) + "'");
  }
  ZEROFS_RETURN_IF_ERROR(existing.status());
  ZEROFS_RETURN_IF_ERROR(ctx_.options.store->Delete(CheckpointObjectName(name)));
  ZEROFS_LOG(kInfo) << "deleted checkpoint '" << name << "'";
  return Status::Ok();
}

}  // namespace zerofs::engine
