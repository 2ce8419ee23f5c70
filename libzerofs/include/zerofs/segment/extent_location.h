// ExtentLocation: where the sealed frame of one extent lives, as the index records it.
//
// Enough for one ranged GET of exactly that frame: the segment's seq, the frame's offset and
// sealed length, plus the frame index that the frame's AAD binds and the plaintext length
// the reader checks. The (inode, extent index) pair is not part of the location: it is the
// key the index looks it up by, and the reader binds it into the AAD (ExtentRef carries
// both). Encoded as 28 bytes (docs/format.md §7) for the index layer to store.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"

namespace zerofs::segment {

struct ExtentLocation {
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;            // of the frame in the segment object
  std::uint32_t sealed_length = 0;     // bytes of the frame
  std::uint32_t plaintext_length = 0;  // bytes of extent data, 1..32768
  std::uint32_t frame_index = 0;       // entry index in the segment's directory

  std::uint64_t end() const { return offset + sealed_length; }
  friend bool operator==(const ExtentLocation&, const ExtentLocation&) = default;
};

// An extent to read: which one (the AAD needs it) and where it is.
struct ExtentRef {
  std::uint64_t inode = 0;
  std::uint64_t extent_index = 0;
  ExtentLocation location;
};

// Appends the 28-byte encoding of `location` to `*out`.
void EncodeExtentLocation(const ExtentLocation& location, std::string* out);
std::string EncodeExtentLocation(const ExtentLocation& location);
// Decodes exactly 28 bytes; checks lengths against the format's bounds (kCorruption).
Result<ExtentLocation> DecodeExtentLocation(std::string_view bytes);

// kCorruption unless the lengths are possible for an extent frame; `what` names it.
Status ValidateExtentLocation(const ExtentLocation& location, std::string_view what);

}  // namespace zerofs::segment
