// RandomSource: where nonces, salts, data keys and volume UUIDs come from.
//
// Randomness is injected, like the object store and the clock, so that a test can make a
// volume's bytes reproducible (the worked example of docs/format.md is generated this way)
// while production code uses the operating system's generator. Anything that draws
// randomness takes a RandomSource* that may be null, meaning SystemRandom().
//
// Thread-safety: SystemRandom() may be used from any thread. DeterministicRandom is
// internally locked, so it is safe too, but its sequence then depends on thread timing.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>

namespace zerofs::crypto {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void Fill(std::span<std::uint8_t> out) = 0;
};

// The operating system's cryptographic generator (libsodium's randombytes_buf).
RandomSource& SystemRandom();

// `source` if non-null, else SystemRandom().
inline RandomSource& OrSystem(RandomSource* source) {
  return source != nullptr ? *source : SystemRandom();
}

// A reproducible stream (ChaCha20 keyed by the seed and a call counter). For tests and
// documentation examples only: its output is predictable by design.
class DeterministicRandom final : public RandomSource {
 public:
  explicit DeterministicRandom(std::uint64_t seed) : seed_(seed) {}
  void Fill(std::span<std::uint8_t> out) override;

 private:
  std::mutex mu_;
  const std::uint64_t seed_;
  std::uint64_t calls_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace zerofs::crypto
