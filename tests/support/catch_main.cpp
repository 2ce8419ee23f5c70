// The main() of every Catch2 test executable. Catch2 prints the random seed of the run
// (--rng-seed time); seeded tests take theirs from Catch::rngSeed() so a failure can be
// replayed with --rng-seed N.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
