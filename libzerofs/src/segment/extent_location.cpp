#include "zerofs/segment/extent_location.h"

#include "zerofs/format.h"

namespace zerofs::segment {

void EncodeExtentLocation(const ExtentLocation& location, std::string* out) {
  format::PutU64(*out, location.seq);
  format::PutU64(*out, location.offset);
  format::PutU32(*out, location.sealed_length);
  format::PutU32(*out, location.plaintext_length);
  format::PutU32(*out, location.frame_index);
}

std::string EncodeExtentLocation(const ExtentLocation& location) {
  std::string out;
  out.reserve(format::kExtentLocationBytes);
  EncodeExtentLocation(location, &out);
  return out;
}

Result<ExtentLocation> DecodeExtentLocation(std::string_view bytes) {
  if (bytes.size() != format::kExtentLocationBytes) {
    return Status::Corruption("extent location of " + std::to_string(bytes.size()) +
                              " bytes, expected " + std::to_string(format::kExtentLocationBytes));
  }
  ExtentLocation loc;
  loc.seq = format::LoadU64(bytes.data());
  loc.offset = format::LoadU64(bytes.data() + 8);
  loc.sealed_length = format::LoadU32(bytes.data() + 16);
  loc.plaintext_length = format::LoadU32(bytes.data() + 20);
  loc.frame_index = format::LoadU32(bytes.data() + 24);
  ZEROFS_RETURN_IF_ERROR(ValidateExtentLocation(loc, "extent location"));
  return loc;
}

Status ValidateExtentLocation(const ExtentLocation& location, std::string_view what) {
  const bool ok =
      location.plaintext_length >= 1 && location.plaintext_length <= format::kMaxExtentBytes &&
      location.sealed_length >= format::kMinFrameBytes &&
      location.sealed_length <= location.plaintext_length + format::kMaxFrameExpansionBytes &&
      location.offset >= format::kSegmentHeaderBytes &&
      location.offset < format::kMaxSegmentBytes &&
      location.frame_index < format::kMaxSegmentExtents;
  if (ok) return Status::Ok();
  return Status::Corruption(std::string(what) + ": impossible extent location (offset " +
                            std::to_string(location.offset) + ", " +
                            std::to_string(location.sealed_length) + " sealed / " +
                            std::to_string(location.plaintext_length) + " plain bytes, frame " +
                            std::to_string(location.frame_index) + ")");
}

}  // namespace zerofs::segment
