#include "zerofs/crypto/frame.h"

#include <catch2/catch.hpp>

#include "test_keys.h"

using namespace zerofs;
using crypto::CompressionOptions;

namespace {

crypto::KeyView SegmentKey(const crypto::KeyRing& keys) {
  return keys.Subkey(crypto::KeyPurpose::kSegmentFrame);
}

std::string Seal(const crypto::KeyRing& keys, std::string_view aad, std::string_view data,
                 const CompressionOptions& options = CompressionOptions::Zstd(3)) {
  std::string out;
  const std::size_t n =
      crypto::SealFrame(SegmentKey(keys), aad, data, options, crypto::SystemRandom(), &out);
  REQUIRE(n == out.size());
  return out;
}

}  // namespace

TEST_CASE("frames round-trip for every codec and size") {
  auto keys = testing::FixedKeys();
  for (const CompressionOptions& options :
       {CompressionOptions::None(), CompressionOptions::Lz4(), CompressionOptions::Zstd(1),
        CompressionOptions::Zstd(3)}) {
    for (std::size_t size : {0UL, 1UL, 4096UL, 32768UL}) {
      for (const std::string& data :
           {testing::TextLike(size), testing::RandomBytes(size), std::string(size, 'a')}) {
        INFO(crypto::CompressionName(options) << " size " << size);
        const std::string frame = Seal(*keys, "aad", data, options);
        CHECK(frame.size() >= format::kMinFrameBytes);
        CHECK(frame.size() <= data.size() + format::kMaxFrameExpansionBytes);
        Result<std::string> back = crypto::OpenFrame(SegmentKey(*keys), "aad", frame, size, "f");
        REQUIRE(back.ok());
        CHECK(*back == data);
      }
    }
  }
}

TEST_CASE("every frame gets a fresh nonce") {
  auto keys = testing::FixedKeys();
  const std::string a = Seal(*keys, "aad", "same data");
  const std::string b = Seal(*keys, "aad", "same data");
  CHECK(a.substr(0, format::kNonceBytes) != b.substr(0, format::kNonceBytes));
  CHECK(a != b);
}

TEST_CASE("flipping any bit of a frame is detected") {
  auto keys = testing::FixedKeys();
  const std::string data = testing::TextLike(300);
  const std::string frame = Seal(*keys, "aad", data);
  for (std::size_t i = 0; i < frame.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string bad = frame;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      Result<std::string> r =
          crypto::OpenFrame(SegmentKey(*keys), "aad", bad, data.size(), "segments/x: frame 1");
      INFO("byte " << i << " bit " << bit);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == StatusCode::kCorruption);
      CHECK_THAT(r.status().message(), Catch::StartsWith("segments/x: frame 1"));
    }
  }
}

TEST_CASE("truncated or extended frames are rejected") {
  auto keys = testing::FixedKeys();
  const std::string frame = Seal(*keys, "aad", testing::TextLike(200));
  for (std::size_t len = 0; len < frame.size(); ++len) {
    INFO("length " << len);
    CHECK(crypto::OpenFrame(SegmentKey(*keys), "aad", frame.substr(0, len), 200, "f")
              .status()
              .code() == StatusCode::kCorruption);
  }
  CHECK(crypto::OpenFrame(SegmentKey(*keys), "aad", frame + "x", 200, "f").status().code() ==
        StatusCode::kCorruption);
}

TEST_CASE("a frame opens only with its own AAD and key") {
  auto keys = testing::FixedKeys();
  const std::string frame = Seal(*keys, "segment 1 frame 0", "payload");
  CHECK(crypto::OpenFrame(SegmentKey(*keys), "segment 1 frame 0", frame, 100, "f").ok());
  CHECK(
      crypto::OpenFrame(SegmentKey(*keys), "segment 1 frame 1", frame, 100, "f").status().code() ==
      StatusCode::kCorruption);
  CHECK(crypto::OpenFrame(SegmentKey(*keys), "", frame, 100, "f").status().code() ==
        StatusCode::kCorruption);
  // Another purpose's subkey of the same volume, and another volume's key.
  CHECK(crypto::OpenFrame(keys->Subkey(crypto::KeyPurpose::kRoot), "segment 1 frame 0", frame, 100,
                          "f")
            .status()
            .code() == StatusCode::kCorruption);
  auto other = testing::FixedKeys(1);
  CHECK(
      crypto::OpenFrame(SegmentKey(*other), "segment 1 frame 0", frame, 100, "f").status().code() ==
      StatusCode::kCorruption);
}

TEST_CASE("a frame larger than its kind allows is rejected before decryption") {
  auto keys = testing::FixedKeys();
  const std::string data = testing::RandomBytes(1000);
  const std::string frame = Seal(*keys, "aad", data);
  Result<std::string> r = crypto::OpenFrame(SegmentKey(*keys), "aad", frame, 999, "f");
  CHECK(r.status().code() == StatusCode::kCorruption);
  CHECK_THAT(r.status().message(), Catch::Contains("longer than its kind allows"));
}

TEST_CASE("subkeys differ per purpose and are deterministic per data key") {
  auto a = testing::FixedKeys();
  auto b = testing::FixedKeys();
  for (std::size_t i = 0; i < crypto::kKeyPurposeCount; ++i) {
    const auto p = static_cast<crypto::KeyPurpose>(i);
    CHECK(std::equal(a->Subkey(p).begin(), a->Subkey(p).end(), b->Subkey(p).begin()));
    for (std::size_t j = i + 1; j < crypto::kKeyPurposeCount; ++j) {
      const auto q = static_cast<crypto::KeyPurpose>(j);
      CHECK_FALSE(std::equal(a->Subkey(p).begin(), a->Subkey(p).end(), a->Subkey(q).begin()));
    }
  }
  CHECK(crypto::KeyRing::FromDataKey(std::span<const std::uint8_t>()).status().code() ==
        StatusCode::kInvalidArgument);
}
