// Helpers for the cache tests: a volume with segments of known extents in a metered
// MemoryStore, and small file utilities for damaging disk cache entries.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "local_dir_support.h"
#include "test_keys.h"
#include "zerofs/cache/frame_id.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/metered_store.h"
#include "zerofs/segment/segment_writer.h"

namespace zerofs::testing {

using segment::ExtentRef;

inline const crypto::VolumeUuid kCacheTestUuid =
    crypto::VolumeUuid::Parse("6d1f3c2a-9b8e-4f70-a1b2-c3d4e5f60718").value();

inline cache::FrameId IdOf(const ExtentRef& ref) {
  return {ref.location.seq, ref.location.offset};
}

// A volume in memory: the bucket (a MemoryStore seen through a MeteredStore, so tests count
// requests), its keys, and the extents written so far.
struct TestVolume {
  std::shared_ptr<objstore::MemoryStore> memory = std::make_shared<objstore::MemoryStore>();
  std::shared_ptr<objstore::MeteredStore> store = std::make_shared<objstore::MeteredStore>(memory);
  std::shared_ptr<const crypto::KeyRing> keys = FixedKeys(3);

  struct Extent {
    ExtentRef ref;
    std::string data;
  };

  // Writes segment `seq` holding `count` extents of `bytes` bytes each (inode `inode`,
  // extent indexes 0..count-1, distinct text-like contents) straight into the bucket,
  // bypassing the meter.
  std::vector<Extent> WriteSegment(std::uint64_t seq, std::size_t count,
                                   std::size_t bytes = 32 * 1024, std::uint64_t inode = 7) {
    segment::SegmentWriter writer(keys, kCacheTestUuid, seq, 1);
    std::vector<Extent> out;
    for (std::size_t i = 0; i < count; ++i) {
      std::string data = TextLike(bytes, static_cast<std::uint32_t>(seq * 100'000 + i + 1));
      Result<std::optional<segment::ExtentLocation>> loc = writer.AddExtent(inode, i, data);
      REQUIRE(loc.ok());
      REQUIRE(loc->has_value());
      out.push_back({ExtentRef{inode, i, **loc}, std::move(data)});
    }
    Result<std::string> object = writer.Finish("journal");
    REQUIRE(object.ok());
    REQUIRE(memory->Put(format::SegmentObjectName(seq), *object).ok());
    return out;
  }

  static std::vector<ExtentRef> Refs(const std::vector<Extent>& extents) {
    std::vector<ExtentRef> refs;
    for (const Extent& e : extents) refs.push_back(e.ref);
    return refs;
  }

  // Flips one bit of byte `at` of segment `seq` in the bucket.
  void DamageSegment(std::uint64_t seq, std::uint64_t at) {
    const std::string name = format::SegmentObjectName(seq);
    std::string bytes = memory->Get(name).value().data;
    REQUIRE(at < bytes.size());
    bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
    REQUIRE(memory->Put(name, bytes).ok());
  }
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Flips one bit of byte `at` of the file at `path`.
inline void FlipByte(const std::filesystem::path& path, std::size_t at) {
  std::string bytes = ReadFile(path);
  REQUIRE(at < bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  WriteFile(path, bytes);
}

// Regular files under `dir`, recursively, and the disk blocks they take (4 KiB rounding,
// as the cache charges them).
struct DirUsage {
  std::size_t files = 0;
  std::uint64_t block_bytes = 0;
};
inline DirUsage Usage(const std::filesystem::path& dir) {
  DirUsage u;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == "LOCK") continue;
    ++u.files;
    u.block_bytes += (e.file_size() + 4095) / 4096 * 4096;
  }
  return u;
}

}  // namespace zerofs::testing
