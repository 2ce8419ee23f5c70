// XDR encoding and bounded decoding; see xdr.h.
#include "zerofs/nfs/xdr.h"

namespace zerofs::nfs {

void XdrEncoder::PutU32(std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out_.append(b, 4);
}

void XdrEncoder::PutU64(std::uint64_t v) {
  PutU32(static_cast<std::uint32_t>(v >> 32));
  PutU32(static_cast<std::uint32_t>(v));
}

void XdrEncoder::PutFixedOpaque(std::string_view bytes) {
  out_.append(bytes);
  out_.append(XdrPadded(bytes.size()) - bytes.size(), '\0');
}

void XdrEncoder::PutOpaque(std::string_view bytes) {
  PutU32(static_cast<std::uint32_t>(bytes.size()));
  PutFixedOpaque(bytes);
}

Status XdrDecoder::Short(const char* what, std::size_t need) const {
  return Status::Corruption("xdr: " + std::string(what) + " needs " + std::to_string(need) +
                            " bytes at offset " + std::to_string(pos_) + ", " +
                            std::to_string(remaining()) + " left");
}

Result<std::uint32_t> XdrDecoder::U32() {
  if (remaining() < 4) return Short("u32", 4);
  const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
  pos_ += 4;
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

Result<std::int32_t> XdrDecoder::I32() {
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t v, U32());
  return static_cast<std::int32_t>(v);
}

Result<std::uint64_t> XdrDecoder::U64() {
  if (remaining() < 8) return Short("u64", 8);
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t hi, U32());
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t lo, U32());
  return (std::uint64_t{hi} << 32) | lo;
}

Result<bool> XdrDecoder::Bool() {
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t v, U32());
  if (v > 1) {
    return Status::Corruption("xdr: boolean " + std::to_string(v) + " at offset " +
                              std::to_string(pos_ - 4));
  }
  return v == 1;
}

Result<std::string> XdrDecoder::FixedOpaque(std::size_t n) {
  const std::size_t padded = XdrPadded(n);
  if (padded < n || remaining() < padded) return Short("opaque", padded);
  std::string out(in_.substr(pos_, n));
  pos_ += padded;
  return out;
}

Result<std::string_view> XdrDecoder::OpaqueView(std::size_t max_bytes) {
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t n, U32());
  if (n > max_bytes) {
    return Status::Corruption("xdr: opaque of " + std::to_string(n) + " bytes exceeds the " +
                              std::to_string(max_bytes) + "-byte limit");
  }
  const std::size_t padded = XdrPadded(n);
  if (remaining() < padded) return Short("opaque", padded);
  std::string_view out = in_.substr(pos_, n);
  pos_ += padded;
  return out;
}

Result<std::string> XdrDecoder::Opaque(std::size_t max_bytes) {
  ZEROFS_ASSIGN_OR_RETURN(std::string_view v, OpaqueView(max_bytes));
  return std::string(v);
}

Result<std::uint32_t> XdrDecoder::ArrayCount(std::size_t max_count, std::size_t min_element_bytes) {
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t n, U32());
  if (n > max_count) {
    return Status::Corruption("xdr: array of " + std::to_string(n) + " elements exceeds the " +
                              std::to_string(max_count) + "-element limit");
  }
  if (min_element_bytes > 0 && n > remaining() / min_element_bytes) {
    return Short("array", std::size_t{n} * min_element_bytes);
  }
  return n;
}

}  // namespace zerofs::nfs
