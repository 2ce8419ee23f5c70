// Helpers shared by the index unit tests: a fixed volume, mutation checks for decoders, and
// small index databases.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "local_dir_support.h"
#include "test_keys.h"
#include "zerofs/crypto/volume_uuid.h"
#include "zerofs/index/index_db.h"

namespace zerofs::testing {

inline const crypto::VolumeUuid& TestUuid() {
  static const crypto::VolumeUuid uuid =
      crypto::VolumeUuid::Parse("5daf1d44-ef06-4079-aac7-f2550e2db161").value();
  return uuid;
}

// Checks a decoder against damaged copies of the valid encoding `good`: every truncation
// and every byte flipped by each of a few masks must either fail with kCorruption or decode
// to a value that re-encodes to exactly the damaged bytes (a different valid value). Never
// a crash, never a value that does not round-trip.
template <typename Decode, typename Encode>
void CheckDamagedInputs(const std::string& good, Decode decode, Encode encode) {
  for (std::size_t n = 0; n < good.size(); ++n) {
    const std::string cut = good.substr(0, n);
    auto r = decode(cut);
    if (r.ok()) {
      INFO("truncated to " << n << " bytes");
      CHECK(encode(*r) == cut);
    } else {
      CHECK(r.status().code() == StatusCode::kCorruption);
    }
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const int mask : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(static_cast<std::uint8_t>(bad[i]) ^ mask);
      auto r = decode(bad);
      INFO("byte " << i << " ^ " << mask);
      if (r.ok()) {
        CHECK(encode(*r) == bad);
      } else {
        CHECK(r.status().code() == StatusCode::kCorruption);
      }
    }
  }
  auto longer = decode(good + std::string(1, '\0'));
  CHECK_FALSE(longer.ok());
}

inline std::unique_ptr<index::IndexDb> OpenDb(const std::filesystem::path& dir,
                                              index::IndexDbOptions options = {}) {
  auto db = index::IndexDb::Open(dir, options);
  INFO("IndexDb::Open(" << dir << "): " << db.status().ToString());
  REQUIRE(db.ok());
  return std::move(db).value();
}

// Every key and value of `db`.
inline std::map<std::string, std::string> Contents(const index::IndexDb& db) {
  std::map<std::string, std::string> all;
  const Status s = db.Scan("", "", [&](std::string_view k, std::string_view v) {
    all.emplace(k, v);
    return true;
  });
  REQUIRE(s.ok());
  return all;
}

}  // namespace zerofs::testing
