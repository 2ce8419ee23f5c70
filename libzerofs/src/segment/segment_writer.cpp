#include "zerofs/segment/segment_writer.h"

#include <algorithm>
#include <cstring>

#include "zerofs/crypto/frame.h"

namespace zerofs::segment {

bool IsAllZero(std::string_view data) {
  // Compare word-sized chunks: extents are checked on every flush, so this is hot.
  std::size_t i = 0;
  for (; i + sizeof(std::uint64_t) <= data.size(); i += sizeof(std::uint64_t)) {
    std::uint64_t word = 0;
    std::memcpy(&word, data.data() + i, sizeof(word));
    if (word != 0) return false;
  }
  for (; i < data.size(); ++i) {
    if (data[i] != 0) return false;
  }
  return true;
}

SegmentWriter::SegmentWriter(std::shared_ptr<const crypto::KeyRing> keys, const VolumeUuid& uuid,
                             std::uint64_t seq, std::uint64_t writer_epoch,
                             SegmentWriterOptions options)
    : keys_(std::move(keys)),
      uuid_(uuid),
      seq_(seq),
      writer_epoch_(writer_epoch),
      options_(options),
      bytes_(EncodeSegmentHeader({uuid, seq, writer_epoch})) {}

void SegmentWriter::AppendEntry(FrameKind kind, std::size_t offset, std::size_t sealed,
                                std::size_t plaintext, std::uint64_t inode,
                                std::uint64_t extent_index) {
  entries_.push_back(DirectoryEntry{kind, static_cast<std::uint32_t>(sealed), offset,
                                    static_cast<std::uint32_t>(plaintext), inode, extent_index});
}

Result<std::optional<ExtentLocation>> SegmentWriter::AddExtent(std::uint64_t inode,
                                                               std::uint64_t extent_index,
                                                               std::string_view data) {
  const std::string name = format::SegmentObjectName(seq_);
  if (finished_) return Status::InvalidArgument(name + ": extent added after Finish");
  if (data.size() > format::kMaxExtentBytes) {
    return Status::InvalidArgument(name + ": extent of " + std::to_string(data.size()) +
                                   " bytes exceeds " + std::to_string(format::kMaxExtentBytes));
  }
  if (IsAllZero(data)) return std::optional<ExtentLocation>();
  if (full()) {
    return Status::InvalidArgument(name + ": segment is full (" +
                                   std::to_string(format::kMaxSegmentExtents) + " extents)");
  }
  const auto frame_index = static_cast<std::uint32_t>(entries_.size());
  const std::size_t offset = bytes_.size();
  const std::size_t sealed =
      crypto::SealFrame(keys_->Subkey(crypto::KeyPurpose::kSegmentFrame),
                        ExtentAad(uuid_, seq_, frame_index, inode, extent_index), data,
                        options_.compression, crypto::OrSystem(options_.random), &bytes_);
  AppendEntry(FrameKind::kExtent, offset, sealed, data.size(), inode, extent_index);
  return std::optional<ExtentLocation>(
      ExtentLocation{seq_, offset, static_cast<std::uint32_t>(sealed),
                     static_cast<std::uint32_t>(data.size()), frame_index});
}

Result<std::string> SegmentWriter::Finish(std::string_view journal_record) {
  const std::string name = format::SegmentObjectName(seq_);
  if (finished_) return Status::InvalidArgument(name + ": Finish called twice");
  if (journal_record.size() > format::kMaxJournalBytes) {
    return Status::InvalidArgument(
        name + ": journal record of " + std::to_string(journal_record.size()) +
        " bytes exceeds the limit of " + std::to_string(format::kMaxJournalBytes));
  }
  finished_ = true;
  const crypto::KeyView key = keys_->Subkey(crypto::KeyPurpose::kSegmentFrame);
  crypto::RandomSource& random = crypto::OrSystem(options_.random);

  const auto extent_count = static_cast<std::uint32_t>(entries_.size());
  const std::size_t parts = std::max<std::size_t>(
      1, (journal_record.size() + format::kJournalPartBytes - 1) / format::kJournalPartBytes);
  for (std::size_t part = 0; part < parts; ++part) {
    const std::string_view data =
        journal_record.substr(std::min(journal_record.size(), part * format::kJournalPartBytes),
                              format::kJournalPartBytes);
    const auto frame_index = static_cast<std::uint32_t>(entries_.size());
    const std::size_t offset = bytes_.size();
    const std::size_t sealed =
        crypto::SealFrame(key, JournalAad(uuid_, seq_, frame_index, journal_record.size(), part),
                          data, options_.compression, random, &bytes_);
    AppendEntry(FrameKind::kJournal, offset, sealed, data.size(), 0, part);
  }

  SegmentFooter footer;
  footer.uuid = uuid_;
  footer.seq = seq_;
  footer.writer_epoch = writer_epoch_;
  footer.directory_offset = bytes_.size();
  footer.entry_count = static_cast<std::uint32_t>(entries_.size());
  footer.extent_count = extent_count;
  std::string directory;
  directory.reserve(entries_.size() * format::kDirectoryEntryBytes);
  for (const DirectoryEntry& e : entries_) EncodeDirectoryEntry(e, &directory);
  footer.directory_length = static_cast<std::uint32_t>(crypto::SealFrame(
      key, DirectoryAad(footer), directory, options_.compression, random, &bytes_));
  bytes_ += EncodeSegmentFooter(footer, *keys_);

  // Validate before PUT: decode what was just encoded, as a reader will.
  const std::string_view object = bytes_;
  ZEROFS_ASSIGN_OR_RETURN(
      SegmentFooter check,
      DecodeSegmentFooter(object.substr(object.size() - format::kSegmentFooterBytes), *keys_, uuid_,
                          seq_, object.size(), name));
  ZEROFS_ASSIGN_OR_RETURN(std::vector<DirectoryEntry> decoded,
                          DecodeDirectory(directory, check, name));
  if (check != footer || decoded != entries_) {
    return Status::Internal(name + ": segment does not decode to what was written");
  }
  entries_.clear();
  return std::move(bytes_);
}

}  // namespace zerofs::segment
