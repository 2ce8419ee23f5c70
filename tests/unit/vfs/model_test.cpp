// Model-based randomized test: random operations by several users against the Filesystem
// and against PosixModel; every result (errno, attributes, data, listings) is compared, and
// the whole state every few hundred operations and at the end. Seeded by Catch's
// --rng-seed (printed when each test starts; replay with `unit_vfs --rng-seed N "<test
// name>"`).
#include <cstdio>
#include <cstdlib>

#include "model_harness.h"

using namespace zerofs;
using namespace zerofs::testing;

TEST_CASE("model: random operations by several users match a POSIX model") {
  const std::uint64_t seed = Catch::rngSeed();
  std::printf("model test: seed %llu (replay: unit_vfs --rng-seed %llu \"model: random*\")\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  CAPTURE(seed);
  Harness h(seed);
  h.Run(60000, 0);
  CHECK(h.ops_run() == 60000);
  if (std::getenv("ZEROFS_MODEL_STATS") != nullptr) {
    for (const auto& [op, counts] : h.outcomes_) {
      std::printf("%-12s", op.c_str());
      for (const auto& [err, n] : counts) {
        std::printf(" %s %d", std::string(vfs::ErrnoName(err)).c_str(), n);
      }
      std::printf("\n");
    }
  }
}

TEST_CASE("model: the state round-trips through the bucket across reopens") {
  const std::uint64_t seed = Catch::rngSeed() + 1;
  std::printf("model reopen test: seed %llu (replay: unit_vfs --rng-seed %llu \"model: the*\")\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed - 1));
  CAPTURE(seed);
  Harness h(seed);
  h.Run(60000, 10000);
  CHECK(h.ops_run() == 60000);
}
