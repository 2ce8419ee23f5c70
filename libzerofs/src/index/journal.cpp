#include "zerofs/index/journal.h"

#include "byte_reader.h"
#include "zerofs/index/index_format.h"
#include "zerofs/index/keys.h"

namespace zerofs::index {
namespace {

// Why `op` cannot be journaled, or nullptr.
const char* OpProblem(IndexOp::Kind kind, std::string_view key, std::size_t value_bytes) {
  if (kind != IndexOp::Kind::kPut && kind != IndexOp::Kind::kDelete) return "unknown op kind";
  if (key.size() > format::kMaxIndexKeyBytes) return "key longer than 1 KiB";
  if (!ValidateIndexKey(key).ok()) return "malformed index key";
  static const std::string applied_seq_key = MetaKey(format::kMetaAppliedSeq);
  if (key == applied_seq_key) return "op on applied_seq";
  if (kind == IndexOp::Kind::kDelete && value_bytes != 0) return "delete with a value";
  if (value_bytes > format::kMaxIndexValueBytes) return "value too long";
  return nullptr;
}

std::uint64_t EncodedOpSize(const IndexOp& op) {
  return format::kJournalOpHeaderBytes + op.key.size() + op.value.size();
}

}  // namespace

Status ValidateIndexOp(const IndexOp& op) {
  if (const char* problem = OpProblem(op.kind, op.key, op.value.size())) {
    return Status::InvalidArgument(std::string("invalid index op: ") + problem);
  }
  return Status::Ok();
}

std::uint64_t EncodedJournalSize(const JournalRecord& record) {
  std::uint64_t size = format::kJournalHeaderBytes;
  for (const IndexOp& op : record.ops) size += EncodedOpSize(op);
  return size;
}

Status ValidateJournalRecord(const JournalRecord& record) {
  for (std::size_t i = 0; i < record.ops.size(); ++i) {
    Status s = ValidateIndexOp(record.ops[i]);
    if (!s.ok()) return s.WithContext("journal op " + std::to_string(i));
  }
  if (EncodedJournalSize(record) > format::kMaxJournalBytes) {
    return Status::InvalidArgument("journal record larger than 64 MiB");
  }
  return Status::Ok();
}

std::string EncodeJournalRecord(const JournalRecord& record) {
  std::string out;
  out.reserve(EncodedJournalSize(record));
  out.append(format::kJournalMagic);
  format::PutU8(out, format::kJournalVersion);
  format::PutU8(out, 0);
  format::PutU16(out, 0);
  format::PutU32(out, static_cast<std::uint32_t>(record.ops.size()));
  for (const IndexOp& op : record.ops) {
    format::PutU8(out, static_cast<std::uint8_t>(op.kind));
    format::PutU16(out, static_cast<std::uint16_t>(op.key.size()));
    format::PutU32(out, static_cast<std::uint32_t>(op.value.size()));
    out.append(op.key);
    out.append(op.value);
  }
  return out;
}

Result<JournalRecord> DecodeJournalRecord(std::string_view bytes, std::string_view object_name) {
  const auto bad = [&](const std::string& why) {
    return Status::Corruption(std::string(object_name) + ": journal record: " + why);
  };
  if (bytes.size() > format::kMaxJournalBytes) return bad("larger than 64 MiB");
  ByteReader in(bytes);
  const std::string_view magic = in.Bytes(format::kJournalMagic.size());
  const std::uint8_t version = in.U8();
  const std::uint8_t reserved8 = in.U8();
  const std::uint16_t reserved16 = in.U16();
  const std::uint32_t op_count = in.U32();
  if (!in.ok()) return bad("truncated header");
  if (magic != format::kJournalMagic) return bad("bad magic");
  if (version != format::kJournalVersion) return bad("unknown version " + std::to_string(version));
  if (reserved8 != 0 || reserved16 != 0) return bad("reserved bits set");
  // Every op takes at least its header and a 2-byte key; check before allocating.
  if (op_count > in.remaining() / (format::kJournalOpHeaderBytes + 2)) {
    return bad("op count " + std::to_string(op_count) + " exceeds the record");
  }

  JournalRecord record;
  record.ops.reserve(op_count);
  for (std::uint32_t i = 0; i < op_count; ++i) {
    const auto kind = static_cast<IndexOp::Kind>(in.U8());
    const std::uint16_t key_bytes = in.U16();
    const std::uint32_t value_bytes = in.U32();
    const std::string_view key = in.Bytes(key_bytes);
    const std::string_view value = in.Bytes(value_bytes);
    if (!in.ok()) return bad("op " + std::to_string(i) + " truncated");
    if (const char* problem = OpProblem(kind, key, value.size())) {
      return bad("op " + std::to_string(i) + ": " + problem);
    }
    record.ops.push_back(IndexOp{kind, std::string(key), std::string(value)});
  }
  if (!in.AtEnd()) return bad("trailing bytes after the last op");
  return record;
}

}  // namespace zerofs::index
