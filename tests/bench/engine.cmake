add_executable(engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cpp)
target_link_libraries(engine_bench PRIVATE zerofs::zerofs zerofs_warnings CLI11::CLI11)
add_test(NAME bench_engine_smoke
  COMMAND engine_bench --rtt-ms 1 --write-mib 4 --random-seconds 1 --sync-seconds 1
          --files 2000)
set_tests_properties(bench_engine_smoke PROPERTIES LABELS "bench" TIMEOUT 300)
