// Frame bodies: the compressed form of a plaintext, before sealing and after opening.
//
// A body is a codec byte followed by the payload (docs/format.md "Frames"): the data itself
// (none), or its decompressed length as u32 and an LZ4 block or a zstd frame. The writer's
// codec is a setting; the reader learns the codec from the body, so changing the setting
// never needs a migration. A writer keeps the data uncompressed whenever compression does
// not make it strictly smaller, which bounds a body at its data length + 1.
//
// DecodeBody is a function from bytes to Result that never allocates more than the caller's
// bound: a body claiming a 4 GiB decompressed length is Corruption, not an allocation.
//
// Thread-safety: all functions may run concurrently (each thread keeps its own
// compression contexts).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/format.h"

namespace zerofs::crypto {

using format::Codec;

struct CompressionOptions {
  Codec codec = Codec::kZstd;
  int zstd_level = 3;  // 1 (fastest) .. 19; ignored by other codecs

  static CompressionOptions None() { return {Codec::kNone, 0}; }
  static CompressionOptions Lz4() { return {Codec::kLz4, 0}; }
  static CompressionOptions Zstd(int level) { return {Codec::kZstd, level}; }
};

// Parses "none", "lz4", "zstd" (level 3) or "zstd:N" (N in 1..19), e.g. from a config file.
Result<CompressionOptions> ParseCompression(std::string_view text);
// The inverse of ParseCompression.
std::string CompressionName(const CompressionOptions& options);
// "none", "lz4", "zstd" or "unknown".
std::string_view CodecName(Codec codec);

// Appends the body of `data` to `*out`. Never fails: if the chosen compressor fails or does
// not help, the body is stored uncompressed.
void EncodeBody(std::string_view data, const CompressionOptions& options, std::string* out);

// The data of `body`, which must decompress to at most `max_data_bytes` bytes. Errors are
// kCorruption with a message that starts with `what` (the object and frame being read).
Result<std::string> DecodeBody(std::string_view body, std::size_t max_data_bytes,
                               std::string_view what);

}  // namespace zerofs::crypto
