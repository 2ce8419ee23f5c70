// The volume key as bytes: generate, unlock and re-wrap a key file without any store.
#include "zerofs/crypto/volume_key.h"

#include <catch2/catch.hpp>
#include <string>

#include "test_keys.h"
#include "zerofs/crypto/frame.h"

using namespace zerofs;
using crypto::Argon2Params;

namespace {

crypto::WrappedVolumeKey Generate(const char* password) {
  Result<crypto::WrappedVolumeKey> made =
      crypto::GenerateVolumeKey(Secret(password), Argon2Params::Minimum(), crypto::SystemRandom());
  REQUIRE(made.ok());
  return std::move(made).value();
}

}  // namespace

TEST_CASE("a generated key file unlocks with its password and yields the same keys") {
  const crypto::WrappedVolumeKey made = Generate("pw");
  Result<crypto::KeyFile> file = crypto::KeyFile::Parse(made.key_file, "k");
  REQUIRE(file.ok());
  CHECK(file->volume_uuid == made.key.uuid);
  CHECK(file->kdf == Argon2Params::Minimum());

  Result<crypto::VolumeKey> unlocked = crypto::UnlockVolumeKey(made.key_file, Secret("pw"));
  REQUIRE(unlocked.ok());
  CHECK(unlocked->uuid == made.key.uuid);
  CHECK(unlocked->kdf == Argon2Params::Minimum());
  CHECK(testing::SameKeys(*unlocked->keys, *made.key.keys));
  // Two volumes never share a uuid or keys.
  const crypto::WrappedVolumeKey second = Generate("pw");
  CHECK(second.key.uuid != made.key.uuid);
  CHECK_FALSE(testing::SameKeys(*second.key.keys, *made.key.keys));
}

TEST_CASE("a wrong password is kPermissionDenied naming the volume") {
  const crypto::WrappedVolumeKey made = Generate("right");
  Result<crypto::VolumeKey> r = crypto::UnlockVolumeKey(made.key_file, Secret("wrong"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kPermissionDenied);
  CHECK(r.status().message() == "wrong password for volume " + made.key.uuid.ToString());
}

TEST_CASE("empty passwords, bad costs and bad bytes are refused") {
  CHECK(crypto::GenerateVolumeKey(Secret(""), Argon2Params::Minimum(), crypto::SystemRandom())
            .status()
            .code() == StatusCode::kInvalidArgument);
  CHECK(crypto::GenerateVolumeKey(Secret("pw"), Argon2Params{0, 1}, crypto::SystemRandom())
            .status()
            .code() == StatusCode::kInvalidArgument);
  const crypto::WrappedVolumeKey made = Generate("pw");
  CHECK(crypto::UnlockVolumeKey(made.key_file, Secret("")).status().code() ==
        StatusCode::kInvalidArgument);
  Result<crypto::VolumeKey> garbage = crypto::UnlockVolumeKey("{not json", Secret("pw"), "a.key");
  CHECK(garbage.status().code() == StatusCode::kCorruption);
  CHECK_THAT(garbage.status().message(), Catch::Contains("a.key"));
}

TEST_CASE("re-wrapping keeps the data key and retires the old password") {
  const crypto::WrappedVolumeKey made = Generate("old");
  // Data sealed before the change must stay readable after it.
  std::string frame;
  crypto::SealFrame(made.key.keys->Subkey(crypto::KeyPurpose::kSegmentFrame), "aad", "payload",
                    crypto::CompressionOptions::None(), crypto::SystemRandom(), &frame);

  Result<crypto::WrappedVolumeKey> changed = crypto::RewrapVolumeKey(
      made.key_file, Secret("old"), Secret("new"), Argon2Params{2, 16384}, crypto::SystemRandom());
  REQUIRE(changed.ok());
  CHECK(changed->key.uuid == made.key.uuid);
  CHECK(changed->key.kdf == (Argon2Params{2, 16384}));
  CHECK(changed->key_file != made.key_file);

  CHECK(crypto::UnlockVolumeKey(changed->key_file, Secret("old")).status().code() ==
        StatusCode::kPermissionDenied);
  Result<crypto::VolumeKey> reopened = crypto::UnlockVolumeKey(changed->key_file, Secret("new"));
  REQUIRE(reopened.ok());
  CHECK(testing::SameKeys(*reopened->keys, *made.key.keys));
  Result<std::string> data = crypto::OpenFrame(
      reopened->keys->Subkey(crypto::KeyPurpose::kSegmentFrame), "aad", frame, 100, "f");
  REQUIRE(data.ok());
  CHECK(*data == "payload");

  // No cost parameters given: the key file's are kept.
  Result<crypto::WrappedVolumeKey> kept = crypto::RewrapVolumeKey(
      changed->key_file, Secret("new"), Secret("newer"), std::nullopt, crypto::SystemRandom());
  REQUIRE(kept.ok());
  CHECK(kept->key.kdf == (Argon2Params{2, 16384}));
}

TEST_CASE("re-wrapping needs the old password and a new one") {
  const crypto::WrappedVolumeKey made = Generate("old");
  CHECK(crypto::RewrapVolumeKey(made.key_file, Secret("guess"), Secret("new"), std::nullopt,
                                crypto::SystemRandom())
            .status()
            .code() == StatusCode::kPermissionDenied);
  CHECK(crypto::RewrapVolumeKey(made.key_file, Secret("old"), Secret(""), std::nullopt,
                                crypto::SystemRandom())
            .status()
            .code() == StatusCode::kInvalidArgument);
}
