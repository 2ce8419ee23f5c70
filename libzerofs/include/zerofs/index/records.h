// Index values: the records stored under the keys of keys.h.
//
// Each record starts with a version byte (format::kIndexRecordVersion) followed by
// little-endian fields at fixed offsets and, for the variable-length ones, a length-prefixed
// tail; a record is exactly as long as its fields (docs/format.md §12.2). A later version
// adds fields behind a new version byte, and its decoder keeps reading the old one.
//
// Encoders expect values that the matching Validate* accepts (the engine builds records from
// checked input); decoders are functions from bytes to Result that reject anything malformed
// with kCorruption, because the bytes come from journal records and snapshots in the bucket.
// Raw xattr values and extent locations (segment/extent_location.h) are not records: they
// are stored as they are.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/index/index_format.h"

namespace zerofs::index {

// File types as directory entries carry them: the values of Linux's DT_* constants, which
// 9P's readdir and FUSE use unchanged.
enum class FileType : std::uint8_t {
  kUnknown = 0,
  kFifo = 1,
  kCharDevice = 2,
  kDirectory = 4,
  kBlockDevice = 6,
  kRegular = 8,
  kSymlink = 10,
  kSocket = 12,
};

// The type bits of a mode (S_IFMT and Linux's S_IF* values).
inline constexpr std::uint32_t kModeTypeMask = 0170000;
inline constexpr std::uint32_t kModeFifo = 0010000;
inline constexpr std::uint32_t kModeCharDevice = 0020000;
inline constexpr std::uint32_t kModeDirectory = 0040000;
inline constexpr std::uint32_t kModeBlockDevice = 0060000;
inline constexpr std::uint32_t kModeRegular = 0100000;
inline constexpr std::uint32_t kModeSymlink = 0120000;
inline constexpr std::uint32_t kModeSocket = 0140000;
// Permission and set-id/sticky bits; a mode has no bits outside type | these.
inline constexpr std::uint32_t kModePermissionMask = 07777;

// The file type of `mode`; kUnknown if its type bits are not one of the seven above.
FileType FileTypeOfMode(std::uint32_t mode);
// True for the seven types above (not kUnknown).
bool IsKnownFileType(FileType type);

struct Timespec {
  std::int64_t sec = 0;
  std::uint32_t nsec = 0;  // 0..999999999
  friend bool operator==(const Timespec&, const Timespec&) = default;
};

struct InodeRecord {
  std::uint64_t ino = 0;
  // Directories: the inode of the directory that holds it (itself for the root), so that
  // ".." needs no search. Other types: 0 (hard links have no single parent).
  std::uint64_t parent = 0;
  std::uint32_t mode = 0;  // type bits | permission bits
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t nlink = 0;
  std::uint64_t size = 0;
  std::uint64_t rdev = 0;
  Timespec atime;
  Timespec mtime;
  Timespec ctime;
  Timespec btime;
  std::uint64_t generation = 0;
  std::uint32_t flags = 0;
  // Directories: the cookie the next new entry gets (starts at format::kFirstDirCookie).
  std::uint64_t next_dir_cookie = 0;
  // Symlinks: the target, 1..4096 bytes. Empty for every other type.
  std::string symlink_target;

  FileType type() const { return FileTypeOfMode(mode); }
  friend bool operator==(const InodeRecord&, const InodeRecord&) = default;
};

// One entry of a directory, by name ('d' parent name).
struct DirentRecord {
  std::uint64_t ino = 0;
  FileType type = FileType::kUnknown;
  std::uint64_t cookie = 0;  // the entry's key in the 'c' table
  friend bool operator==(const DirentRecord&, const DirentRecord&) = default;
};

// The same entry by cookie ('c' parent cookie), for readdir that resumes at a cookie.
struct DirCookieRecord {
  std::string name;
  std::uint64_t ino = 0;
  FileType type = FileType::kUnknown;
  friend bool operator==(const DirCookieRecord&, const DirCookieRecord&) = default;
};

// Per segment ('s' seq): how much of it the extent map still points at. Compaction picks
// segments whose live share is low; GC deletes those with live_extents == 0.
struct SegmentUsage {
  std::uint64_t live_bytes = 0;   // sealed bytes of live extent frames
  std::uint64_t total_bytes = 0;  // sealed bytes of all extent frames
  std::uint64_t live_extents = 0;
  std::uint64_t total_extents = 0;
  friend bool operator==(const SegmentUsage&, const SegmentUsage&) = default;
};

// Volume-wide counters (meta "volume_counters"), for statfs.
struct VolumeCounters {
  std::uint64_t used_bytes = 0;  // bytes of file data the volume holds (logical)
  std::uint64_t inode_count = 0;
  friend bool operator==(const VolumeCounters&, const VolumeCounters&) = default;
};

// kInvalidArgument unless the record can be encoded and decoded back: nsec <= 999999999,
// known file type, no mode bits outside type | 07777, symlink target 1..4096 bytes exactly
// for symlinks.
Status ValidateInodeRecord(const InodeRecord& record);
// kInvalidArgument unless the name is a valid entry name and the type known.
Status ValidateDirCookieRecord(const DirCookieRecord& record);
// kInvalidArgument unless live <= total for bytes and extents.
Status ValidateSegmentUsage(const SegmentUsage& usage);

std::string EncodeInodeRecord(const InodeRecord& record);
Result<InodeRecord> DecodeInodeRecord(std::string_view bytes);

std::string EncodeDirentRecord(const DirentRecord& record);
Result<DirentRecord> DecodeDirentRecord(std::string_view bytes);

std::string EncodeDirCookieRecord(const DirCookieRecord& record);
Result<DirCookieRecord> DecodeDirCookieRecord(std::string_view bytes);

std::string EncodeSegmentUsage(const SegmentUsage& usage);
Result<SegmentUsage> DecodeSegmentUsage(std::string_view bytes);

std::string EncodeVolumeCounters(const VolumeCounters& counters);
Result<VolumeCounters> DecodeVolumeCounters(std::string_view bytes);

// Plain u64 meta values (applied_seq, next_inode): 8 bytes little-endian, no version byte.
std::string EncodeU64Value(std::uint64_t value);
Result<std::uint64_t> DecodeU64Value(std::string_view bytes);

}  // namespace zerofs::index
