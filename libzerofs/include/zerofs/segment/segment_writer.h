// SegmentWriter: builds the bytes of one segment object in memory.
//
// The engine's flush creates one writer for the next seq, adds the dirty extents (each at
// most 32 KiB, tagged with inode and extent index), then finishes it with the journal record
// that commits them, and PUTs the result with If-None-Match: *. Each added extent is
// compressed and sealed at once, and AddExtent returns its ExtentLocation, so the journal
// record (which needs the locations of the segment's own extents) can be built before Finish.
//
// All-zero extents are never stored: AddExtent returns std::nullopt for them and the caller
// records a hole instead. Finish seals the journal record in parts of 1 MiB, then the
// directory and the footer, and checks the result before handing it out.
//
// Thread-safety: a writer belongs to one thread at a time. The KeyRing is shared.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/crypto/codec.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/random.h"
#include "zerofs/segment/extent_location.h"
#include "zerofs/segment/segment_format.h"

namespace zerofs::segment {

struct SegmentWriterOptions {
  crypto::CompressionOptions compression;
  crypto::RandomSource* random = nullptr;  // nonces; null: SystemRandom()
};

// True if every byte of `data` is zero (an empty range counts as zero).
bool IsAllZero(std::string_view data);

class SegmentWriter {
 public:
  SegmentWriter(std::shared_ptr<const crypto::KeyRing> keys, const VolumeUuid& uuid,
                std::uint64_t seq, std::uint64_t writer_epoch, SegmentWriterOptions options = {});

  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Compresses and seals one extent (1..kMaxExtentBytes bytes) of `inode` at `extent_index`.
  // Returns its location, or std::nullopt if `data` is all zeros (a hole: nothing stored).
  // kInvalidArgument if `data` is too long, the segment is full (kMaxSegmentExtents) or the
  // writer is finished.
  Result<std::optional<ExtentLocation>> AddExtent(std::uint64_t inode, std::uint64_t extent_index,
                                                  std::string_view data);

  // Seals `journal_record` (0..kMaxJournalBytes), the directory and the footer, and returns
  // the whole object. The writer is finished afterwards.
  Result<std::string> Finish(std::string_view journal_record);

  std::uint64_t seq() const { return seq_; }
  std::size_t extent_count() const { return entries_.size(); }
  // Bytes of the object so far (header and extent frames); a flush policy compares this
  // with its target segment size.
  std::size_t size_bytes() const { return bytes_.size(); }
  bool full() const { return entries_.size() >= format::kMaxSegmentExtents; }

 private:
  void AppendEntry(FrameKind kind, std::size_t offset, std::size_t sealed, std::size_t plaintext,
                   std::uint64_t inode, std::uint64_t extent_index);

  std::shared_ptr<const crypto::KeyRing> keys_;
  VolumeUuid uuid_;
  std::uint64_t seq_;
  std::uint64_t writer_epoch_;
  SegmentWriterOptions options_;
  std::string bytes_;
  std::vector<DirectoryEntry> entries_;
  bool finished_ = false;
};

}  // namespace zerofs::segment
