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
  return format::ParseSegmentObjectName(key);
}

// The inode of a pending-drop meta key, if it is one.
inline std::optional<std::uint64_t> DropInodeOf(std::string_view key) {
  auto name = index::DecodeMetaKey(key);
  if (!name.ok()) return std::nullopt;
  return format::ParseDropMetaName(*name);
}

}  // namespace zerofs::engine
