// The rules that make the chain of segments a log (docs/format.md "The segment chain").
//
// These constants fix how recovery reads the bucket, so they are part of the format: a
// change here is a change of the bucket format (docs/format.md in the same change).
//
// Thread-safety: constants only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zerofs/common/coding.h"

namespace zerofs::format {

// Every journal record ends with puts of these meta keys (u64 values), so that the index
// always knows where the chain continues and which writer epoch it is at.
inline constexpr std::string_view kMetaNextSeq = "next_seq";        // the seq replay reads next
inline constexpr std::string_view kMetaChainEpoch = "chain_epoch";  // epoch of the last record
// The volume the local index belongs to (16-byte uuid), so that a cache directory reused for
// another volume is detected and rebuilt.
inline constexpr std::string_view kMetaVolumeUuid = "volume_uuid";

// Pending drops (docs/format.md §12.1): the meta key "drop_<inode as 16 lower-case hex
// digits>" (empty value) says that the inode was deleted and its extents are still being
// released by the collector, a bounded number per segment; the last round deletes the key.
inline constexpr std::string_view kMetaDropPrefix = "drop_";
inline std::string DropMetaName(std::uint64_t inode) {
  return coding::HexU64Name(kMetaDropPrefix, inode);
}
// The inode of a pending-drop meta name; nullopt for any other name.
inline std::optional<std::uint64_t> ParseDropMetaName(std::string_view name) {
  return coding::ParseHexU64Name(name, kMetaDropPrefix);
}

// A writer has at most this many segments sealed beyond its last durable one.
inline constexpr std::uint32_t kMaxInflightSegments = 32;
// A fence segment at seq F continues the chain at F + kFenceWindowSegments: the seqs between
// may hold late segments of the fenced writer (at most kMaxInflightSegments of them, since
// its F never became durable), which replay therefore never reads.
inline constexpr std::uint64_t kFenceWindowSegments = kMaxInflightSegments + 1;
static_assert(kFenceWindowSegments > kMaxInflightSegments);

}  // namespace zerofs::format
