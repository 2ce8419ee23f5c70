// FrameId: the name of one sealed frame in the bucket, as the caches key it.
//
// Segments are immutable and their seqs are never reused, so a frame's place (segment seq,
// byte offset of the frame in the segment object) identifies its content for the life of the
// volume. Both caches use it: ExtentCache maps it to the frame's plaintext, DiskCache to its
// sealed bytes. Dropping a segment (compaction) drops every FrameId with its seq.
//
// Thread-safety: a plain value type.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>

#include "zerofs/common/coding.h"

namespace zerofs::cache {

struct FrameId {
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;

  friend bool operator==(const FrameId&, const FrameId&) = default;
  // Orders by seq, then offset, so that the frames of one segment are adjacent in a map.
  friend auto operator<=>(const FrameId&, const FrameId&) = default;
};

// A well-mixed 64-bit hash of a FrameId. Used for hash maps and to pick ExtentCache shards
// and DiskCache subdirectories, so neighbouring frames of one segment spread out evenly.
inline std::uint64_t MixFrameId(const FrameId& id) {
  // splitmix64's finalizer over a combination of both fields.
  std::uint64_t x = id.seq * 0x9e3779b97f4a7c15ULL ^ id.offset;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

struct FrameIdHash {
  std::size_t operator()(const FrameId& id) const { return MixFrameId(id); }
};

// "segment 000000000000002a offset 4144", for log lines and errors.
inline std::string DescribeFrameId(const FrameId& id) {
  std::string out = "segment ";
  out += coding::HexU64(id.seq);
  out += " offset ";
  out += std::to_string(id.offset);
  return out;
}

}  // namespace zerofs::cache
