// Parsing the engine's own names: segment object keys and pending-drop meta keys
// (docs/format.md). The inverse of format::SegmentObjectName and format::DropMetaName.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"

namespace zerofs::engine {

// The seq of a segment object key ("segments/<16 lower-case hex>"), if it is one.
inline std::optional<std::uint64_t> SegmentSeqOf(std::string_view key) {
  if (!key.starts_with(format::kSegmentPrefix)) return std::nullopt;
  key.remove_prefix(format::kSegmentPrefix.size());
  if (key.size() != 16) return std::nullopt;
  std::uint64_t seq = 0;
  for (char c : key) {
    std::uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    seq = seq * 16 + digit;
  }
  return seq;
}

// The inode of a pending-drop meta key, if it is one.
inline std::optional<std::uint64_t> DropInodeOf(std::string_view key) {
  auto name = index::DecodeMetaKey(key);
  if (!name.ok() || !name->starts_with(format::kMetaDropPrefix)) return std::nullopt;
  std::string_view hex = name->substr(format::kMetaDropPrefix.size());
  if (hex.size() != 16) return std::nullopt;
  std::uint64_t ino = 0;
  for (char c : hex) {
    if (c >= '0' && c <= '9') {
      ino = ino * 16 + static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      ino = ino * 16 + static_cast<std::uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
  }
  return ino;
}

}  // namespace zerofs::engine
