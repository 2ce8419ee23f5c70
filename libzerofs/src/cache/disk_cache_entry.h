// The file format of one DiskCache entry (a sealed frame kept on local disk).
//
// Local to one machine and never in the bucket, but a format all the same: a crash, a full
// disk or another program may leave any bytes in an entry file, and the reader must notice.
// All integers little-endian:
//
//   offset  size  field
//        0     8  magic "ZFSCACHE"
//        8     2  version (1)
//       10     2  reserved, 0
//       12     4  length: bytes of data that follow the header
//       16     8  segment seq of the frame          } the FrameId, so that an entry renamed
//       24     8  offset of the frame in the segment } or copied to the wrong name is caught
//       32    16  BLAKE2b-128 (crypto_generichash, unkeyed) of bytes 0..31 followed by the data
//       48     n  data: the sealed frame exactly as fetched from the bucket
//
// The checksum catches torn and corrupted entries cheaply. It is not a defence against an
// attacker who can write the cache directory: the frame inside is still sealed, so the
// reader's AEAD check (segment::OpenExtent) has the last word on what the bytes mean.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/cache/frame_id.h"
#include "zerofs/common/result.h"

namespace zerofs::cache::disk_entry {

inline constexpr std::string_view kMagic = "ZFSCACHE";
inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kChecksumOffset = 32;
inline constexpr std::size_t kChecksumBytes = 16;
inline constexpr std::size_t kHeaderBytes = kChecksumOffset + kChecksumBytes;
// Entries hold frames (at most 32 KiB of extent plus overhead); anything claiming more than
// this is damage, and the reader never allocates for it.
inline constexpr std::size_t kMaxDataBytes = 16 * 1024 * 1024;

static_assert(kMagic.size() == 8);
static_assert(kChecksumOffset == 8 + 2 + 2 + 4 + 8 + 8);

// The whole entry file for `data` (at most kMaxDataBytes).
std::string Encode(const FrameId& id, std::string_view data);

// The data of an entry file read back, checked against `expected` (the FrameId its name
// says). kCorruption describing the damage otherwise.
Result<std::string_view> Decode(std::string_view file, const FrameId& expected);

// The length field of a header, or 0 when `header` is shorter than kHeaderBytes or has the
// wrong magic; lets the reader size its buffer before reading the rest.
std::size_t PeekLength(std::string_view header);

}  // namespace zerofs::cache::disk_entry
