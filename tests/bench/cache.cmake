# zerofs_cache_bench: latency of warm reads (memory and disk cache hits) and cold reads over
# a simulated link, with and without read-ahead.
#   build/tests/bench/zerofs_cache_bench [--seconds S] [--rtt-ms N] [--mbps N]
add_executable(zerofs_cache_bench ${CMAKE_CURRENT_LIST_DIR}/cache_bench.cpp)
target_link_libraries(zerofs_cache_bench PRIVATE zerofs::zerofs zerofs_warnings)
# A short run proves the benchmark itself works; its numbers are not asserted.
add_test(NAME bench_cache_smoke COMMAND zerofs_cache_bench --seconds 0.02 --rtt-ms 1 --mbps 0)
set_tests_properties(bench_cache_smoke PROPERTIES LABELS "bench" TIMEOUT 120)
