#include "zerofs/crypto/codec.h"

#include <catch2/catch.hpp>

#include "test_keys.h"

using namespace zerofs;
using crypto::Codec;
using crypto::CompressionOptions;

namespace {

const CompressionOptions kAllOptions[] = {CompressionOptions::None(), CompressionOptions::Lz4(),
                                          CompressionOptions::Zstd(1), CompressionOptions::Zstd(3),
                                          CompressionOptions::Zstd(19)};

std::string Encode(std::string_view data, const CompressionOptions& options) {
  std::string body;
  crypto::EncodeBody(data, options, &body);
  return body;
}

}  // namespace

TEST_CASE("every codec round-trips every size and kind of data") {
  for (const CompressionOptions& options : kAllOptions) {
    for (std::size_t size : {0UL, 1UL, 5UL, 6UL, 100UL, 32768UL, 1UL << 20}) {
      for (int kind = 0; kind < 3; ++kind) {
        const std::string data = kind == 0   ? std::string(size, '\0')
                                 : kind == 1 ? testing::TextLike(size)
                                             : testing::RandomBytes(size);
        INFO(crypto::CompressionName(options) << " size " << size << " kind " << kind);
        const std::string body = Encode(data, options);
        // Never larger than storing as is: compression that does not help is not used.
        CHECK(body.size() <= data.size() + 1);
        Result<std::string> back = crypto::DecodeBody(body, size, "test");
        REQUIRE(back.ok());
        CHECK(*back == data);
      }
    }
  }
}

TEST_CASE("the codec byte records what the writer chose") {
  const std::string text = testing::TextLike(32768);
  CHECK(Encode(text, CompressionOptions::Zstd(3))[0] == static_cast<char>(Codec::kZstd));
  CHECK(Encode(text, CompressionOptions::Lz4())[0] == static_cast<char>(Codec::kLz4));
  CHECK(Encode(text, CompressionOptions::None())[0] == static_cast<char>(Codec::kNone));
  // Incompressible data is stored uncompressed whatever the setting.
  const std::string noise = testing::RandomBytes(32768);
  CHECK(Encode(noise, CompressionOptions::Zstd(3))[0] == static_cast<char>(Codec::kNone));
  CHECK(Encode(noise, CompressionOptions::Lz4())[0] == static_cast<char>(Codec::kNone));
}

TEST_CASE("a reader decodes bodies of any codec regardless of its own setting") {
  const std::string text = testing::TextLike(20000);
  for (const CompressionOptions& writer : kAllOptions) {
    Result<std::string> back = crypto::DecodeBody(Encode(text, writer), 20000, "test");
    REQUIRE(back.ok());
    CHECK(*back == text);
  }
}

TEST_CASE("decoding bounds allocation and rejects lies about lengths") {
  const std::string text = testing::TextLike(32768);
  for (const CompressionOptions& options :
       {CompressionOptions::Lz4(), CompressionOptions::Zstd(3)}) {
    std::string body = Encode(text, options);
    REQUIRE(body[0] != static_cast<char>(Codec::kNone));
    SECTION(crypto::CompressionName(options) + ": claims 4 GiB") {
      body[1] = body[2] = body[3] = body[4] = '\xff';
      Result<std::string> r = crypto::DecodeBody(body, 32768, "segments/x: extent frame 0");
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == StatusCode::kCorruption);
      CHECK_THAT(r.status().message(), Catch::StartsWith("segments/x: extent frame 0"));
    }
    SECTION(crypto::CompressionName(options) + ": claims one byte more than it holds") {
      body[1] = static_cast<char>(body[1] + 1);
      Result<std::string> r = crypto::DecodeBody(body, 40000, "t");
      CHECK(r.status().code() == StatusCode::kCorruption);
    }
    SECTION(crypto::CompressionName(options) + ": claims one byte less than it holds") {
      body[1] = static_cast<char>(body[1] - 1);
      Result<std::string> r = crypto::DecodeBody(body, 40000, "t");
      CHECK(r.status().code() == StatusCode::kCorruption);
    }
    SECTION(crypto::CompressionName(options) + ": more than the caller allows") {
      CHECK(crypto::DecodeBody(body, 32767, "t").status().code() == StatusCode::kCorruption);
    }
    SECTION(crypto::CompressionName(options) + ": truncated payload") {
      body.resize(body.size() / 2);
      CHECK(crypto::DecodeBody(body, 32768, "t").status().code() == StatusCode::kCorruption);
    }
  }
  CHECK(crypto::DecodeBody("", 10, "t").status().code() == StatusCode::kCorruption);
  CHECK(crypto::DecodeBody(std::string("\x07"
                                       "abc",
                                       4),
                           10, "t")
            .status()
            .code() == StatusCode::kCorruption);
  CHECK(crypto::DecodeBody(std::string("\x02\x01", 2), 10, "t").status().code() ==
        StatusCode::kCorruption);
  CHECK(crypto::DecodeBody(std::string(12, '\0'), 10, "t").status().code() ==
        StatusCode::kCorruption);
}

TEST_CASE("compression settings parse and print") {
  CHECK(crypto::ParseCompression("none")->codec == Codec::kNone);
  CHECK(crypto::ParseCompression("lz4")->codec == Codec::kLz4);
  CHECK(crypto::ParseCompression("zstd")->zstd_level == 3);
  CHECK(crypto::ParseCompression("zstd:19")->zstd_level == 19);
  for (const char* bad : {"", "zstd:", "zstd:0", "zstd:20", "zstd:3x", "gzip", "ZSTD"}) {
    INFO(bad);
    CHECK(crypto::ParseCompression(bad).status().code() == StatusCode::kInvalidArgument);
  }
  for (const CompressionOptions& options : kAllOptions) {
    CHECK(crypto::ParseCompression(crypto::CompressionName(options))->codec == options.codec);
  }
}
