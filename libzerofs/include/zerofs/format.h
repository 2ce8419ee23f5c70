// The bucket format, version 1: every constant that fixes a byte in the bucket.
//
// The specification is docs/format.md; this header is its mirror in code and the only place
// the numbers below may be written down. A change here is a change of the bucket format:
// update docs/format.md (and its worked example, which a unit test compares byte for byte)
// in the same change, and bump a version field if old readers would misread the new bytes.
//
// Also holds the little-endian load/store helpers that every encoder and decoder of the
// format uses, so that no layer hand-rolls byte order.
//
// Thread-safety: constants and pure functions only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zerofs/common/coding.h"

namespace zerofs::format {

// ---- Versions and object names (docs/format.md "Objects in the bucket") ----

inline constexpr std::uint16_t kFormatVersion = 1;

inline constexpr std::string_view kKeyObjectName = "zerofs.key";
inline constexpr std::string_view kRootObjectName = "root";
inline constexpr std::string_view kSegmentPrefix = "segments/";
inline constexpr std::string_view kIndexPrefix = "index/";
inline constexpr std::string_view kCheckpointPrefix = "checkpoints/";
// The writer lease: plaintext JSON naming the process that serves the volume for writing
// (docs/format.md "The writer lease"); servers/common/src/lease.cpp reads and writes it.
inline constexpr std::string_view kLeaseObjectName = "lease";
// Names under index/ and checkpoints/: 1..200 of [A-Za-z0-9._-], not "." or "..".
inline constexpr std::size_t kMaxObjectNameBytes = 200;

// "segments/" followed by the seq as 16 lower-case hex digits, so that listing order is
// seq order.
inline std::string SegmentObjectName(std::uint64_t seq) {
  return coding::HexU64Name(kSegmentPrefix, seq);
}
// The seq of a segment object name; nullopt for any other key (also for a seq not spelled
// with exactly 16 lower-case hex digits).
inline std::optional<std::uint64_t> ParseSegmentObjectName(std::string_view key) {
  return coding::ParseHexU64Name(key, kSegmentPrefix);
}

// ---- Keys (docs/format.md "Keys") ----

inline constexpr std::size_t kDataKeyBytes = 32;
inline constexpr std::size_t kSubkeyBytes = 32;
inline constexpr std::size_t kKdfContextBytes = 8;
// crypto_kdf contexts, one per purpose; every subkey uses subkey id kSubkeyId.
inline constexpr std::string_view kKdfContextSegment = "zfs-segm";
inline constexpr std::string_view kKdfContextFooterMac = "zfs-foot";
inline constexpr std::string_view kKdfContextRoot = "zfs-root";
inline constexpr std::string_view kKdfContextIndex = "zfs-indx";
inline constexpr std::string_view kKdfContextCheckpoint = "zfs-ckpt";
inline constexpr std::uint64_t kSubkeyId = 1;

// ---- The key file (docs/format.md "The key file") ----

inline constexpr std::uint32_t kKeyFileVersion = 1;
inline constexpr std::string_view kKeyFileFormatName = "zerofs.key";
inline constexpr std::string_view kKdfAlgorithmName = "argon2id13";
inline constexpr std::string_view kWrapAlgorithmName = "xchacha20poly1305-ietf";
inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kKeyFileMaxBytes = 64 * 1024;
inline constexpr std::size_t kKeyWrapAadBytes = 52;
// Bounds a reader enforces on the cost parameters, so that a hostile key file cannot make
// opening a volume take hours or exhaust memory.
inline constexpr std::uint64_t kArgon2MinOpslimit = 1;
inline constexpr std::uint64_t kArgon2MaxOpslimit = 32;
inline constexpr std::uint64_t kArgon2MinMemlimitBytes = 8 * 1024;
inline constexpr std::uint64_t kArgon2MaxMemlimitBytes = 4ULL << 30;

// ---- Frames (docs/format.md "Frames") ----

inline constexpr std::size_t kNonceBytes = 24;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kFrameOverheadBytes = kNonceBytes + kTagBytes;
// The body inside the seal starts with a codec byte; compressed bodies then carry the
// decompressed length as a u32.
inline constexpr std::size_t kCodecBytes = 1;
inline constexpr std::size_t kRawLengthBytes = 4;
inline constexpr std::size_t kMinFrameBytes = kFrameOverheadBytes + kCodecBytes;
// A writer stores a body uncompressed unless compression makes it strictly smaller, so a
// frame is never longer than its plaintext plus this.
inline constexpr std::size_t kMaxFrameExpansionBytes = kFrameOverheadBytes + kCodecBytes;

enum class Codec : std::uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };

// The first byte of every AAD: which kind of object a sealed byte string belongs to.
enum class Domain : std::uint8_t {
  kSegmentFrame = 1,
  kRoot = 2,
  kIndexFile = 3,
  kCheckpoint = 4,
  kKeyFile = 5,
};

// ---- Segments (docs/format.md "Segments") ----

enum class FrameKind : std::uint8_t { kExtent = 1, kJournal = 2, kDirectory = 3 };

