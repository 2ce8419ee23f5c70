#include "zerofs/crypto/envelope.h"

#include <catch2/catch.hpp>

#include "test_keys.h"

using namespace zerofs;
using crypto::EnvelopeKind;

namespace {

const crypto::VolumeUuid kUuid =
    crypto::VolumeUuid::Parse("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0").value();

std::string Seal(const crypto::KeyRing& keys, EnvelopeKind kind, std::string_view name,
                 std::string_view plaintext) {
  Result<std::string> r =
      crypto::SealEnvelope(keys, kind, kUuid, name, plaintext, crypto::CompressionOptions::Zstd(1));
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("envelopes round-trip across chunk boundaries") {
  auto keys = testing::FixedKeys();
  const std::size_t mib = format::kEnvelopeChunkBytes;
  for (std::size_t size : {0UL, 1UL, 1000UL, mib - 1, mib, mib + 1, 2 * mib, 3 * mib + 7}) {
    INFO("size " << size);
    const std::string payload = testing::TextLike(size, static_cast<std::uint32_t>(size));
    const std::string sealed = Seal(*keys, EnvelopeKind::kIndexFile, "index/000042.sst", payload);
    Result<std::string> back = crypto::OpenEnvelope(*keys, EnvelopeKind::kIndexFile, kUuid,
                                                    "index/000042.sst", sealed, 1ULL << 30);
    REQUIRE(back.ok());
    CHECK(*back == payload);
  }
}

TEST_CASE("an envelope opens only as the object it was written as") {
  auto keys = testing::FixedKeys();
  const std::string root = Seal(*keys, EnvelopeKind::kRoot, "root", R"({"version":1})");
  CHECK(crypto::OpenEnvelope(*keys, EnvelopeKind::kRoot, kUuid, "root", root, 1024).ok());

  const std::string ckpt = Seal(*keys, EnvelopeKind::kCheckpoint, "checkpoints/a", "frozen");
  // A checkpoint cannot pose as the root, nor as another checkpoint.
  CHECK(
      crypto::OpenEnvelope(*keys, EnvelopeKind::kRoot, kUuid, "root", ckpt, 1024).status().code() ==
      StatusCode::kCorruption);
  CHECK(crypto::OpenEnvelope(*keys, EnvelopeKind::kCheckpoint, kUuid, "checkpoints/b", ckpt, 1024)
            .status()
            .code() == StatusCode::kCorruption);
  // Nor can it be opened for another volume.
  const auto other = crypto::VolumeUuid::Parse("00000000-0000-4000-8000-000000000000").value();
  CHECK(crypto::OpenEnvelope(*keys, EnvelopeKind::kCheckpoint, other, "checkpoints/a", ckpt, 1024)
            .status()
            .code() == StatusCode::kCorruption);
  // Nor with another volume's keys.
  CHECK(crypto::OpenEnvelope(*testing::FixedKeys(9), EnvelopeKind::kCheckpoint, kUuid,
                             "checkpoints/a", ckpt, 1024)
            .status()
            .code() == StatusCode::kCorruption);
}

TEST_CASE("any damage to an envelope is Corruption naming it") {
  auto keys = testing::FixedKeys();
  const std::string sealed = Seal(*keys, EnvelopeKind::kRoot, "root", testing::TextLike(100));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    Result<std::string> r =
        crypto::OpenEnvelope(*keys, EnvelopeKind::kRoot, kUuid, "root", bad, 1 << 20);
    INFO("byte " << i);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
    CHECK_THAT(r.status().message(), Catch::StartsWith("root"));
  }
  for (std::size_t len = 0; len < sealed.size(); ++len) {
    CHECK(crypto::OpenEnvelope(*keys, EnvelopeKind::kRoot, kUuid, "root", sealed.substr(0, len),
                               1 << 20)
              .status()
              .code() == StatusCode::kCorruption);
  }
  CHECK(crypto::OpenEnvelope(*keys, EnvelopeKind::kRoot, kUuid, "root", sealed + "x", 1 << 20)
            .status()
            .code() == StatusCode::kCorruption);
}

TEST_CASE("an envelope larger than the caller allows is refused") {
  auto keys = testing::FixedKeys();
  const std::string sealed = Seal(*keys, EnvelopeKind::kRoot, "root", std::string(5000, 'x'));
  Result<std::string> r =
      crypto::OpenEnvelope(*keys, EnvelopeKind::kRoot, kUuid, "root", sealed, 4999);
  CHECK(r.status().code() == StatusCode::kCorruption);
}

TEST_CASE("envelope names are checked") {
  using crypto::ValidateEnvelopeName;
  CHECK(ValidateEnvelopeName(EnvelopeKind::kRoot, "root").ok());
  CHECK(ValidateEnvelopeName(EnvelopeKind::kIndexFile, "index/MANIFEST-000001").ok());
  CHECK(ValidateEnvelopeName(EnvelopeKind::kCheckpoint, "checkpoints/nightly_2024-01.v2").ok());
  for (const char* bad : {"", "roots", "index/", "index/a/b", "index/..", "index/.",
                          "checkpoints/a b", "root/x", "checkpoints/\xc3\xa9"}) {
    INFO(bad);
    CHECK_FALSE(ValidateEnvelopeName(EnvelopeKind::kIndexFile, bad).ok());
    CHECK_FALSE(ValidateEnvelopeName(EnvelopeKind::kCheckpoint, bad).ok());
  }
  CHECK_FALSE(
      ValidateEnvelopeName(EnvelopeKind::kIndexFile, std::string("index/") + std::string(201, 'a'))
          .ok());
  CHECK(crypto::SealEnvelope(*testing::FixedKeys(), EnvelopeKind::kIndexFile, kUuid, "index/a b",
                             "x", crypto::CompressionOptions::None())
            .status()
            .code() == StatusCode::kInvalidArgument);
}
