// Coding: the byte- and text-level encodings every layer shares — lower-case hex of bytes
// and of 64-bit numbers (segment seqs, inodes, hashes in object and file names) and
// big-endian 64-bit integers (index keys, NFS file handles, where byte order must be
// numeric order).
//
// One implementation, so that a name written by one layer parses in another and no layer
// hand-rolls a hex table or a shift loop. The little-endian field helpers of the bucket
// format live with the format constants (zerofs/format.h); object names built from these
// (segments/<seq>, index/...) live with the layer that owns the name.
//
// Every parser is a total function over untrusted text: it returns nullopt or false,
// never asserts, never reads past its input.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace zerofs::coding {

inline constexpr std::string_view kLowerHexDigits = "0123456789abcdef";
// The digits of a 64-bit number in hex.
inline constexpr std::size_t kHexU64Digits = 16;

// The lower-case hex digit of the low 4 bits of `v`.
inline char HexDigit(unsigned v) {
  return kLowerHexDigits[v & 0xf];
}

// 0..15 for '0'-'9' and 'a'-'f', -1 for anything else (upper case included).
int LowerHexValue(char c);
// 0..15 for '0'-'9', 'a'-'f' and 'A'-'F', -1 for anything else.
int HexValue(char c);

// True if every character of `text` is one of 0-9a-f (also for empty text).
bool IsLowerHex(std::string_view text);

// Two lower-case hex digits per byte, most significant nibble first.
std::string HexEncode(std::span<const std::uint8_t> bytes);
std::string HexEncode(std::string_view bytes);

// Exactly 2 * out.size() lower-case hex digits into `out`; false (out unspecified) if
// `hex` has another length or a character outside 0-9a-f.
bool HexDecode(std::string_view hex, std::span<std::uint8_t> out);

// `v` in lower-case hex, zero-padded to at least `min_digits` (1..16) digits.
std::string HexU64(std::uint64_t v, std::size_t min_digits = kHexU64Digits);

// 1..16 lower-case hex digits as a number; nullopt for empty, longer or other text.
std::optional<std::uint64_t> ParseHexU64(std::string_view text);

// Names that end in a number: `prefix` followed by HexU64(v), e.g. "segments/000000000000002a".
std::string HexU64Name(std::string_view prefix, std::uint64_t v);
// The number of such a name; nullopt unless `name` is `prefix` followed by exactly 16
// lower-case hex digits.
std::optional<std::uint64_t> ParseHexU64Name(std::string_view name, std::string_view prefix);

// ---- Big-endian 64-bit integers ----

void StoreBigEndian64(char* p, std::uint64_t v);  // writes 8 bytes at `p`
void AppendBigEndian64(std::string& out, std::uint64_t v);
// Reads 8 bytes at `p`; the caller checks bounds.
std::uint64_t LoadBigEndian64(const char* p);

}  // namespace zerofs::coding
