// JournalReplayer: applies the committed journal of a volume to a local index, segment by
// segment, in seq order (docs/format.md "The segment chain", docs/architecture.md "Recovery
// and the replay seam").
//
// The chain is read from where the index says it continues (its meta "next_seq" and
// "chain_epoch", which every journal record updates): the segment at that seq, if it
// exists, is decoded and its journal record applied with IndexDb::Apply, atomically (readers
// of the index see all of a record or none of it); the record names the next seq (a fence
// jumps its window). A segment of a lower epoch than the chain's is a fenced writer's late
// write and is void: skipped. The chain ends at the first seq with no object.
//
// The seam for read replicas: a replica opens the latest root's snapshot, then calls
// ApplyNext in a loop ("apply the next committed segments after the cursor, atomically, in
// order"), publishing the cursor to its readers after each step and sleeping when a step
// applied nothing. Recovery is the same loop run once to the end. The replayer keeps no
// state of its own besides what it is given: the cursor is the caller's, so that the caller
// decides under which lock a step runs and when its result becomes visible.
//
// Thread-safety: one ApplyNext at a time per index (the caller serializes them); the
// reader and the index are thread-safe themselves.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/index/index_db.h"
#include "zerofs/objstore/object_store.h"
#include "zerofs/segment/segment_reader.h"

namespace zerofs::engine {

// Where replay stands: the seq it reads next and the epoch of the last applied record.
struct ChainCursor {
  std::uint64_t next_seq = 1;
  std::uint64_t chain_epoch = 0;
};

struct ReplayStep {
  std::uint64_t applied = 0;       // segments whose records were applied
  std::uint64_t skipped_void = 0;  // fenced writers' late segments skipped
  bool at_end = false;             // the chain ended (the next seq is not in the bucket)
};

class JournalReplayer {
 public:
  static constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

  JournalReplayer(const segment::SegmentReader& reader, index::IndexDb& db)
      : reader_(reader), db_(db) {}

  // The cursor the index's meta records; `journal_start_seq` (the root's) when the index
  // has never applied a record.
  Result<ChainCursor> CursorOfIndex(std::uint64_t journal_start_seq) const;

  // Applies the committed segments after `cursor`, in order, each atomically, until the
  // chain ends or `max_segments` were applied; advances `cursor` past what it applied or
  // skipped. kCorruption for a record that does not continue the chain forwards.
  Result<ReplayStep> ApplyNext(ChainCursor& cursor, std::uint64_t max_segments = kUnlimited);

 private:
  const segment::SegmentReader& reader_;
  index::IndexDb& db_;
};

// A u64 meta value of the index (index::MetaKey(name)); `fallback` if absent.
Result<std::uint64_t> IndexMetaU64(const index::IndexDb& db, std::string_view name,
                                   std::uint64_t fallback);

// How many segment objects the bucket holds after `applied_seq` (one LIST page; at most
// `limit`, clamped to 1..1000): how far a reader of the chain lags behind its writer.
Result<std::uint64_t> SegmentsAfter(objstore::ObjectStore& store, std::uint64_t applied_seq,
                                    std::uint32_t limit);

}  // namespace zerofs::engine
