add_executable(objstore_bench ${CMAKE_CURRENT_LIST_DIR}/objstore_bench.cpp)
target_link_libraries(objstore_bench PRIVATE zerofs::zerofs zerofs_server_common zerofs_warnings
  CLI11::CLI11)
# A short run proves the benchmark itself works; its numbers are not asserted.
add_test(NAME bench_objstore_smoke
  COMMAND objstore_bench --url memory://bench-smoke --sizes 32K --parallel 1,4 --ops 16)
set_tests_properties(bench_objstore_smoke PROPERTIES LABELS "bench" TIMEOUT 120)
