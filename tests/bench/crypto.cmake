# zerofs_crypto_bench: MB/s per core of compress+seal and open+decompress of 32 KiB extents.
#   build/tests/bench/zerofs_crypto_bench [--seconds S]
add_executable(zerofs_crypto_bench ${CMAKE_CURRENT_LIST_DIR}/crypto_bench.cpp)
target_link_libraries(zerofs_crypto_bench PRIVATE zerofs::zerofs zerofs_warnings)
# A short run proves the benchmark itself works; its numbers are not asserted.
add_test(NAME bench_crypto_smoke COMMAND zerofs_crypto_bench --seconds 0.02)
set_tests_properties(bench_crypto_smoke PROPERTIES LABELS "bench" TIMEOUT 120)
