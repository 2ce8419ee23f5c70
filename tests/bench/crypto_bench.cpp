// zerofs_crypto_bench: what compressing and sealing costs per core.
//
// For 32 KiB extents of text-like and of random data, and for each codec setting, measures on
// one thread: compress + seal (SealFrame, as a flush does) and open + decompress (OpenFrame,
// as a cache miss does), in MB/s of plaintext. Sequential write throughput of a volume is
// bounded by the lower of upload bandwidth and this (DESIGN §9).
//
//   zerofs_crypto_bench [--seconds S]     S per measurement, default 1
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "zerofs/crypto/frame.h"

using namespace zerofs;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kExtentBytes = 32 * 1024;
constexpr std::size_t kExtents = 256;  // 8 MiB of distinct input, more than most L2 caches

// Prose-like bytes: words from a skewed vocabulary of 4000, with punctuation and line
// breaks, so compressors see realistic repetition (about 2-3x), not a tiny dictionary.
std::string TextLike(std::size_t size, std::mt19937_64& rng) {
  static const std::vector<std::string> vocabulary = [] {
    std::mt19937_64 g(7);
    std::vector<std::string> words;
    for (int i = 0; i < 4000; ++i) {
      std::string w;
      const std::size_t len = 2 + g() % 9;
      for (std::size_t j = 0; j < len; ++j) w.push_back(static_cast<char>('a' + g() % 26));
      words.push_back(w);
    }
    return words;
  }();
  std::string out;
  while (out.size() < size) {
    // A log-uniform index approximates Zipf: common words are very common.
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const auto index = static_cast<std::size_t>(std::exp(u * std::log(4000.0))) - 1;
    out += vocabulary[index % vocabulary.size()];
    const auto r = rng() % 20;
    out += r == 0 ? ".\n" : r == 1 ? ", " : " ";
  }
  out.resize(size);
  return out;
}

std::string Random(std::size_t size, std::mt19937_64& rng) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<std::size_t>(8, size - i));
  }
  return out;
}

struct Measurement {
  double seal_mbps = 0;
  double open_mbps = 0;
  double ratio = 0;  // plaintext bytes / sealed bytes
};

Measurement Measure(const crypto::KeyRing& keys, const std::vector<std::string>& extents,
                    const crypto::CompressionOptions& options, double seconds) {
  const crypto::KeyView key = keys.Subkey(crypto::KeyPurpose::kSegmentFrame);
  const std::string aad(format::kSegmentFrameAadBytes, 'a');
  std::vector<std::string> frames(extents.size());
  std::size_t sealed_bytes = 0;
  for (std::size_t i = 0; i < extents.size(); ++i) {
    crypto::SealFrame(key, aad, extents[i], options, crypto::SystemRandom(), &frames[i]);
    sealed_bytes += frames[i].size();
  }
  Measurement m;
  m.ratio = static_cast<double>(extents.size() * kExtentBytes) / static_cast<double>(sealed_bytes);

  std::string out;
  std::size_t bytes = 0;
  auto start = Clock::now();
  std::chrono::duration<double> elapsed{};
  for (std::size_t i = 0; elapsed.count() < seconds; ++i) {
    out.clear();
    crypto::SealFrame(key, aad, extents[i % extents.size()], options, crypto::SystemRandom(), &out);
    bytes += kExtentBytes;
    if (i % 16 == 15) elapsed = Clock::now() - start;
  }
  m.seal_mbps = static_cast<double>(bytes) / 1e6 / elapsed.count();

  bytes = 0;
  start = Clock::now();
  elapsed = {};
  for (std::size_t i = 0; elapsed.count() < seconds; ++i) {
    Result<std::string> data =
        crypto::OpenFrame(key, aad, frames[i % frames.size()], kExtentBytes, "bench");
    if (!data.ok() || data->size() != kExtentBytes) {
      std::fprintf(stderr, "open failed: %s\n", data.status().ToString().c_str());
      std::exit(1);
    }
    bytes += kExtentBytes;
    if (i % 16 == 15) elapsed = Clock::now() - start;
  }
  m.open_mbps = static_cast<double>(bytes) / 1e6 / elapsed.count();
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  std::array<std::uint8_t, 32> data_key{};
  for (std::size_t i = 0; i < data_key.size(); ++i) data_key[i] = static_cast<std::uint8_t>(i);
  auto keys = crypto::KeyRing::FromDataKey(data_key);
  if (!keys.ok()) return 1;

  std::mt19937_64 rng(1);
  std::vector<std::string> text, noise;
  for (std::size_t i = 0; i < kExtents; ++i) {
    text.push_back(TextLike(kExtentBytes, rng));
    noise.push_back(Random(kExtentBytes, rng));
  }
  std::printf("32 KiB extents, one thread, XChaCha20-Poly1305, MB/s of plaintext\n");
  std::printf("%-8s %-6s %6s %16s %18s\n", "codec", "data", "ratio", "compress+seal",
              "open+decompress");
  for (const crypto::CompressionOptions& options :
       {crypto::CompressionOptions::None(), crypto::CompressionOptions::Lz4(),
        crypto::CompressionOptions::Zstd(1), crypto::CompressionOptions::Zstd(3)}) {
    for (const auto& [name, extents] :
         {std::pair<const char*, const std::vector<std::string>&>("text", text),
          {"random", noise}}) {
      const Measurement m = Measure(**keys, extents, options, seconds);
      std::printf("%-8s %-6s %6.2f %16.0f %18.0f\n", crypto::CompressionName(options).c_str(), name,
                  m.ratio, m.seal_mbps, m.open_mbps);
      std::fflush(stdout);
    }
  }
  return 0;
}
