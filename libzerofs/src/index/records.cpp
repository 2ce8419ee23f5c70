#include "zerofs/index/records.h"

#include "byte_reader.h"
#include "zerofs/index/keys.h"

namespace zerofs::index {
namespace {

using format::kIndexRecordVersion;

// Why `record` cannot be stored, or nullptr if it can. Shared by the validator (an error
// of the caller) and the decoder (corrupt bytes).
const char* InodeRecordProblem(const InodeRecord& r) {
  for (const Timespec* t : {&r.atime, &r.mtime, &r.ctime, &r.btime}) {
    if (t->nsec > format::kMaxNanoseconds) return "nanoseconds out of range";
  }
  const FileType type = FileTypeOfMode(r.mode);
  if (!IsKnownFileType(type)) return "unknown file type in mode";
  if ((r.mode & ~(kModeTypeMask | kModePermissionMask)) != 0) return "unknown mode bits";
  if (type == FileType::kSymlink) {
    if (r.symlink_target.empty() || r.symlink_target.size() > format::kMaxSymlinkTargetBytes) {
      return "symlink target not 1..4096 bytes";
    }
  } else if (!r.symlink_target.empty()) {
    return "symlink target on a non-symlink";
  }
  return nullptr;
}

void PutTime(std::string& out, const Timespec& t) {
  PutI64(out, t.sec);
  format::PutU32(out, t.nsec);
}

Timespec ReadTime(ByteReader& in) {
  Timespec t;
  t.sec = in.I64();
  t.nsec = in.U32();
  return t;
}

Status Bad(std::string_view what, std::string_view why) {
  return Status::Corruption("malformed " + std::string(what) + " record: " + std::string(why));
}

// Checks the version byte; the caller then reads the fields.
Status CheckVersion(ByteReader& in, std::string_view what) {
  const std::uint8_t version = in.U8();
  if (!in.ok()) return Bad(what, "empty");
  if (version != kIndexRecordVersion) {
    return Bad(what, "unknown version " + std::to_string(version));
  }
  return Status::Ok();
}

Status CheckEnd(const ByteReader& in, std::string_view what) {
  if (!in.ok()) return Bad(what, "truncated");
  if (!in.AtEnd()) return Bad(what, "trailing bytes");
  return Status::Ok();
}

}  // namespace

FileType FileTypeOfMode(std::uint32_t mode) {
  switch (mode & kModeTypeMask) {
    case kModeFifo: return FileType::kFifo;
    case kModeCharDevice: return FileType::kCharDevice;
    case kModeDirectory: return FileType::kDirectory;
    case kModeBlockDevice: return FileType::kBlockDevice;
    case kModeRegular: return FileType::kRegular;
    case kModeSymlink: return FileType::kSymlink;
    case kModeSocket: return FileType::kSocket;
    default: return FileType::kUnknown;
  }
}

bool IsKnownFileType(FileType type) {
  switch (type) {
    case FileType::kFifo:
    case FileType::kCharDevice:
    case FileType::kDirectory:
    case FileType::kBlockDevice:
    case FileType::kRegular:
    case FileType::kSymlink:
    case FileType::kSocket: return true;
    case FileType::kUnknown: return false;
  }
  return false;
}

Status ValidateInodeRecord(const InodeRecord& record) {
  if (const char* problem = InodeRecordProblem(record)) {
    return Status::InvalidArgument("inode " + std::to_string(record.ino) + ": " + problem);
  }
  return Status::Ok();
}

Status ValidateDirCookieRecord(const DirCookieRecord& record) {
  ZEROFS_RETURN_IF_ERROR(ValidateName(record.name));
  if (!IsKnownFileType(record.type)) return Status::InvalidArgument("unknown file type");
  return Status::Ok();
}

Status ValidateSegmentUsage(const SegmentUsage& usage) {
  if (usage.live_bytes > usage.total_bytes || usage.live_extents > usage.total_extents) {
    return Status::InvalidArgument("segment usage: live exceeds total");
  }
  return Status::Ok();
}

// ---- InodeRecord ----

std::string EncodeInodeRecord(const InodeRecord& r) {
  std::string out;
  out.reserve(format::kInodeRecordFixedBytes + r.symlink_target.size());
  format::PutU8(out, kIndexRecordVersion);
  format::PutU64(out, r.ino);
  format::PutU64(out, r.parent);
  format::PutU32(out, r.mode);
  format::PutU32(out, r.uid);
  format::PutU32(out, r.gid);
  format::PutU32(out, r.nlink);
  format::PutU64(out, r.size);
  format::PutU64(out, r.rdev);
  format::PutU64(out, r.generation);
  format::PutU32(out, r.flags);
  format::PutU64(out, r.next_dir_cookie);
  PutTime(out, r.atime);
  PutTime(out, r.mtime);
  PutTime(out, r.ctime);
  PutTime(out, r.btime);
  format::PutU16(out, static_cast<std::uint16_t>(r.symlink_target.size()));
  out.append(r.symlink_target);
  return out;
}

Result<InodeRecord> DecodeInodeRecord(std::string_view bytes) {
  constexpr std::string_view kWhat = "inode";
  ByteReader in(bytes);
  ZEROFS_RETURN_IF_ERROR(CheckVersion(in, kWhat));
  InodeRecord r;
  r.ino = in.U64();
  r.parent = in.U64();
  r.mode = in.U32();
  r.uid = in.U32();
  r.gid = in.U32();
  r.nlink = in.U32();
  r.size = in.U64();
  r.rdev = in.U64();
  r.generation = in.U64();
  r.flags = in.U32();
  r.next_dir_cookie = in.U64();
  r.atime = ReadTime(in);
  r.mtime = ReadTime(in);
  r.ctime = ReadTime(in);
  r.btime = ReadTime(in);
  const std::uint16_t target_bytes = in.U16();
  r.symlink_target = std::string(in.Bytes(target_bytes));
  ZEROFS_RETURN_IF_ERROR(CheckEnd(in, kWhat));
  if (const char* problem = InodeRecordProblem(r)) return Bad(kWhat, problem);
  return r;
}

// ---- DirentRecord ----

std::string EncodeDirentRecord(const DirentRecord& r) {
  std::string out;
  out.reserve(format::kDirentRecordBytes);
  format::PutU8(out, kIndexRecordVersion);
  format::PutU64(out, r.ino);
  format::PutU8(out, static_cast<std::uint8_t>(r.type));
  format::PutU64(out, r.cookie);
  return out;
}

Result<DirentRecord> DecodeDirentRecord(std::string_view bytes) {
  constexpr std::string_view kWhat = "dirent";
  ByteReader in(bytes);
  ZEROFS_RETURN_IF_ERROR(CheckVersion(in, kWhat));
  DirentRecord r;
  r.ino = in.U64();
  r.type = static_cast<FileType>(in.U8());
  r.cookie = in.U64();
  ZEROFS_RETURN_IF_ERROR(CheckEnd(in, kWhat));
  if (!IsKnownFileType(r.type)) return Bad(kWhat, "unknown file type");
  return r;
}

// ---- DirCookieRecord ----

std::string EncodeDirCookieRecord(const DirCookieRecord& r) {
  std::string out;
  out.reserve(format::kDirCookieRecordFixedBytes + r.name.size());
  format::PutU8(out, kIndexRecordVersion);
  format::PutU64(out, r.ino);
  format::PutU8(out, static_cast<std::uint8_t>(r.type));
  format::PutU8(out, static_cast<std::uint8_t>(r.name.size()));
  out.append(r.name);
  return out;
}

Result<DirCookieRecord> DecodeDirCookieRecord(std::string_view bytes) {
  constexpr std::string_view kWhat = "dir cookie";
  ByteReader in(bytes);
  ZEROFS_RETURN_IF_ERROR(CheckVersion(in, kWhat));
  DirCookieRecord r;
  r.ino = in.U64();
  r.type = static_cast<FileType>(in.U8());
  const std::uint8_t name_bytes = in.U8();
  r.name = std::string(in.Bytes(name_bytes));
  ZEROFS_RETURN_IF_ERROR(CheckEnd(in, kWhat));
  if (!IsKnownFileType(r.type)) return Bad(kWhat, "unknown file type");
  if (!ValidateName(r.name).ok()) return Bad(kWhat, "invalid name");
  return r;
}

// ---- SegmentUsage ----

std::string EncodeSegmentUsage(const SegmentUsage& u) {
  std::string out;
  out.reserve(format::kSegmentUsageBytes);
  format::PutU8(out, kIndexRecordVersion);
  format::PutU64(out, u.live_bytes);
  format::PutU64(out, u.total_bytes);
  format::PutU64(out, u.live_extents);
  format::PutU64(out, u.total_extents);
  return out;
}

Result<SegmentUsage> DecodeSegmentUsage(std::string_view bytes) {
  constexpr std::string_view kWhat = "segment usage";
  ByteReader in(bytes);
  ZEROFS_RETURN_IF_ERROR(CheckVersion(in, kWhat));
  SegmentUsage u;
  u.live_bytes = in.U64();
  u.total_bytes = in.U64();
  u.live_extents = in.U64();
  u.total_extents = in.U64();
  ZEROFS_RETURN_IF_ERROR(CheckEnd(in, kWhat));
  if (!ValidateSegmentUsage(u).ok()) return Bad(kWhat, "live exceeds total");
  return u;
}

// ---- VolumeCounters ----

std::string EncodeVolumeCounters(const VolumeCounters& c) {
  std::string out;
  out.reserve(format::kVolumeCountersBytes);
  format::PutU8(out, kIndexRecordVersion);
  format::PutU64(out, c.used_bytes);
  format::PutU64(out, c.inode_count);
  return out;
}

Result<VolumeCounters> DecodeVolumeCounters(std::string_view bytes) {
  constexpr std::string_view kWhat = "volume counters";
  ByteReader in(bytes);
  ZEROFS_RETURN_IF_ERROR(CheckVersion(in, kWhat));
  VolumeCounters c;
  c.used_bytes = in.U64();
  c.inode_count = in.U64();
  ZEROFS_RETURN_IF_ERROR(CheckEnd(in, kWhat));
  return c;
}

// ---- u64 meta values ----

std::string EncodeU64Value(std::uint64_t value) {
  std::string out;
  out.reserve(format::kU64ValueBytes);
  format::PutU64(out, value);
  return out;
}

Result<std::uint64_t> DecodeU64Value(std::string_view bytes) {
  if (bytes.size() != format::kU64ValueBytes) {
    return Status::Corruption("malformed u64 index value (" + std::to_string(bytes.size()) +
                              " bytes)");
  }
  return format::LoadU64(bytes.data());
}

}  // namespace zerofs::index
