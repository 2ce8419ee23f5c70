#include "zerofs/segment/segment_reader.h"

#include <algorithm>
#include <numeric>

#include "zerofs/crypto/frame.h"

namespace zerofs::segment {
namespace {

using crypto::KeyPurpose;

Status Corrupt(std::string_view object_name, std::string_view problem) {
  return Status::Corruption(std::string(object_name) + ": " + std::string(problem));
}

Result<std::vector<DirectoryEntry>> OpenDirectory(const crypto::KeyRing& keys,
                                                  const SegmentFooter& footer,
                                                  std::string_view frame, const std::string& name) {
  ZEROFS_ASSIGN_OR_RETURN(
      std::string plaintext,
      crypto::OpenFrame(keys.Subkey(KeyPurpose::kSegmentFrame), DirectoryAad(footer), frame,
                        std::size_t{footer.entry_count} * format::kDirectoryEntryBytes,
                        DescribeFrame(name, FrameKind::kDirectory, footer.entry_count)));
  return DecodeDirectory(plaintext, footer, name);
}

// Opens the journal parts; `region` holds the object's bytes from `region_offset` on and
// covers every journal frame.
Result<std::string> OpenJournal(const crypto::KeyRing& keys, const SegmentMeta& meta,
                                std::string_view region, std::uint64_t region_offset,
                                const std::string& name) {
  const auto journal = std::span(meta.entries).subspan(meta.footer.extent_count);
  const std::uint64_t length = std::accumulate(
      journal.begin(), journal.end(), std::uint64_t{0},
      [](std::uint64_t sum, const DirectoryEntry& e) { return sum + e.plaintext_length; });
  std::string record;
  record.reserve(length);
  for (std::size_t i = 0; i < journal.size(); ++i) {
    const DirectoryEntry& e = journal[i];
    const auto frame_index = static_cast<std::uint32_t>(meta.footer.extent_count + i);
    const std::string what = DescribeFrame(name, FrameKind::kJournal, frame_index, 0, i);
    if (e.offset < region_offset || e.end() - region_offset > region.size()) {
      return Status::Internal(what + ": not in the bytes read");
    }
    ZEROFS_ASSIGN_OR_RETURN(
        std::string part,
        crypto::OpenFrame(keys.Subkey(KeyPurpose::kSegmentFrame),
                          JournalAad(meta.footer.uuid, meta.footer.seq, frame_index, length, i),
                          region.substr(e.offset - region_offset, e.sealed_length),
                          e.plaintext_length, what));
    if (part.size() != e.plaintext_length) {
      return Status::Corruption(what + ": holds " + std::to_string(part.size()) +
                                " bytes, the directory says " + std::to_string(e.plaintext_length));
    }
    record += part;
  }
  return record;
}

}  // namespace

std::vector<ReadRun> PlanReads(std::span<const ExtentLocation> locations, std::uint64_t max_gap,
                               std::uint64_t max_bytes) {
  std::vector<std::size_t> order(locations.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const ExtentLocation& x = locations[a];
    const ExtentLocation& y = locations[b];
    return x.seq != y.seq ? x.seq < y.seq : x.offset < y.offset;
  });
  std::vector<ReadRun> runs;
  for (std::size_t i : order) {
    const ExtentLocation& loc = locations[i];
    if (!runs.empty()) {
      ReadRun& run = runs.back();
      const std::uint64_t run_end = run.offset + run.length;
      const std::uint64_t new_end = std::max(run_end, loc.end());
      if (run.seq == loc.seq && loc.offset <= run_end + max_gap &&
          new_end - run.offset <= max_bytes) {
        run.length = new_end - run.offset;
        run.members.push_back(i);
        continue;
      }
    }
    runs.push_back(ReadRun{loc.seq, loc.offset, loc.sealed_length, {i}});
  }
  return runs;
}

Result<std::string> OpenExtent(const crypto::KeyRing& keys, const VolumeUuid& uuid,
                               const ExtentRef& ref, std::string_view frame) {
  const ExtentLocation& loc = ref.location;
  const std::string what = DescribeFrame(format::SegmentObjectName(loc.seq), FrameKind::kExtent,
                                         loc.frame_index, ref.inode, ref.extent_index);
  ZEROFS_RETURN_IF_ERROR(ValidateExtentLocation(loc, what));
  if (frame.size() != loc.sealed_length) {
    return Status::Corruption(what + ": got " + std::to_string(frame.size()) +
                              " bytes, the location says " + std::to_string(loc.sealed_length));
  }
  ZEROFS_ASSIGN_OR_RETURN(
      std::string data,
      crypto::OpenFrame(keys.Subkey(KeyPurpose::kSegmentFrame),
                        ExtentAad(uuid, loc.seq, loc.frame_index, ref.inode, ref.extent_index),
                        frame, loc.plaintext_length, what));
  if (data.size() != loc.plaintext_length) {
    return Status::Corruption(what + ": holds " + std::to_string(data.size()) +
                              " bytes, the location says " + std::to_string(loc.plaintext_length));
  }
  return data;
}

