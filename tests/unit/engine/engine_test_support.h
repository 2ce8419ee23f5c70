// Shared helpers for engine tests: a fresh volume in a MemoryStore, temp cache dirs.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "zerofs/engine/volume.h"
#include "zerofs/objstore/memory_store.h"

namespace zerofs::testing {

inline const Secret& TestPassword() {
  static const Secret password("engine-test-password");
  return password;
}

// Creates the key file of a new volume in `store` (cheap Argon2 costs).
inline void InitVolume(objstore::ObjectStore& store) {
  engine::CreateOptions options;
  options.kdf = crypto::Argon2Params::Minimum();
  auto key = engine::Volume::Create(store, TestPassword(), options);
  REQUIRE(key.ok());
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zerofs-engine-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline engine::VolumeOptions TestOptions(std::shared_ptr<objstore::ObjectStore> store,
                                         const std::filesystem::path& cache_dir) {
  engine::VolumeOptions o;
  o.store = std::move(store);
  o.password = TestPassword();
  o.cache_dir = cache_dir;
  o.memory_cache_bytes = 8 << 20;
  o.flush_interval = std::chrono::milliseconds(50);
  o.upload_attempts = 2;
  o.snapshot_every_segments = 0;
  o.snapshot_interval = std::chrono::seconds(0);
  return o;
}

inline std::unique_ptr<engine::Volume> OpenVolume(engine::VolumeOptions options) {
  auto v = engine::Volume::Open(std::move(options));
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  return std::move(v).value();
}

inline std::string RandomBytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace zerofs::testing
