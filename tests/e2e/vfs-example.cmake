# Installs libzerofs into a staging prefix, builds examples/embed-vfs against it with
# find_package(zerofs) and runs it twice on a file:// bucket: the second run must find what
# the first wrote (through the bucket, since each run starts with an empty local cache), and
# a wrong password must be refused.
add_test(NAME e2e_vfs_example
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/vfs-example.sh
          ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR}/examples/embed-vfs
          ${CMAKE_CURRENT_BINARY_DIR}/vfs-example)
set_tests_properties(e2e_vfs_example PROPERTIES LABELS "e2e;example" TIMEOUT 300)
