# zerofs-mount (the FUSE client) on zerofs-9p: the kernel's FUSE through /dev/fuse on the
# host, as root. The POSIX suite, fsx, stress-ng, a source-tree copy (and back) and a
# server restart on a file:// volume, and the same on radosgw; a server
# killed with SIGKILL under a running copy; the mount options, signals, a Unix socket and a
# mount by an unprivileged user through fusermount3.
set(zerofs_mount_args
  $<TARGET_FILE:zerofs_cli> $<TARGET_FILE:zerofs-9p> $<TARGET_FILE:zerofs-mount>
  $<TARGET_FILE:zerofs-posix-suite> $<TARGET_FILE:zerofs-fsx>)
set(ZEROFS_MOUNT_FILES 20000 CACHE STRING "source-tree files copied by e2e_mount_volume")

add_test(NAME e2e_mount_volume
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/mount-volume.sh ${zerofs_mount_args}
          ${CMAKE_BINARY_DIR}/posix-tree-${ZEROFS_MOUNT_FILES}
          ${CMAKE_CURRENT_BINARY_DIR}/mount-volume ${ZEROFS_MOUNT_FILES})
set_tests_properties(e2e_mount_volume PROPERTIES LABELS "e2e;fuse" TIMEOUT 600 PROCESSORS 2)

add_test(NAME e2e_mount_crash
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/mount-crash.sh ${zerofs_mount_args}
          ${CMAKE_BINARY_DIR}/posix-tree-2000 ${CMAKE_CURRENT_BINARY_DIR}/mount-crash)
set_tests_properties(e2e_mount_crash PROPERTIES LABELS "e2e;fuse" TIMEOUT 300 PROCESSORS 2)

# -o ro, writeback on and off, attr/entry timeouts, aname, SIGTERM/SIGINT/SIGHUP, umount,
# the background mode, a Unix socket, bad addresses and options, and uid 65534 mounting
# and unmounting with fusermount3 (about 10 s).
add_test(NAME e2e_mount_options
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/mount-options.sh ${zerofs_mount_args}
          ${CMAKE_CURRENT_BINARY_DIR}/mount-options)
set_tests_properties(e2e_mount_options PROPERTIES LABELS "e2e;fuse" TIMEOUT 300 PROCESSORS 2)

# On radosgw (the s3_server fixture of tests/integration/s3.cmake, whose state lives in
# ${CMAKE_BINARY_DIR}/test-s3): everything e2e_mount_volume does, on an s3:// volume.
add_test(NAME e2e_mount_s3
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/mount-s3.sh ${zerofs_mount_args}
          ${CMAKE_BINARY_DIR}/posix-tree-${ZEROFS_MOUNT_FILES} ${CMAKE_CURRENT_BINARY_DIR}/mount-s3
          ${ZEROFS_MOUNT_FILES})
set_tests_properties(e2e_mount_s3 PROPERTIES LABELS "e2e;fuse;s3" TIMEOUT 600
  PROCESSORS 2 FIXTURES_REQUIRED s3_server
  ENVIRONMENT "ZEROFS_TEST_S3_ENV_FILE=${CMAKE_BINARY_DIR}/test-s3/s3.env")

# The client library against the in-process 9P server (over a MemoryStore volume): request matching,
# the fid cache bound, reconnects and the EIO of unsynced writes. No FUSE needed.
zerofs_test(unit_mount unit ${PROJECT_SOURCE_DIR}/tools/zerofs-mount/tests/client_test.cpp)
target_link_libraries(unit_mount PRIVATE zerofs_mount_client zerofs_ninep)

# zerofs-mount's DT_NEEDED entries and ldd name libfuse3 and none of libzerofs, RocksDB,
# libcurl, libsodium, zstd or lz4 (it links the 9P codec, not libzerofs); the same check
# must reject zerofs-9p. Under a second.
add_test(NAME unit_mount_links
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/mount-links.sh $<TARGET_FILE:zerofs-mount>
          $<TARGET_FILE:zerofs-9p>)
set_tests_properties(unit_mount_links PROPERTIES LABELS "unit" TIMEOUT 60)
