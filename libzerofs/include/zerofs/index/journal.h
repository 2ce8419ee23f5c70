// Journal records: the metadata batch a segment commits.
//
// A JournalRecord is an ordered list of index operations (put or delete of one key). The
// engine builds one per flush, the segment layer carries its encoding as opaque bytes in the
// segment's journal frames, and IndexDb::Apply applies it, in order, atomically. Replaying
// the records of segments seq+1, seq+2, ... onto a snapshot covering seq rebuilds the index.
//
// Encoding (docs/format.md §12.3): a 12-byte header (magic "ZFJR", version, reserved, op
// count) and then per op its kind, u16 key length, u32 value length, key and value. No
// checksum: journal frames are authenticated by the segment's AEAD. Bounds are enforced
// instead: every key is a well-formed index key of at most 1 KiB (keys.h), every value at
// most kMaxIndexValueBytes, a delete carries no value, and the whole record is at most
// format::kMaxJournalBytes. DecodeJournalRecord is a function from bytes to Result, safe on
// any input (it is fuzzed).
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"

namespace zerofs::index {

struct IndexOp {
  enum class Kind : std::uint8_t { kPut = 1, kDelete = 2 };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;  // empty for kDelete

  static IndexOp Put(std::string key, std::string value) {
    return {Kind::kPut, std::move(key), std::move(value)};
  }
  static IndexOp Delete(std::string key) { return {Kind::kDelete, std::move(key), {}}; }

  friend bool operator==(const IndexOp&, const IndexOp&) = default;
};

struct JournalRecord {
  std::vector<IndexOp> ops;

  friend bool operator==(const JournalRecord&, const JournalRecord&) = default;
};

// kInvalidArgument unless `op` may appear in a journal record: a well-formed index key
// (ValidateIndexKey), not the meta key applied_seq (IndexDb::Apply owns it), a value within
// bounds, no value on a delete.
Status ValidateIndexOp(const IndexOp& op);

// The encoded size of `record`, without encoding it (for the engine's flush threshold).
std::uint64_t EncodedJournalSize(const JournalRecord& record);

// kInvalidArgument unless every op is valid and the encoding fits kMaxJournalBytes.
Status ValidateJournalRecord(const JournalRecord& record);

// Encodes a record that ValidateJournalRecord accepts.
std::string EncodeJournalRecord(const JournalRecord& record);

// Decodes and validates; every failure is kCorruption naming `object_name` (the segment).
Result<JournalRecord> DecodeJournalRecord(std::string_view bytes, std::string_view object_name);

}  // namespace zerofs::index
