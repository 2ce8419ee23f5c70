#include "journal_replayer.h"

#include <algorithm>

#include "object_names.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"

namespace zerofs::engine {
Result<std::uint64_t> IndexMetaU64(const index::IndexDb& db, std::string_view name,
                                   std::uint64_t fallback) {
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> v, db.Get(index::MetaKey(name)));
  if (!v.has_value()) return fallback;
  return index::DecodeU64Value(*v);
}

Result<ChainCursor> JournalReplayer::CursorOfIndex(std::uint64_t journal_start_seq) const {
  ChainCursor cursor;
  ZEROFS_ASSIGN_OR_RETURN(cursor.next_seq,
                          IndexMetaU64(db_, format::kMetaNextSeq, journal_start_seq));
  ZEROFS_ASSIGN_OR_RETURN(cursor.chain_epoch, IndexMetaU64(db_, format::kMetaChainEpoch, 0));
  return cursor;
}

Result<ReplayStep> JournalReplayer::ApplyNext(ChainCursor& cursor, std::uint64_t max_segments) {
  ReplayStep step;
  std::uint64_t expected = cursor.next_seq;
  std::uint64_t chain_epoch = cursor.chain_epoch;
  while (step.applied < max_segments) {
    auto journal = reader_.ReadJournal(expected);
    if (journal.status().IsNotFound()) {
      step.at_end = true;
      break;
    }
    if (!journal.ok()) return journal.status();
    const std::uint64_t epoch = journal->meta.footer.writer_epoch;
    if (epoch < chain_epoch) {
      // A fenced writer's late segment at a position the chain has moved past: void.
      ZEROFS_LOG(kWarn) << "skipping void segment " << expected << " (epoch " << epoch << " < "
                        << chain_epoch << ")";
      ++expected;
      cursor.next_seq = expected;
      step.skipped_void++;
      continue;
    }
    ZEROFS_ASSIGN_OR_RETURN(
        index::JournalRecord record,
        index::DecodeJournalRecord(journal->record, format::SegmentObjectName(expected)));
    // The record says where the chain continues (a fence jumps its window).
    std::uint64_t next = expected + 1;
    for (const index::IndexOp& op : record.ops) {
      if (op.kind == index::IndexOp::Kind::kPut && op.key == index::MetaKey(format::kMetaNextSeq)) {
        ZEROFS_ASSIGN_OR_RETURN(next, index::DecodeU64Value(op.value));
      }
    }
    if (next <= expected) {
      return Status::Corruption(format::SegmentObjectName(expected) +
                                ": journal continues the chain backwards");
    }
    ZEROFS_RETURN_IF_ERROR(db_.Apply(record, expected));
    chain_epoch = epoch;
    step.applied++;
    expected = next;
    cursor.next_seq = expected;
    cursor.chain_epoch = chain_epoch;
  }
  return step;
}

Result<std::uint64_t> SegmentsAfter(objstore::ObjectStore& store, std::uint64_t applied_seq,
                                    std::uint32_t limit) {
  ZEROFS_ASSIGN_OR_RETURN(
      objstore::ListPageResult page,
      store.ListPage(format::kSegmentPrefix, format::SegmentObjectName(applied_seq),
                     std::clamp<std::uint32_t>(limit, 1, 1000)));
  std::uint64_t behind = 0;
  for (const objstore::ObjectInfo& object : page.objects) {
    if (SegmentSeqOf(object.key).has_value()) behind++;
  }
  return behind;
}

}  // namespace zerofs::engine
