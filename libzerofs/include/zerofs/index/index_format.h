// The index layer's part of the bucket format: every constant that fixes a byte of an index
// key, an index value, a journal record or an index snapshot manifest.
//
// The specification is docs/format.md §12 ("The index"); this header mirrors it, as
// zerofs/format.h mirrors the rest of that page. Index keys and values reach the bucket twice:
// inside journal records (segments) and inside snapshot SSTs (index/<name>), so a change here
// is a change of the bucket format: update docs/format.md in the same change and bump the
// version byte of whatever changed, keeping the decoder of the old version.
//
// Thread-safety: constants only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "zerofs/format.h"

namespace zerofs::format {

// ---- Keys (docs/format.md §12.1) ----

// The first byte of every index key: which table the key belongs to.
enum class IndexTable : std::uint8_t {
  kCookie = 'c',        // 'c' parent u64be cookie u64be      -> DirCookieRecord
  kDirent = 'd',        // 'd' parent u64be name              -> DirentRecord
  kExtent = 'e',        // 'e' inode u64be extent_index u64be -> ExtentLocation (28 bytes)
  kInode = 'i',         // 'i' inode u64be                    -> InodeRecord
  kMeta = 'm',          // 'm' name                           -> per name (u64, VolumeCounters)
  kSegmentUsage = 's',  // 's' seq u64be                      -> SegmentUsage
  kXattr = 'x',         // 'x' inode u64be name               -> raw value
};

inline constexpr std::size_t kIndexTagBytes = 1;
inline constexpr std::size_t kIndexIdBytes = 8;  // inode, cookie, extent index, seq: u64 BE
// Directory entry names and extended attribute names: 1..255 bytes, no NUL.
inline constexpr std::size_t kMaxIndexNameBytes = 255;
inline constexpr std::size_t kMaxXattrNameBytes = 255;
// Meta names: 1..64 bytes of [a-z0-9_].
inline constexpr std::size_t kMaxMetaNameBytes = 64;
// The longest key any table can produce, with room to spare for later tables.
inline constexpr std::size_t kMaxIndexKeyBytes = 1024;

// Values: an xattr value is at most 64 KiB (Linux's XATTR_SIZE_MAX); every other value is
// far smaller. The margin leaves room for later record versions.
inline constexpr std::size_t kMaxXattrValueBytes = 64 * 1024;
inline constexpr std::size_t kMaxIndexValueBytes = kMaxXattrValueBytes + 1024;
inline constexpr std::size_t kMaxSymlinkTargetBytes = 4096;

// Meta names the index layer itself reads and writes.
inline constexpr std::string_view kMetaAppliedSeq = "applied_seq";          // u64
inline constexpr std::string_view kMetaNextInode = "next_inode";            // u64
inline constexpr std::string_view kMetaVolumeCounters = "volume_counters";  // VolumeCounters

// ---- Records (docs/format.md §12.2) ----

// The first byte of every record value (not of raw xattr values, extent locations or u64
// meta values, which have fixed layouts of their own).
inline constexpr std::uint8_t kIndexRecordVersion = 1;
inline constexpr std::size_t kInodeRecordFixedBytes =
    1 + 8 + 8 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 4 + 8 + 4 * (8 + 4) + 2;
inline constexpr std::size_t kDirentRecordBytes = 1 + 8 + 1 + 8;
inline constexpr std::size_t kDirCookieRecordFixedBytes = 1 + 8 + 1 + 1;
inline constexpr std::size_t kSegmentUsageBytes = 1 + 4 * 8;
inline constexpr std::size_t kVolumeCountersBytes = 1 + 2 * 8;
inline constexpr std::size_t kU64ValueBytes = 8;
// Readdir cookies a directory hands out start here: 0 means "from the start" in NFS and 9P,
// 1 and 2 are left for "." and "..".
inline constexpr std::uint64_t kFirstDirCookie = 3;
inline constexpr std::uint32_t kMaxNanoseconds = 999'999'999;

// ---- Journal records (docs/format.md §12.3) ----

inline constexpr std::string_view kJournalMagic = "ZFJR";
inline constexpr std::uint8_t kJournalVersion = 1;
inline constexpr std::size_t kJournalHeaderBytes = 4 + 1 + 1 + 2 + 4;
inline constexpr std::size_t kJournalOpHeaderBytes = 1 + 2 + 4;

// ---- The root payload (docs/format.md §8.2) ----

// The root is a small JSON object; a reader refuses to parse more than this.
inline constexpr std::size_t kMaxRootPayloadBytes = 64 * 1024;

// ---- Snapshots (docs/format.md §12.4) ----

inline constexpr std::string_view kIndexManifestMagic = "ZEROFSIM";
inline constexpr std::uint16_t kIndexManifestVersion = 1;
inline constexpr std::size_t kIndexManifestHeaderBytes = 8 + 2 + 2 + 4 + 8;
// "index/manifest-<covers_seq, 16 hex>-<8 random hex>"; "index/<32 hex>.sst".
inline constexpr std::string_view kIndexManifestNamePrefix = "manifest-";
inline constexpr std::string_view kIndexSstSuffix = ".sst";
inline constexpr std::size_t kContentHashBytes = 16;  // BLAKE2b-128
// Bounds a reader enforces before allocating: a manifest (with its embedded small files)
// and one SST file.
inline constexpr std::uint64_t kMaxIndexManifestBytes = 256ULL << 20;
inline constexpr std::uint64_t kMaxIndexFileBytes = 1ULL << 30;
inline constexpr std::uint32_t kMaxIndexManifestFiles = 1'000'000;
// Local file names in a manifest: 1..255 of [A-Za-z0-9._-], not "." or "..".
inline constexpr std::size_t kMaxIndexFileNameBytes = 255;

static_assert(kJournalMagic.size() == 4 && kIndexManifestMagic.size() == 8);
static_assert(kInodeRecordFixedBytes == 119);
static_assert(kIndexTagBytes + kIndexIdBytes + kMaxIndexNameBytes <= kMaxIndexKeyBytes);
static_assert(kInodeRecordFixedBytes + kMaxSymlinkTargetBytes <= kMaxIndexValueBytes);
static_assert(kMaxIndexKeyBytes <= 0xffff, "journal key lengths are u16");
static_assert(kMaxIndexManifestBytes <= kMaxEnvelopeBytes &&
              kMaxIndexFileBytes <= kMaxEnvelopeBytes);

}  // namespace zerofs::format
