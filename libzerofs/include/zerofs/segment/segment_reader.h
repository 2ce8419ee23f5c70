// SegmentReader: reads extents, directories and journal records of segments in the bucket.
//
//   ReadExtent    one ranged GET of exactly the extent's frame, then open it with the AAD
//                 built from the location and the (inode, extent index) asked for.
//   ReadExtents   several extents; those of one segment whose frames lie close together
//                 are fetched by one GET per run (PlanReads), bounded by a maximum gap and a
//                 maximum GET size.
//   ReadMeta      the footer (ranged GET of the object's tail; a HEAD first if the caller
//                 does not know the size), then the directory, both verified.
//   ReadJournal   ReadMeta plus the journal record; usually the same tail GET holds it.
//
// Store-free functions below open frames that are already in memory (the disk cache keeps
// sealed bytes) and verify a whole segment object (fsck, compaction of a whole segment).
// Every failure to validate is kCorruption naming the segment and the frame; a missing
// segment is kNotFound.
//
// Thread-safety: all const methods may run concurrently; the store and keys are shared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/objstore/object_store.h"
#include "zerofs/segment/extent_location.h"
#include "zerofs/segment/segment_format.h"

namespace zerofs::segment {

struct SegmentReaderOptions {
  // How much of a segment's end ReadMeta fetches at once, hoping to get footer, directory
  // and journal in one GET.
  std::uint64_t tail_read_bytes = 64 * 1024;
  // ReadExtents joins two frames of one segment into one GET if at most this many unwanted
  // bytes lie between them: a wasted few KiB cost less than another round trip.
  std::uint64_t coalesce_max_gap_bytes = 64 * 1024;
  // ... and as long as the GET stays within this many bytes.
  std::uint64_t coalesce_max_bytes = 8 * 1024 * 1024;
};

struct SegmentMeta {
  std::uint64_t object_size = 0;
  SegmentFooter footer;
  std::vector<DirectoryEntry> entries;
};

struct SegmentJournal {
  SegmentMeta meta;
  std::string record;  // the journal record, reassembled from its parts
};

// One GET of [offset, offset + length) of segment `seq`, serving the extents at `members`
// (indexes into the locations given to PlanReads).
struct ReadRun {
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::vector<std::size_t> members;
};

// Groups `locations` into runs: same segment, sorted by offset, gaps of at most `max_gap`
// bytes, each run at most `max_bytes` long (a single larger frame gets a run of its own).
std::vector<ReadRun> PlanReads(std::span<const ExtentLocation> locations, std::uint64_t max_gap,
                               std::uint64_t max_bytes);

// Opens the sealed frame of `ref` (already fetched, e.g. from the disk cache).
Result<std::string> OpenExtent(const crypto::KeyRing& keys, const VolumeUuid& uuid,
                               const ExtentRef& ref, std::string_view frame);

// Checks a whole segment object: header, every frame, journal, directory and footer, and that
// nothing lies outside them. Calls `on_extent` (if set) with each extent's entry and data;
// a non-OK status from it stops the walk and is returned.
using ExtentVisitor = std::function<Status(const DirectoryEntry& entry, std::string_view data)>;
Result<SegmentJournal> VerifySegment(const crypto::KeyRing& keys, const VolumeUuid& uuid,
                                     std::uint64_t seq, std::string_view object,
                                     const ExtentVisitor& on_extent = nullptr);

class SegmentReader {
 public:
  SegmentReader(std::shared_ptr<objstore::ObjectStore> store,
                std::shared_ptr<const crypto::KeyRing> keys, const VolumeUuid& uuid,
                SegmentReaderOptions options = {});

  Result<std::string> ReadExtent(const ExtentRef& ref) const;
  // The data of every ref, in the order given. The first failure fails the call.
  Result<std::vector<std::string>> ReadExtents(std::span<const ExtentRef> refs) const;

  // `object_size` from a listing saves a HEAD.
  Result<SegmentMeta> ReadMeta(std::uint64_t seq,
                               std::optional<std::uint64_t> object_size = std::nullopt) const;
  Result<SegmentJournal> ReadJournal(std::uint64_t seq,
                                     std::optional<std::uint64_t> object_size = std::nullopt) const;

  const SegmentReaderOptions& options() const { return options_; }

 private:
  struct Tail;
  Result<Tail> ReadTail(std::uint64_t seq, std::optional<std::uint64_t> object_size) const;
  Result<std::string> GetRange(const std::string& name, std::uint64_t offset,
                               std::uint64_t length) const;

  std::shared_ptr<objstore::ObjectStore> store_;
  std::shared_ptr<const crypto::KeyRing> keys_;
  VolumeUuid uuid_;
  SegmentReaderOptions options_;
};

}  // namespace zerofs::segment
