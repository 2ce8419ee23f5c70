# README command 1 (scripts/quickstart.sh) with --check: it installs (a no-op here), builds
# (a no-op), creates a volume in a local-directory bucket, starts `zerofs run`, mounts it
# with zerofs-mount, writes and reads a file through the mount, unmounts and stops.
# quickstart-check.sh runs it in a fresh directory and then checks the generated password
# file (mode 0600, directory 0700, no copy of the password elsewhere, it opens the volume).
add_test(NAME e2e_quickstart
  COMMAND ${CMAKE_COMMAND} -E env
    ZEROFS_QUICKSTART_DIR=${CMAKE_BINARY_DIR}/quickstart-test
    BUILD_DIR=${CMAKE_BINARY_DIR}
    ${CMAKE_CURRENT_SOURCE_DIR}/quickstart-check.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(e2e_quickstart PROPERTIES LABELS "e2e;fuse" TIMEOUT 600)

# README command 1 on a machine with only the build packages: the test-only packages'
# headers, pkg-config and CMake files and programs are hidden in a private mount namespace,
# and the quickstart configures a new build directory, builds, serves and mounts there.
add_test(NAME e2e_quickstart_fresh
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/quickstart-fresh.sh ${PROJECT_SOURCE_DIR}
          ${CMAKE_BINARY_DIR}/quickstart-fresh)
set_tests_properties(e2e_quickstart_fresh PROPERTIES LABELS "e2e;fuse" TIMEOUT 1800)