inline constexpr std::string_view kSegmentMagic = "ZEROFSSG";
inline constexpr std::string_view kFooterMagic = "ZEROFSFT";
inline constexpr std::size_t kSegmentHeaderBytes = 48;
inline constexpr std::size_t kSegmentFooterBytes = 80;
inline constexpr std::size_t kFooterMacOffset = 56;
inline constexpr std::size_t kFooterMacBytes = 16;
inline constexpr std::size_t kFooterMagicOffset = kFooterMacOffset + kFooterMacBytes;
inline constexpr std::size_t kDirectoryEntryBytes = 40;
inline constexpr std::size_t kSegmentFrameAadBytes = 48;

inline constexpr std::size_t kMaxExtentBytes = 32 * 1024;
inline constexpr std::size_t kJournalPartBytes = 1024 * 1024;
inline constexpr std::size_t kMaxJournalBytes = 64 * 1024 * 1024;
inline constexpr std::size_t kMaxJournalParts = kMaxJournalBytes / kJournalPartBytes;
inline constexpr std::size_t kMaxSegmentEntries = 65536;
inline constexpr std::size_t kMaxSegmentExtents = kMaxSegmentEntries - kMaxJournalParts;
// The largest segment the limits above allow fits well within this; readers reject larger
// sizes and offsets, so that no arithmetic on them can overflow.
inline constexpr std::uint64_t kMaxSegmentBytes = 4ULL << 30;
// The smallest well-formed segment: header, one (empty) journal part, a directory with its
// one entry, footer.
inline constexpr std::size_t kMinSegmentBytes =
    kSegmentHeaderBytes + kMinFrameBytes + kMinFrameBytes + kSegmentFooterBytes;

// The encoded ExtentLocation (docs/format.md "Extent locations").
inline constexpr std::size_t kExtentLocationBytes = 28;

// ---- Sealed envelopes: root, index/<name>, checkpoints/<name> ----

inline constexpr std::string_view kEnvelopeMagic = "ZEROFSOB";
inline constexpr std::size_t kEnvelopeHeaderBytes = 40;
inline constexpr std::size_t kEnvelopeChunkBytes = 1024 * 1024;
inline constexpr std::size_t kEnvelopeChunkPrefixBytes = 4;
inline constexpr std::size_t kEnvelopeAadFixedBytes = 40;
inline constexpr std::uint64_t kMaxEnvelopeBytes = 4ULL << 30;
inline constexpr std::uint32_t kRootPayloadVersion = 1;

static_assert(kSegmentMagic.size() == 8 && kFooterMagic.size() == 8 && kEnvelopeMagic.size() == 8);
static_assert(kKdfContextSegment.size() == kKdfContextBytes &&
              kKdfContextFooterMac.size() == kKdfContextBytes &&
              kKdfContextRoot.size() == kKdfContextBytes &&
              kKdfContextIndex.size() == kKdfContextBytes &&
              kKdfContextCheckpoint.size() == kKdfContextBytes);
static_assert(kFooterMagicOffset + kFooterMagic.size() == kSegmentFooterBytes);
static_assert(kSegmentHeaderBytes == 8 + 2 + 2 + 4 + 16 + 8 + 8);
static_assert(kFooterMacOffset == 16 + 8 + 8 + 8 + 4 + 4 + 4 + 2 + 2);
static_assert(kDirectoryEntryBytes == 1 + 1 + 2 + 4 + 8 + 4 + 4 + 8 + 8);
static_assert(kSegmentFrameAadBytes == 1 + 1 + 2 + 4 + 16 + 8 + 8 + 8);
static_assert(kEnvelopeHeaderBytes == 8 + 1 + 1 + 2 + 4 + 8 + 16);
static_assert(kEnvelopeAadFixedBytes == 1 + 1 + 2 + 4 + 16 + 8 + 4 + 4);
static_assert(kKeyWrapAadBytes == 1 + 1 + 2 + 16 + 8 + 8 + kSaltBytes);
static_assert(kExtentLocationBytes == 8 + 8 + 4 + 4 + 4);
static_assert(kMaxJournalBytes % kJournalPartBytes == 0);
static_assert(kMaxSegmentEntries * kDirectoryEntryBytes < (1ULL << 32) - kMaxFrameExpansionBytes,
              "a directory's sealed length must fit its u32 footer field");
static_assert(kJournalPartBytes + kMaxFrameExpansionBytes < (1ULL << 32));
static_assert(kSegmentHeaderBytes +
                  kMaxSegmentExtents * (kMaxExtentBytes + kMaxFrameExpansionBytes) +
                  kMaxJournalParts * (kJournalPartBytes + kMaxFrameExpansionBytes) +
                  kMaxSegmentEntries * kDirectoryEntryBytes + kMaxFrameExpansionBytes +
                  kSegmentFooterBytes <=
              kMaxSegmentBytes);
static_assert(kMaxEnvelopeBytes / kEnvelopeChunkBytes < (1ULL << 32));

// ---- Little-endian helpers ----

inline void PutU8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}
inline void PutU16(std::string& out, std::uint16_t v) {
  for (int i = 0; i < 2; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Callers check bounds first; these read `sizeof(T)` bytes at `p`.
inline std::uint8_t LoadU8(const char* p) {
  return static_cast<std::uint8_t>(*p);
}
inline std::uint16_t LoadU16(const char* p) {
  return static_cast<std::uint16_t>(LoadU8(p) | (LoadU8(p + 1) << 8));
}
inline std::uint32_t LoadU32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | LoadU8(p + i);
  return v;
}
inline std::uint64_t LoadU64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | LoadU8(p + i);
  return v;
}

}  // namespace zerofs::format
