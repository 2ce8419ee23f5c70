// The pieces of a segment object: header, directory entries, footer and frame AADs.
//
//   segment := header extent-frame* journal-frame+ directory-frame footer
//
// docs/format.md §6 specifies every byte; this header encodes and decodes them. Decoders are
// functions from bytes to Result, bounded and fuzzable (tests/fuzz): each checks every
// field, reserved bytes included, and reports kCorruption naming the object. They do not
// touch the object store; segment_reader.h and segment_writer.h do.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/volume_uuid.h"
#include "zerofs/format.h"

namespace zerofs::segment {

using crypto::VolumeUuid;
using format::FrameKind;

struct SegmentHeader {
  VolumeUuid uuid;
  std::uint64_t seq = 0;
  std::uint64_t writer_epoch = 0;
  friend bool operator==(const SegmentHeader&, const SegmentHeader&) = default;
};

struct SegmentFooter {
  VolumeUuid uuid;
  std::uint64_t seq = 0;
  std::uint64_t writer_epoch = 0;
  std::uint64_t directory_offset = 0;
  std::uint32_t directory_length = 0;  // sealed bytes of the directory frame
  std::uint32_t entry_count = 0;       // extents + journal parts
  std::uint32_t extent_count = 0;
  friend bool operator==(const SegmentFooter&, const SegmentFooter&) = default;
};

struct DirectoryEntry {
  FrameKind kind = FrameKind::kExtent;
  std::uint32_t sealed_length = 0;
  std::uint64_t offset = 0;
  std::uint32_t plaintext_length = 0;
  std::uint64_t inode = 0;         // journal parts: 0
  std::uint64_t extent_index = 0;  // journal parts: the part index
  std::uint64_t end() const { return offset + sealed_length; }
  friend bool operator==(const DirectoryEntry&, const DirectoryEntry&) = default;
};

std::string EncodeSegmentHeader(const SegmentHeader& header);
// Checks magic, version, length and flags; `object_name` starts every error message.
Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes, std::string_view object_name);

std::string EncodeSegmentFooter(const SegmentFooter& footer, const crypto::KeyRing& keys);
// Structure only: exactly kSegmentFooterBytes, magic, version, length, counts. The MAC is
// not checked; DecodeSegmentFooter does that.
Result<SegmentFooter> ParseSegmentFooter(std::string_view bytes, std::string_view object_name);
// ParseSegmentFooter, then the MAC, then that the footer belongs to (`uuid`, `seq`) and
// describes an object of `object_size` bytes.
Result<SegmentFooter> DecodeSegmentFooter(std::string_view bytes, const crypto::KeyRing& keys,
                                          const VolumeUuid& uuid, std::uint64_t seq,
                                          std::uint64_t object_size, std::string_view object_name);

void EncodeDirectoryEntry(const DirectoryEntry& entry, std::string* out);
// Decodes the directory's plaintext and checks it against `footer`: entry count, kinds in
// order, frames tiling [header end, directory offset), lengths within bounds, journal parts
// numbered and sized as the format requires.
Result<std::vector<DirectoryEntry>> DecodeDirectory(std::string_view plaintext,
                                                    const SegmentFooter& footer,
                                                    std::string_view object_name);

// The 48-byte AADs of docs/format.md §6.4.
std::string ExtentAad(const VolumeUuid& uuid, std::uint64_t seq, std::uint32_t frame_index,
                      std::uint64_t inode, std::uint64_t extent_index);
std::string JournalAad(const VolumeUuid& uuid, std::uint64_t seq, std::uint32_t frame_index,
                       std::uint64_t journal_length, std::uint64_t part_index);
std::string DirectoryAad(const SegmentFooter& footer);

// "segments/000000000000002a: extent frame 3 (inode 7, extent 0)" and friends, for errors.
std::string DescribeFrame(std::string_view object_name, FrameKind kind, std::uint32_t index,
                          std::uint64_t inode = 0, std::uint64_t extent_index = 0);

}  // namespace zerofs::segment
