#include "zerofs/index/keys.h"

#include <algorithm>

namespace zerofs::index {
namespace {

using format::kIndexIdBytes;
using format::kIndexTagBytes;

constexpr std::size_t kIdKeyBytes = kIndexTagBytes + kIndexIdBytes;
constexpr std::size_t kTwoIdKeyBytes = kIndexTagBytes + 2 * kIndexIdBytes;

std::string TagAndId(IndexTable table, std::uint64_t id) {
  std::string key;
  key.reserve(kTwoIdKeyBytes);
  key.push_back(static_cast<char>(table));
  AppendBigEndian64(key, id);
  return key;
}

std::string TagAndTwoIds(IndexTable table, std::uint64_t a, std::uint64_t b) {
  std::string key = TagAndId(table, a);
  AppendBigEndian64(key, b);
  return key;
}

std::string TagIdAndName(IndexTable table, std::uint64_t id, std::string_view name) {
  std::string key;
  key.reserve(kIdKeyBytes + name.size());
  key.push_back(static_cast<char>(table));
  AppendBigEndian64(key, id);
  key.append(name);
  return key;
}

Status Malformed(std::string_view what, std::string_view key) {
  return Status::Corruption("malformed index " + std::string(what) + " key (" +
                            std::to_string(key.size()) + " bytes)");
}

// The tag is right and the key has exactly / at least `size` bytes.
bool HasShape(std::string_view key, IndexTable table, std::size_t size, bool exact) {
  if (key.empty() || static_cast<std::uint8_t>(key[0]) != static_cast<std::uint8_t>(table)) {
    return false;
  }
  return exact ? key.size() == size : key.size() >= size;
}

bool IsNameOk(std::string_view name, std::size_t max_bytes) {
  return !name.empty() && name.size() <= max_bytes && name.find('\0') == std::string_view::npos;
}

bool IsDirentNameOk(std::string_view name) {
  return IsNameOk(name, format::kMaxIndexNameBytes) && name.find('/') == std::string_view::npos &&
         name != "." && name != "..";
}

bool IsMetaNameOk(std::string_view name) {
  if (name.empty() || name.size() > format::kMaxMetaNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::string InodeKey(std::uint64_t ino) {
  return TagAndId(IndexTable::kInode, ino);
}

std::string DirentKey(std::uint64_t parent, std::string_view name) {
  return TagIdAndName(IndexTable::kDirent, parent, name);
}
std::string DirentPrefix(std::uint64_t parent) {
  return TagAndId(IndexTable::kDirent, parent);
}

std::string DirCookieKey(std::uint64_t parent, std::uint64_t cookie) {
  return TagAndTwoIds(IndexTable::kCookie, parent, cookie);
}
std::string DirCookiePrefix(std::uint64_t parent) {
  return TagAndId(IndexTable::kCookie, parent);
}

std::string XattrKey(std::uint64_t ino, std::string_view name) {
  return TagIdAndName(IndexTable::kXattr, ino, name);
}
std::string XattrPrefix(std::uint64_t ino) {
  return TagAndId(IndexTable::kXattr, ino);
}

std::string ExtentKey(std::uint64_t ino, std::uint64_t extent_index) {
  return TagAndTwoIds(IndexTable::kExtent, ino, extent_index);
}
std::string ExtentPrefix(std::uint64_t ino) {
  return TagAndId(IndexTable::kExtent, ino);
}

std::string SegmentUsageKey(std::uint64_t seq) {
  return TagAndId(IndexTable::kSegmentUsage, seq);
}

std::string TablePrefix(IndexTable table) {
  return std::string(1, static_cast<char>(table));
}

std::string MetaKey(std::string_view name) {
  std::string key = TablePrefix(IndexTable::kMeta);
  key.append(name);
  return key;
}

Status ValidateName(std::string_view name) {
  if (IsDirentNameOk(name)) return Status::Ok();
  if (name.size() > format::kMaxIndexNameBytes) {
    return Status::InvalidArgument("name longer than 255 bytes");
  }
  return Status::InvalidArgument(
      "invalid directory entry name (empty, '.', '..', or has '/' or NUL)");
}

Status ValidateXattrName(std::string_view name) {
  if (IsNameOk(name, format::kMaxXattrNameBytes)) return Status::Ok();
  return Status::InvalidArgument("invalid xattr name (empty, longer than 255 bytes, or has NUL)");
}

Status ValidateMetaName(std::string_view name) {
  if (IsMetaNameOk(name)) return Status::Ok();
  return Status::InvalidArgument("invalid meta name '" + std::string(name) + "'");
}

Result<IndexTable> KeyTable(std::string_view key) {
  if (key.empty()) return Status::Corruption("empty index key");
  const auto tag = static_cast<IndexTable>(static_cast<std::uint8_t>(key[0]));
  switch (tag) {
    case IndexTable::kCookie:
    case IndexTable::kDirent:
    case IndexTable::kExtent:
    case IndexTable::kInode:
    case IndexTable::kMeta:
    case IndexTable::kSegmentUsage:
    case IndexTable::kXattr: return tag;
  }
  return Status::Corruption("index key with unknown table tag " +
                            std::to_string(static_cast<std::uint8_t>(key[0])));
}

Result<std::uint64_t> DecodeInodeKey(std::string_view key) {
  if (!HasShape(key, IndexTable::kInode, kIdKeyBytes, true)) return Malformed("inode", key);
  return LoadBigEndian64(key.data() + kIndexTagBytes);
}

Result<DirentKeyParts> DecodeDirentKey(std::string_view key) {
  if (!HasShape(key, IndexTable::kDirent, kIdKeyBytes + 1, false)) {
    return Malformed("dirent", key);
  }
  DirentKeyParts parts{LoadBigEndian64(key.data() + kIndexTagBytes), key.substr(kIdKeyBytes)};
  if (!IsDirentNameOk(parts.name)) return Malformed("dirent", key);
  return parts;
}

Result<DirCookieKeyParts> DecodeDirCookieKey(std::string_view key) {
  if (!HasShape(key, IndexTable::kCookie, kTwoIdKeyBytes, true)) {
    return Malformed("dir cookie", key);
  }
  return DirCookieKeyParts{LoadBigEndian64(key.data() + kIndexTagBytes),
                           LoadBigEndian64(key.data() + kIdKeyBytes)};
}

Result<XattrKeyParts> DecodeXattrKey(std::string_view key) {
  if (!HasShape(key, IndexTable::kXattr, kIdKeyBytes + 1, false)) return Malformed("xattr", key);
  XattrKeyParts parts{LoadBigEndian64(key.data() + kIndexTagBytes), key.substr(kIdKeyBytes)};
  if (!IsNameOk(parts.name, format::kMaxXattrNameBytes)) return Malformed("xattr", key);
  return parts;
}

Result<ExtentKeyParts> DecodeExtentKey(std::string_view key) {
  if (!HasShape(key, IndexTable::kExtent, kTwoIdKeyBytes, true)) return Malformed("extent", key);
  return ExtentKeyParts{LoadBigEndian64(key.data() + kIndexTagBytes),
                        LoadBigEndian64(key.data() + kIdKeyBytes)};
}

Result<std::uint64_t> DecodeSegmentUsageKey(std::string_view key) {
  if (!HasShape(key, IndexTable::kSegmentUsage, kIdKeyBytes, true)) {
    return Malformed("segment usage", key);
  }
  return LoadBigEndian64(key.data() + kIndexTagBytes);
}

Result<std::string_view> DecodeMetaKey(std::string_view key) {
  if (!HasShape(key, IndexTable::kMeta, kIndexTagBytes + 1, false) ||
      !IsMetaNameOk(key.substr(kIndexTagBytes))) {
    return Malformed("meta", key);
  }
  return key.substr(kIndexTagBytes);
}

Status ValidateIndexKey(std::string_view key) {
  ZEROFS_ASSIGN_OR_RETURN(const IndexTable table, KeyTable(key));
  switch (table) {
    case IndexTable::kCookie: return DecodeDirCookieKey(key).status();
    case IndexTable::kDirent: return DecodeDirentKey(key).status();
    case IndexTable::kExtent: return DecodeExtentKey(key).status();
    case IndexTable::kInode: return DecodeInodeKey(key).status();
    case IndexTable::kMeta: return DecodeMetaKey(key).status();
    case IndexTable::kSegmentUsage: return DecodeSegmentUsageKey(key).status();
    case IndexTable::kXattr: return DecodeXattrKey(key).status();
  }
  return Status::Corruption("index key with unknown table tag");
}

}  // namespace zerofs::index
