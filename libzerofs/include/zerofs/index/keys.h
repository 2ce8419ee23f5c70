// The index key space: how inodes, directory entries, xattrs, the extent map, segment usage
// and volume metadata are named in the one RocksDB column family of the index.
//
// Every key starts with a one-byte table tag (format::IndexTable); integers in keys are
// big-endian, so RocksDB's bytewise order is numeric order: the extents of one inode sort by
// extent index, all entries of one directory are contiguous (and sort by name in the 'd'
// table, by cookie in the 'c' table). A table's keys for one object share a prefix
// (DirentPrefix, ExtentPrefix, ...) that IndexDb::Scan iterates. Layouts: docs/format.md §12.1.
//
// Builders take names as given and assume the caller checked them (ValidateName /
// ValidateXattrName; the VFS does); decoders take bytes that may come from a journal record
// or a snapshot and reject anything malformed with kCorruption.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/common/coding.h"
#include "zerofs/common/result.h"
#include "zerofs/index/index_format.h"

namespace zerofs::index {

using format::IndexTable;

// ---- Builders ----

std::string InodeKey(std::uint64_t ino);
std::string DirentKey(std::uint64_t parent, std::string_view name);
std::string DirentPrefix(std::uint64_t parent);
std::string DirCookieKey(std::uint64_t parent, std::uint64_t cookie);
std::string DirCookiePrefix(std::uint64_t parent);
std::string XattrKey(std::uint64_t ino, std::string_view name);
std::string XattrPrefix(std::uint64_t ino);
std::string ExtentKey(std::uint64_t ino, std::uint64_t extent_index);
std::string ExtentPrefix(std::uint64_t ino);
std::string SegmentUsageKey(std::uint64_t seq);
// Every key of one table ("the whole extent map", "every inode"), for fsck and GC scans.
std::string TablePrefix(IndexTable table);
std::string MetaKey(std::string_view name);

// ---- Name rules (kInvalidArgument, naming what is wrong) ----

// A directory entry name: 1..255 bytes, no NUL and no '/', not "." or "..".
Status ValidateName(std::string_view name);
// An xattr name: 1..255 bytes, no NUL.
Status ValidateXattrName(std::string_view name);
// A meta name: 1..64 bytes of [a-z0-9_].
Status ValidateMetaName(std::string_view name);

// ---- Decoders (kCorruption on malformed bytes) ----

struct DirentKeyParts {
  std::uint64_t parent = 0;
  std::string_view name;  // points into the decoded key
};
struct DirCookieKeyParts {
  std::uint64_t parent = 0;
  std::uint64_t cookie = 0;
};
struct XattrKeyParts {
  std::uint64_t ino = 0;
  std::string_view name;  // points into the decoded key
};
struct ExtentKeyParts {
  std::uint64_t ino = 0;
  std::uint64_t extent_index = 0;
};

// The table of a key: its first byte, if it is a known tag.
Result<IndexTable> KeyTable(std::string_view key);

Result<std::uint64_t> DecodeInodeKey(std::string_view key);
Result<DirentKeyParts> DecodeDirentKey(std::string_view key);
Result<DirCookieKeyParts> DecodeDirCookieKey(std::string_view key);
Result<XattrKeyParts> DecodeXattrKey(std::string_view key);
Result<ExtentKeyParts> DecodeExtentKey(std::string_view key);
Result<std::uint64_t> DecodeSegmentUsageKey(std::string_view key);
// The meta name, pointing into the key.
Result<std::string_view> DecodeMetaKey(std::string_view key);

// OK if `key` is a well-formed key of a known table (every decoder above, by tag).
Status ValidateIndexKey(std::string_view key);

// ---- Big-endian ids, shared by the builders and the decoders (common/coding.h) ----

using coding::AppendBigEndian64;
using coding::LoadBigEndian64;

}  // namespace zerofs::index
