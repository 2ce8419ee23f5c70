# zerofs_vfs_bench: creates, stats, renames and unlinks per second through vfs::Filesystem
# with 1 and 8 threads, and the memory a volume of many files costs.
#   build/tests/bench/zerofs_vfs_bench [--files N] [--threads 1,8] [--rss-files 1000000]
add_executable(zerofs_vfs_bench ${CMAKE_CURRENT_LIST_DIR}/vfs_bench.cpp)
target_link_libraries(zerofs_vfs_bench PRIVATE zerofs::zerofs zerofs_warnings)
# A short run proves the benchmark itself works; its numbers are not asserted.
add_test(NAME bench_vfs_smoke COMMAND zerofs_vfs_bench --files 400 --threads 1,8 --rss-files 2000)
set_tests_properties(bench_vfs_smoke PROPERTIES LABELS "bench" TIMEOUT 120)