Result<SegmentJournal> VerifySegment(const crypto::KeyRing& keys, const VolumeUuid& uuid,
                                     std::uint64_t seq, std::string_view object,
                                     const ExtentVisitor& on_extent) {
  const std::string name = format::SegmentObjectName(seq);
  if (object.size() < format::kMinSegmentBytes || object.size() > format::kMaxSegmentBytes) {
    return Corrupt(name,
                   "object of " + std::to_string(object.size()) + " bytes cannot be a segment");
  }
  ZEROFS_ASSIGN_OR_RETURN(SegmentHeader header,
                          DecodeSegmentHeader(object.substr(0, format::kSegmentHeaderBytes), name));
  SegmentJournal out;
  out.meta.object_size = object.size();
  ZEROFS_ASSIGN_OR_RETURN(
      out.meta.footer,
      DecodeSegmentFooter(object.substr(object.size() - format::kSegmentFooterBytes), keys, uuid,
                          seq, object.size(), name));
  const SegmentFooter& footer = out.meta.footer;
  if (header != SegmentHeader{footer.uuid, footer.seq, footer.writer_epoch}) {
    return Corrupt(name, "header does not match the footer");
  }
  ZEROFS_ASSIGN_OR_RETURN(
      out.meta.entries,
      OpenDirectory(keys, footer, object.substr(footer.directory_offset, footer.directory_length),
                    name));
  for (std::uint32_t i = 0; i < footer.extent_count; ++i) {
    const DirectoryEntry& e = out.meta.entries[i];
    const ExtentRef ref{e.inode, e.extent_index,
                        ExtentLocation{seq, e.offset, e.sealed_length, e.plaintext_length, i}};
    ZEROFS_ASSIGN_OR_RETURN(std::string data,
                            OpenExtent(keys, uuid, ref, object.substr(e.offset, e.sealed_length)));
    if (on_extent) ZEROFS_RETURN_IF_ERROR(on_extent(e, data));
  }
  ZEROFS_ASSIGN_OR_RETURN(out.record, OpenJournal(keys, out.meta, object, 0, name));
  return out;
}

struct SegmentReader::Tail {
  SegmentMeta meta;
  std::string bytes;  // the object's bytes from `offset` to its end
  std::uint64_t offset = 0;
};

SegmentReader::SegmentReader(std::shared_ptr<objstore::ObjectStore> store,
                             std::shared_ptr<const crypto::KeyRing> keys, const VolumeUuid& uuid,
                             SegmentReaderOptions options)
    : store_(std::move(store)), keys_(std::move(keys)), uuid_(uuid), options_(options) {}

Result<std::string> SegmentReader::GetRange(const std::string& name, std::uint64_t offset,
                                            std::uint64_t length) const {
  Result<objstore::GetResult> got = store_->Get(name, objstore::ByteRange{offset, length});
  if (!got.ok()) {
    // A range past the end means the object is shorter than the index or footer says.
    if (got.status().code() == StatusCode::kInvalidArgument) {
      return Corrupt(name, "bytes " + std::to_string(offset) + "+" + std::to_string(length) +
                               " lie outside the object (" + got.status().message() + ")");
    }
    return got.status();
  }
  if (got->data.size() != length) {
    return Corrupt(name,
                   "object ends before byte " + std::to_string(offset + length) + " (truncated?)");
  }
  return std::move(got->data);
}

