# Installs libzerofs into a staging prefix and builds examples/ against it with
# find_package(zerofs), then runs the example: proves the package config works for
# outside projects.
add_test(NAME e2e_find_package_example
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/find-package-example.sh
          ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR}/examples/embed-objstore
          ${CMAKE_CURRENT_BINARY_DIR}/find-package-example)
set_tests_properties(e2e_find_package_example PROPERTIES LABELS "e2e;example" TIMEOUT 300)
