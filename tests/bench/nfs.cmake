# nfs_load: small files per second, sequential write and read MB/s of an NFSv3 server through
# libnfs (Debian's libnfs-dev), one connection and thread each; scripts/bench-nfs.sh runs it
# against zerofs-nfs in both commit modes.
#   build/tests/bench/nfs_load --port P --connections 16 --files 4000 --mib 256
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBNFS REQUIRED IMPORTED_TARGET libnfs)
add_executable(nfs_load ${CMAKE_CURRENT_LIST_DIR}/nfs_load.cpp)
target_link_libraries(nfs_load PRIVATE PkgConfig::LIBNFS Threads::Threads CLI11::CLI11
                      zerofs_warnings)
# A short run against zerofs-nfs on a file:// volume proves the benchmark works and that its
# read-back check fails on changed data; its numbers are not asserted.
add_test(NAME bench_nfs_load_smoke
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/nfs-load-smoke.sh $<TARGET_FILE:zerofs-nfs>
          $<TARGET_FILE:zerofs_cli> $<TARGET_FILE:nfs_load>
          ${CMAKE_CURRENT_BINARY_DIR}/nfs-load-smoke)
set_tests_properties(bench_nfs_load_smoke PROPERTIES LABELS "bench" TIMEOUT 120)
