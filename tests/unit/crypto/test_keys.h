// Helpers shared by the crypto and segment unit tests: fixed keys and sample data.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "zerofs/crypto/key_ring.h"

namespace zerofs::testing {

// A KeyRing from the data key 00 01 02 ... 1f (plus `salt` to make distinct rings).
inline std::shared_ptr<const crypto::KeyRing> FixedKeys(std::uint8_t salt = 0) {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i + salt);
  return crypto::KeyRing::FromDataKey(key).value();
}

// Whether two rings hold the same subkeys (derived from the same data key).
inline bool SameKeys(const crypto::KeyRing& a, const crypto::KeyRing& b) {
  for (std::size_t i = 0; i < crypto::kKeyPurposeCount; ++i) {
    const auto p = static_cast<crypto::KeyPurpose>(i);
    if (!std::equal(a.Subkey(p).begin(), a.Subkey(p).end(), b.Subkey(p).begin())) return false;
  }
  return true;
}

// Bytes that compress like prose or source code.
inline std::string TextLike(std::size_t size, std::uint32_t seed = 1) {
  static const char* const kWords[] = {"the ",           "quick ",      "brown ",  "fox ",
                                       "jumps ",         "over ",       "lazy ",   "dog; ",
                                       "zerofs ",        "segment ",    "extent ", "journal\n",
                                       "int main() {\n", "return 0;\n", "}\n"};
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < size) out += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
  out.resize(size);
  return out;
}

// Incompressible bytes.
inline std::string RandomBytes(std::size_t size, std::uint32_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

}  // namespace zerofs::testing
