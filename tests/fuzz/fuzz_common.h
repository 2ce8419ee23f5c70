// Shared by the fuzz targets: fixed keys, and writing a seed corpus on request.
//
// Each target defines its seeds with the same keys it decodes with, so that valid inputs
// reach past authentication and mutations of them explore the decoders' checks.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/volume_uuid.h"

namespace zerofs::fuzz {

inline std::shared_ptr<const crypto::KeyRing> Keys() {
  static const std::shared_ptr<const crypto::KeyRing> keys = [] {
    std::array<std::uint8_t, 32> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return crypto::KeyRing::FromDataKey(key).value();
  }();
  return keys;
}

inline const crypto::VolumeUuid& Uuid() {
  static const crypto::VolumeUuid uuid =
      crypto::VolumeUuid::Parse("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0").value();
  return uuid;
}

// Aborts (a finding) if an invariant of a decoder is broken.
inline void Expect(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

// If ZEROFS_FUZZ_WRITE_SEEDS names a directory, writes `make_seeds()` there and exits.
template <typename MakeSeeds>
void MaybeWriteSeeds(MakeSeeds make_seeds) {
  const char* dir = std::getenv("ZEROFS_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return;
  std::filesystem::create_directories(dir);
  const std::vector<std::string> seeds = make_seeds();
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(std::filesystem::path(dir) / ("seed-" + std::to_string(i)), std::ios::binary);
    out.write(seeds[i].data(), static_cast<std::streamsize>(seeds[i].size()));
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir);
  std::exit(0);
}

}  // namespace zerofs::fuzz