Result<SegmentReader::Tail> SegmentReader::ReadTail(
    std::uint64_t seq, std::optional<std::uint64_t> object_size) const {
  const std::string name = format::SegmentObjectName(seq);
  if (!object_size.has_value()) {
    ZEROFS_ASSIGN_OR_RETURN(objstore::ObjectInfo info, store_->Head(name));
    object_size = info.size;
  }
  const std::uint64_t size = *object_size;
  if (size < format::kMinSegmentBytes || size > format::kMaxSegmentBytes) {
    return Corrupt(name, "object of " + std::to_string(size) + " bytes cannot be a segment");
  }
  Tail tail;
  const std::uint64_t want = std::min(
      size, std::max<std::uint64_t>(options_.tail_read_bytes, format::kSegmentFooterBytes));
  tail.offset = size - want;
  ZEROFS_ASSIGN_OR_RETURN(tail.bytes, GetRange(name, tail.offset, want));
  tail.meta.object_size = size;
  ZEROFS_ASSIGN_OR_RETURN(
      tail.meta.footer,
      DecodeSegmentFooter(
          std::string_view(tail.bytes).substr(tail.bytes.size() - format::kSegmentFooterBytes),
          *keys_, uuid_, seq, size, name));
  const SegmentFooter& footer = tail.meta.footer;
  std::string fetched;
  std::string_view directory;
  if (footer.directory_offset >= tail.offset) {
    directory = std::string_view(tail.bytes)
                    .substr(footer.directory_offset - tail.offset, footer.directory_length);
  } else {
    ZEROFS_ASSIGN_OR_RETURN(fetched,
                            GetRange(name, footer.directory_offset, footer.directory_length));
    directory = fetched;
  }
  ZEROFS_ASSIGN_OR_RETURN(tail.meta.entries, OpenDirectory(*keys_, footer, directory, name));
  return tail;
}

Result<SegmentMeta> SegmentReader::ReadMeta(std::uint64_t seq,
                                            std::optional<std::uint64_t> object_size) const {
  ZEROFS_ASSIGN_OR_RETURN(Tail tail, ReadTail(seq, object_size));
  return std::move(tail.meta);
}

Result<SegmentJournal> SegmentReader::ReadJournal(std::uint64_t seq,
                                                  std::optional<std::uint64_t> object_size) const {
  const std::string name = format::SegmentObjectName(seq);
  ZEROFS_ASSIGN_OR_RETURN(Tail tail, ReadTail(seq, object_size));
  const std::uint64_t start = tail.meta.entries[tail.meta.footer.extent_count].offset;
  const std::uint64_t end = tail.meta.footer.directory_offset;
  SegmentJournal out;
  if (start >= tail.offset) {
    ZEROFS_ASSIGN_OR_RETURN(out.record,
                            OpenJournal(*keys_, tail.meta, tail.bytes, tail.offset, name));
  } else {
    ZEROFS_ASSIGN_OR_RETURN(std::string region, GetRange(name, start, end - start));
    ZEROFS_ASSIGN_OR_RETURN(out.record, OpenJournal(*keys_, tail.meta, region, start, name));
  }
  out.meta = std::move(tail.meta);
  return out;
}

Result<std::string> SegmentReader::ReadExtent(const ExtentRef& ref) const {
  const ExtentLocation& loc = ref.location;
  const std::string name = format::SegmentObjectName(loc.seq);
  ZEROFS_RETURN_IF_ERROR(ValidateExtentLocation(
      loc, DescribeFrame(name, FrameKind::kExtent, loc.frame_index, ref.inode, ref.extent_index)));
  ZEROFS_ASSIGN_OR_RETURN(std::string frame, GetRange(name, loc.offset, loc.sealed_length));
  return OpenExtent(*keys_, uuid_, ref, frame);
}

Result<std::vector<std::string>> SegmentReader::ReadExtents(std::span<const ExtentRef> refs) const {
  std::vector<ExtentLocation> locations;
  locations.reserve(refs.size());
  for (const ExtentRef& ref : refs) {
    const ExtentLocation& loc = ref.location;
    ZEROFS_RETURN_IF_ERROR(ValidateExtentLocation(
        loc, DescribeFrame(format::SegmentObjectName(loc.seq), FrameKind::kExtent, loc.frame_index,
                           ref.inode, ref.extent_index)));
    locations.push_back(loc);
  }
  std::vector<std::string> out(refs.size());
  for (const ReadRun& run :
       PlanReads(locations, options_.coalesce_max_gap_bytes, options_.coalesce_max_bytes)) {
    ZEROFS_ASSIGN_OR_RETURN(std::string bytes,
                            GetRange(format::SegmentObjectName(run.seq), run.offset, run.length));
    const std::string_view view = bytes;
    for (std::size_t i : run.members) {
      const ExtentLocation& loc = refs[i].location;
      ZEROFS_ASSIGN_OR_RETURN(out[i],
                              OpenExtent(*keys_, uuid_, refs[i],
                                         view.substr(loc.offset - run.offset, loc.sealed_length)));
    }
  }
  return out;
}

}  // namespace zerofs::segment
