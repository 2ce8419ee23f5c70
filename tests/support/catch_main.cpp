// The main() of every Catch2 test executable. Seeded tests take their seed from
// Catch::rngSeed() (ctest runs them with --rng-seed time); a listener prints it when each
// test case starts, so that any failure can be replayed with --rng-seed N.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <cstdio>

namespace {

class SeedPrinter : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    std::printf("test case \"%s\": --rng-seed %u\n", info.name.c_str(), Catch::rngSeed());
    std::fflush(stdout);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(SeedPrinter)
