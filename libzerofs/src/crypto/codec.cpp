#include "zerofs/crypto/codec.h"

#include <lz4.h>
#include <zstd.h>

#include <charconv>
#include <limits>
#include <memory>

namespace zerofs::crypto {
namespace {

constexpr std::size_t kHeaderBytes = format::kCodecBytes + format::kRawLengthBytes;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Creating a zstd context costs more than compressing a 32 KiB extent, so each thread keeps
// one of each for its lifetime.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

Status Corrupt(std::string_view what, std::string_view problem) {
  return Status::Corruption(std::string(what) + ": " + std::string(problem));
}

// Compresses `data` behind a codec byte and u32 length at `out[start]`; returns false when
// the result would not be strictly smaller than storing the data as is.
bool TryCompress(std::string_view data, const CompressionOptions& options, std::size_t start,
                 std::string* out) {
  if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) - kHeaderBytes) {
    return false;
  }
  std::size_t bound = 0;
  if (options.codec == Codec::kLz4) {
    bound = static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size())));
  } else {
    bound = ZSTD_compressBound(data.size());
  }
  out->resize(start + kHeaderBytes + bound);
  char* dst = out->data() + start + kHeaderBytes;
  std::size_t produced = 0;
  if (options.codec == Codec::kLz4) {
    const int n = LZ4_compress_default(data.data(), dst, static_cast<int>(data.size()),
                                       static_cast<int>(bound));
    if (n <= 0) return false;
    produced = static_cast<std::size_t>(n);
  } else {
    ZSTD_CCtx* cctx = ThreadCCtx();
    if (cctx == nullptr) return false;
    const std::size_t n =
        ZSTD_compressCCtx(cctx, dst, bound, data.data(), data.size(), options.zstd_level);
    if (ZSTD_isError(n) != 0U) return false;
    produced = n;
  }
  if (format::kRawLengthBytes + produced >= data.size()) return false;
  (*out)[start] = static_cast<char>(options.codec);
  std::string length;
  format::PutU32(length, static_cast<std::uint32_t>(data.size()));
  out->replace(start + format::kCodecBytes, format::kRawLengthBytes, length);
  out->resize(start + kHeaderBytes + produced);
  return true;
}

}  // namespace

Result<CompressionOptions> ParseCompression(std::string_view text) {
  if (text == "none") return CompressionOptions::None();
  if (text == "lz4") return CompressionOptions::Lz4();
  if (text == "zstd") return CompressionOptions::Zstd(3);
  if (text.substr(0, 5) == "zstd:") {
    const std::string_view digits = text.substr(5);
    int level = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), level);
    if (ec == std::errc() && end == digits.data() + digits.size() && level >= 1 && level <= 19) {
      return CompressionOptions::Zstd(level);
    }
  }
  return Status::InvalidArgument(
      "compression must be none, lz4, zstd or zstd:LEVEL with "
      "LEVEL in 1..19, not '" +
      std::string(text) + "'");
}

std::string CompressionName(const CompressionOptions& options) {
  if (options.codec == Codec::kZstd) return "zstd:" + std::to_string(options.zstd_level);
  return std::string(CodecName(options.codec));
}

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone: return "none";
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
  }
  return "unknown";
}

void EncodeBody(std::string_view data, const CompressionOptions& options, std::string* out) {
  const std::size_t start = out->size();
  if (options.codec != Codec::kNone && data.size() > kHeaderBytes &&
      TryCompress(data, options, start, out)) {
    return;
  }
  out->resize(start);
  out->reserve(start + format::kCodecBytes + data.size());
  out->push_back(static_cast<char>(Codec::kNone));
  out->append(data);
}

Result<std::string> DecodeBody(std::string_view body, std::size_t max_data_bytes,
                               std::string_view what) {
  if (body.empty()) return Corrupt(what, "frame body is empty (no codec byte)");
  const auto codec = static_cast<Codec>(static_cast<std::uint8_t>(body[0]));
  if (codec == Codec::kNone) {
    if (body.size() - format::kCodecBytes > max_data_bytes) {
      return Corrupt(what, "frame holds " + std::to_string(body.size() - 1) +
                               " bytes, more than the " + std::to_string(max_data_bytes) +
                               " it may");
    }
    return std::string(body.substr(format::kCodecBytes));
  }
  if (codec != Codec::kLz4 && codec != Codec::kZstd) {
    return Corrupt(what, "unknown codec " + std::to_string(static_cast<unsigned>(body[0] & 0xff)));
  }
  if (body.size() < kHeaderBytes) return Corrupt(what, "compressed body too short");
  const std::uint32_t raw_length = format::LoadU32(body.data() + format::kCodecBytes);
  if (raw_length > max_data_bytes) {
    return Corrupt(what, "frame claims " + std::to_string(raw_length) +
                             " decompressed bytes, more than the " +
                             std::to_string(max_data_bytes) + " it may");
  }
  const std::string_view payload = body.substr(kHeaderBytes);
  std::string data(raw_length, '\0');
  if (codec == Codec::kLz4) {
    if (payload.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      return Corrupt(what, "lz4 payload too large");
    }
    const int n = LZ4_decompress_safe(payload.data(), data.data(), static_cast<int>(payload.size()),
                                      static_cast<int>(raw_length));
    if (n < 0 || static_cast<std::uint32_t>(n) != raw_length) {
      return Corrupt(what, "lz4 data does not decompress to its stated length");
    }
    return data;
  }
  ZSTD_DCtx* dctx = ThreadDCtx();
  if (dctx == nullptr) return Status::Internal("cannot allocate a zstd context");
  const std::size_t n =
      ZSTD_decompressDCtx(dctx, data.data(), data.size(), payload.data(), payload.size());
  if (ZSTD_isError(n) != 0U || n != raw_length) {
    return Corrupt(what, "zstd data does not decompress to its stated length");
  }
  return data;
}

}  // namespace zerofs::crypto
