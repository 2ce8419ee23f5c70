#include "zerofs/segment/segment_format.h"

#include <sodium.h>

namespace zerofs::segment {
namespace {

using format::kDirectoryEntryBytes;
using format::kMaxFrameExpansionBytes;
using format::kMinFrameBytes;

static_assert(format::kFooterMacBytes >= crypto_generichash_BYTES_MIN &&
              format::kFooterMacBytes <= crypto_generichash_BYTES_MAX);
static_assert(format::kSubkeyBytes >= crypto_generichash_KEYBYTES_MIN &&
              format::kSubkeyBytes <= crypto_generichash_KEYBYTES_MAX);

Status Corrupt(std::string_view object_name, std::string_view problem) {
  return Status::Corruption(std::string(object_name) + ": " + std::string(problem));
}

std::string FooterMac(std::string_view covered, const crypto::KeyRing& keys) {
  std::string mac(format::kFooterMacBytes, '\0');
  const crypto::KeyView key = keys.Subkey(crypto::KeyPurpose::kFooterMac);
  crypto_generichash(reinterpret_cast<unsigned char*>(mac.data()), mac.size(),
                     reinterpret_cast<const unsigned char*>(covered.data()), covered.size(),
                     key.data(), key.size());
  return mac;
}

std::string FrameAad(FrameKind kind, std::uint32_t index, const VolumeUuid& uuid, std::uint64_t seq,
                     std::uint64_t a, std::uint64_t b) {
  std::string aad;
  aad.reserve(format::kSegmentFrameAadBytes);
  format::PutU8(aad, static_cast<std::uint8_t>(format::Domain::kSegmentFrame));
  format::PutU8(aad, static_cast<std::uint8_t>(kind));
  format::PutU16(aad, format::kFormatVersion);
  format::PutU32(aad, index);
  aad.append(uuid.raw());
  format::PutU64(aad, seq);
  format::PutU64(aad, a);
  format::PutU64(aad, b);
  return aad;
}

}  // namespace

std::string EncodeSegmentHeader(const SegmentHeader& header) {
  std::string out(format::kSegmentMagic);
  format::PutU16(out, format::kFormatVersion);
  format::PutU16(out, static_cast<std::uint16_t>(format::kSegmentHeaderBytes));
  format::PutU32(out, 0);  // flags
  out.append(header.uuid.raw());
  format::PutU64(out, header.seq);
  format::PutU64(out, header.writer_epoch);
  return out;
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes, std::string_view object_name) {
  if (bytes.size() != format::kSegmentHeaderBytes) return Corrupt(object_name, "header truncated");
  if (bytes.substr(0, 8) != format::kSegmentMagic) {
    return Corrupt(object_name, "bad header magic (not a segment)");
  }
  const char* p = bytes.data();
  if (format::LoadU16(p + 8) != format::kFormatVersion) {
    return Corrupt(object_name,
                   "unsupported segment version " + std::to_string(format::LoadU16(p + 8)));
  }
  if (format::LoadU16(p + 10) != format::kSegmentHeaderBytes || format::LoadU32(p + 12) != 0) {
    return Corrupt(object_name, "bad header length or flags");
  }
  return SegmentHeader{VolumeUuid::FromBytes(p + 16), format::LoadU64(p + 32),
                       format::LoadU64(p + 40)};
}

std::string EncodeSegmentFooter(const SegmentFooter& footer, const crypto::KeyRing& keys) {
  std::string out;
  out.reserve(format::kSegmentFooterBytes);
  out.append(footer.uuid.raw());
  format::PutU64(out, footer.seq);
  format::PutU64(out, footer.writer_epoch);
  format::PutU64(out, footer.directory_offset);
  format::PutU32(out, footer.directory_length);
  format::PutU32(out, footer.entry_count);
  format::PutU32(out, footer.extent_count);
  format::PutU16(out, format::kFormatVersion);
  format::PutU16(out, static_cast<std::uint16_t>(format::kSegmentFooterBytes));
  out += FooterMac(out, keys);
  out.append(format::kFooterMagic);
  return out;
}

Result<SegmentFooter> ParseSegmentFooter(std::string_view bytes, std::string_view object_name) {
  if (bytes.size() != format::kSegmentFooterBytes) return Corrupt(object_name, "footer truncated");
  const char* p = bytes.data();
  if (bytes.substr(format::kFooterMagicOffset) != format::kFooterMagic) {
    return Corrupt(object_name, "bad footer magic (not a segment, or truncated)");
  }
  if (format::LoadU16(p + 52) != format::kFormatVersion) {
    return Corrupt(object_name,
                   "unsupported segment version " + std::to_string(format::LoadU16(p + 52)));
  }
  if (format::LoadU16(p + 54) != format::kSegmentFooterBytes) {
    return Corrupt(object_name, "bad footer length");
  }
  SegmentFooter f;
  f.uuid = VolumeUuid::FromBytes(p);
  f.seq = format::LoadU64(p + 16);
  f.writer_epoch = format::LoadU64(p + 24);
  f.directory_offset = format::LoadU64(p + 32);
  f.directory_length = format::LoadU32(p + 40);
  f.entry_count = format::LoadU32(p + 44);
  f.extent_count = format::LoadU32(p + 48);
  const std::uint64_t journal_parts = std::uint64_t{f.entry_count} - f.extent_count;
  if (f.entry_count < 1 || f.entry_count > format::kMaxSegmentEntries ||
      f.extent_count >= f.entry_count || journal_parts > format::kMaxJournalParts) {
    return Corrupt(object_name, "footer has impossible entry counts");
  }
  if (f.directory_length < kMinFrameBytes ||
      f.directory_length >
          std::uint64_t{f.entry_count} * kDirectoryEntryBytes + kMaxFrameExpansionBytes ||
      f.directory_offset < format::kSegmentHeaderBytes + kMinFrameBytes ||
      f.directory_offset > format::kMaxSegmentBytes) {
    return Corrupt(object_name, "footer has an impossible directory position");
  }
  return f;
}

Result<SegmentFooter> DecodeSegmentFooter(std::string_view bytes, const crypto::KeyRing& keys,
                                          const VolumeUuid& uuid, std::uint64_t seq,
                                          std::uint64_t object_size, std::string_view object_name) {
  ZEROFS_ASSIGN_OR_RETURN(SegmentFooter f, ParseSegmentFooter(bytes, object_name));
  const std::string mac = FooterMac(bytes.substr(0, format::kFooterMacOffset), keys);
  if (sodium_memcmp(mac.data(), bytes.data() + format::kFooterMacOffset, mac.size()) != 0) {
    return Corrupt(object_name, "footer failed authentication (tampered, or not of this volume)");
  }
  if (f.uuid != uuid) {
    return Corrupt(object_name,
                   "belongs to volume " + f.uuid.ToString() + ", not " + uuid.ToString());
  }
  if (f.seq != seq) {
    return Corrupt(object_name, "footer says seq " + std::to_string(f.seq) + ", expected " +
                                    std::to_string(seq) + " (misplaced segment)");
  }
  if (f.directory_offset + f.directory_length + format::kSegmentFooterBytes != object_size) {
    return Corrupt(object_name, "footer does not match the object size " +
                                    std::to_string(object_size) + " (truncated or extended)");
  }
  return f;
}

void EncodeDirectoryEntry(const DirectoryEntry& entry, std::string* out) {
  format::PutU8(*out, static_cast<std::uint8_t>(entry.kind));
  format::PutU8(*out, 0);
  format::PutU16(*out, 0);
  format::PutU32(*out, entry.sealed_length);
  format::PutU64(*out, entry.offset);
  format::PutU32(*out, entry.plaintext_length);
  format::PutU32(*out, 0);
  format::PutU64(*out, entry.inode);
  format::PutU64(*out, entry.extent_index);
}

Result<std::vector<DirectoryEntry>> DecodeDirectory(std::string_view plaintext,
                                                    const SegmentFooter& footer,
                                                    std::string_view object_name) {
  if (plaintext.size() != std::uint64_t{footer.entry_count} * kDirectoryEntryBytes) {
    return Corrupt(object_name, "directory size does not match its entry count");
  }
  std::vector<DirectoryEntry> entries;
  entries.reserve(footer.entry_count);
  std::uint64_t expected_offset = format::kSegmentHeaderBytes;
  for (std::uint32_t i = 0; i < footer.entry_count; ++i) {
    const char* p = plaintext.data() + std::size_t{i} * kDirectoryEntryBytes;
    DirectoryEntry e;
    e.kind = static_cast<FrameKind>(format::LoadU8(p));
    e.sealed_length = format::LoadU32(p + 4);
    e.offset = format::LoadU64(p + 8);
    e.plaintext_length = format::LoadU32(p + 16);
    e.inode = format::LoadU64(p + 24);
    e.extent_index = format::LoadU64(p + 32);
    const std::string what = "directory entry " + std::to_string(i);
    if (format::LoadU8(p + 1) != 0 || format::LoadU16(p + 2) != 0 || format::LoadU32(p + 20) != 0) {
      return Corrupt(object_name, what + ": reserved bytes are not zero");
    }
    if (e.offset != expected_offset) {
      return Corrupt(object_name, what + ": frames do not tile the segment");
    }
    if (e.sealed_length < kMinFrameBytes ||
        e.sealed_length > std::uint64_t{e.plaintext_length} + kMaxFrameExpansionBytes) {
      return Corrupt(object_name, what + ": impossible sealed length");
    }
    if (i < footer.extent_count) {
      if (e.kind != FrameKind::kExtent || e.plaintext_length < 1 ||
          e.plaintext_length > format::kMaxExtentBytes) {
        return Corrupt(object_name, what + ": not a valid extent entry");
      }
    } else {
      const std::uint32_t part = i - footer.extent_count;
      const bool last = i + 1 == footer.entry_count;
      const bool size_ok = last ? (e.plaintext_length <= format::kJournalPartBytes &&
                                   (part == 0 || e.plaintext_length > 0))
                                : e.plaintext_length == format::kJournalPartBytes;
      if (e.kind != FrameKind::kJournal || e.inode != 0 || e.extent_index != part || !size_ok) {
        return Corrupt(object_name, what + ": not a valid journal part entry");
      }
    }
    expected_offset = e.end();
    entries.push_back(e);
  }
  if (expected_offset != footer.directory_offset) {
    return Corrupt(object_name, "frames do not end where the directory starts");
  }
  return entries;
}

std::string ExtentAad(const VolumeUuid& uuid, std::uint64_t seq, std::uint32_t frame_index,
                      std::uint64_t inode, std::uint64_t extent_index) {
  return FrameAad(FrameKind::kExtent, frame_index, uuid, seq, inode, extent_index);
}

std::string JournalAad(const VolumeUuid& uuid, std::uint64_t seq, std::uint32_t frame_index,
                       std::uint64_t journal_length, std::uint64_t part_index) {
  return FrameAad(FrameKind::kJournal, frame_index, uuid, seq, journal_length, part_index);
}

std::string DirectoryAad(const SegmentFooter& footer) {
  return FrameAad(FrameKind::kDirectory, footer.entry_count, footer.uuid, footer.seq,
                  footer.writer_epoch, footer.directory_offset);
}

std::string DescribeFrame(std::string_view object_name, FrameKind kind, std::uint32_t index,
                          std::uint64_t inode, std::uint64_t extent_index) {
  std::string out(object_name);
  switch (kind) {
    case FrameKind::kExtent:
      out += ": extent frame " + std::to_string(index) + " (inode " + std::to_string(inode) +
             ", extent " + std::to_string(extent_index) + ")";
      break;
    case FrameKind::kJournal:
      out += ": journal frame " + std::to_string(index) + " (part " + std::to_string(extent_index) +
             ")";
      break;
    case FrameKind::kDirectory: out += ": directory"; break;
  }
  return out;
}

}  // namespace zerofs::segment
