#include "zerofs/crypto/random.h"

#include <sodium.h>

#include <array>

#include "zerofs/crypto/secure_bytes.h"

namespace zerofs::crypto {
namespace {

class OsRandom final : public RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    // randombytes_buf needs sodium_init for its fork-safety and entropy checks.
    (void)InitCrypto();
    randombytes_buf(out.data(), out.size());
  }
};

}  // namespace

RandomSource& SystemRandom() {
  static OsRandom random;
  return random;
}

void DeterministicRandom::Fill(std::span<std::uint8_t> out) {
  std::array<std::uint8_t, randombytes_SEEDBYTES> seed{};
  std::uint64_t call = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    call = calls_++;
  }
  for (int i = 0; i < 8; ++i) {
    seed[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seed_ >> (8 * i));
    seed[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(call >> (8 * i));
  }
  randombytes_buf_deterministic(out.data(), out.size(), seed.data());
}

}  // namespace zerofs::crypto
