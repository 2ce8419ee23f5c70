// Fuzzes the frame decoders. The first input byte picks the decoder, the rest is its input:
//   0  DecodeBody (the codec layer, reached after authentication)
//   1  OpenFrame with a fixed key and AAD
//   2  OpenEnvelope of the root
//   3  DecodeExtentLocation
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "zerofs/crypto/codec.h"
#include "zerofs/crypto/envelope.h"
#include "zerofs/crypto/frame.h"
#include "zerofs/segment/extent_location.h"

using namespace zerofs;

namespace {

constexpr std::size_t kMaxData = 64 * 1024;
constexpr std::string_view kAad = "fuzz frame aad";

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  const std::string text = "the quick brown fox jumps over the lazy dog, again and again and again";
  std::string big;
  while (big.size() < 40000) big += text;
  for (const crypto::CompressionOptions& c :
       {crypto::CompressionOptions::None(), crypto::CompressionOptions::Lz4(),
        crypto::CompressionOptions::Zstd(1), crypto::CompressionOptions::Zstd(9)}) {
    for (const std::string& data : {std::string(), text, big}) {
      std::string body(1, '\0');
      crypto::EncodeBody(data, c, &body);
      seeds.push_back(body);
      std::string frame(1, '\1');
      crypto::SealFrame(fuzz::Keys()->Subkey(crypto::KeyPurpose::kSegmentFrame), kAad, data, c,
                        crypto::SystemRandom(), &frame);
      seeds.push_back(frame);
      seeds.push_back("\2" + crypto::SealEnvelope(*fuzz::Keys(), crypto::EnvelopeKind::kRoot,
                                                  fuzz::Uuid(), "root", data, c)
                                 .value());
    }
  }
  seeds.push_back("\3" + segment::EncodeExtentLocation({42, 48, 100, 90, 0}));
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      Result<std::string> r = crypto::DecodeBody(in, kMaxData, "fuzz");
      if (r.ok()) {
        fuzz::Expect(r->size() <= kMaxData, "DecodeBody returned more than its bound");
      }
      break;
    }
    case 1: {
      Result<std::string> r = crypto::OpenFrame(
          fuzz::Keys()->Subkey(crypto::KeyPurpose::kSegmentFrame), kAad, in, kMaxData, "fuzz");
      if (r.ok()) fuzz::Expect(r->size() <= kMaxData, "OpenFrame returned more than its bound");
      break;
    }
    case 2: {
      Result<std::string> r = crypto::OpenEnvelope(*fuzz::Keys(), crypto::EnvelopeKind::kRoot,
                                                   fuzz::Uuid(), "root", in, 1 << 20);
      if (r.ok()) fuzz::Expect(r->size() <= (1 << 20), "OpenEnvelope returned too much");
      break;
    }
    default: {
      Result<segment::ExtentLocation> r = segment::DecodeExtentLocation(in);
      if (r.ok()) {
        fuzz::Expect(segment::EncodeExtentLocation(*r) == in, "location does not round-trip");
      }
      break;
    }
  }
  return 0;
}
