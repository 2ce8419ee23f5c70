#include "cache/disk_cache_entry.h"

#include <sodium.h>

#include <array>
#include <cstring>

#include "zerofs/format.h"

namespace zerofs::cache::disk_entry {

namespace {

using Checksum = std::array<unsigned char, kChecksumBytes>;

Checksum Compute(std::string_view fixed_header, std::string_view data) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kChecksumBytes);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(fixed_header.data()),
                            fixed_header.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  Checksum out{};
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

Status Damaged(const FrameId& id, std::string_view problem) {
  return Status::Corruption("disk cache entry for " + DescribeFrameId(id) + ": " +
                            std::string(problem));
}

}  // namespace

std::string Encode(const FrameId& id, std::string_view data) {
  std::string out;
  out.reserve(kHeaderBytes + data.size());
  out.append(kMagic);
  format::PutU16(out, kVersion);
  format::PutU16(out, 0);
  format::PutU32(out, static_cast<std::uint32_t>(data.size()));
  format::PutU64(out, id.seq);
  format::PutU64(out, id.offset);
  const Checksum sum = Compute(out, data);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  out.append(data);
  return out;
}

std::size_t PeekLength(std::string_view header) {
  if (header.size() < kHeaderBytes || header.substr(0, kMagic.size()) != kMagic) return 0;
  return format::LoadU32(header.data() + 12);
}

Result<std::string_view> Decode(std::string_view file, const FrameId& expected) {
  if (file.size() < kHeaderBytes) {
    return Damaged(expected, "file of " + std::to_string(file.size()) +
                                 " bytes is shorter than "
                                 "its header (torn write?)");
  }
  const char* p = file.data();
  if (file.substr(0, kMagic.size()) != kMagic) return Damaged(expected, "bad magic");
  if (format::LoadU16(p + 8) != kVersion) {
    return Damaged(expected, "unknown version " + std::to_string(format::LoadU16(p + 8)));
  }
  if (format::LoadU16(p + 10) != 0) return Damaged(expected, "reserved bytes are not zero");
  const std::uint32_t length = format::LoadU32(p + 12);
  if (length > kMaxDataBytes || file.size() - kHeaderBytes != length) {
    return Damaged(expected, "header says " + std::to_string(length) + " bytes of data, file has " +
                                 std::to_string(file.size() - kHeaderBytes));
  }
  const FrameId stored{format::LoadU64(p + 16), format::LoadU64(p + 24)};
  if (stored != expected) {
    return Damaged(expected, "holds the frame of " + DescribeFrameId(stored));
  }
  const std::string_view data = file.substr(kHeaderBytes);
  const Checksum sum = Compute(file.substr(0, kChecksumOffset), data);
  if (std::memcmp(sum.data(), p + kChecksumOffset, kChecksumBytes) != 0) {
    return Damaged(expected, "checksum mismatch");
  }
  return data;
}

}  // namespace zerofs::cache::disk_entry
