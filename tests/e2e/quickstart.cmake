# README command 1 (scripts/quickstart.sh) with --check: it installs (a no-op here), builds
# (a no-op), creates a volume in a local-directory bucket, starts `zerofs run`, mounts it
# with zerofs-mount, writes and reads a file through the mount, unmounts and stops.
add_test(NAME e2e_quickstart
  COMMAND ${CMAKE_COMMAND} -E env
    ZEROFS_QUICKSTART_DIR=${CMAKE_BINARY_DIR}/quickstart-test
    BUILD_DIR=${CMAKE_BINARY_DIR}
    ${PROJECT_SOURCE_DIR}/scripts/quickstart.sh --check)
set_tests_properties(e2e_quickstart PROPERTIES LABELS "e2e;fuse" TIMEOUT 600)
