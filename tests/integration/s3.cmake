# S3Store against a real Ceph radosgw. A ctest fixture starts a throw-away single-node
# cluster (scripts/radosgw.sh, about 20 s) before the first s3 test and stops it after
# the last; its state and logs live in ${CMAKE_BINARY_DIR}/test-s3. The tests read the
# connection settings from the env file the script writes. When the server cannot start,
# every s3 test is reported as not run, which ctest counts as a failure.
set(ZEROFS_S3_STATE_DIR "${CMAKE_BINARY_DIR}/test-s3")

add_test(NAME s3_server_start
         COMMAND "${PROJECT_SOURCE_DIR}/scripts/radosgw.sh" start "${ZEROFS_S3_STATE_DIR}")
set_tests_properties(s3_server_start PROPERTIES
  FIXTURES_SETUP s3_server LABELS s3 TIMEOUT 300)
add_test(NAME s3_server_stop
         COMMAND "${PROJECT_SOURCE_DIR}/scripts/radosgw.sh" stop "${ZEROFS_S3_STATE_DIR}")
set_tests_properties(s3_server_stop PROPERTIES
  FIXTURES_CLEANUP s3_server LABELS s3 TIMEOUT 120)

zerofs_test(integration_s3 s3
  s3_store_test.cpp
  ${PROJECT_SOURCE_DIR}/tests/support/fault_proxy.cpp)

# zerofs_test registers the test cases by discovery at build time, so their names are
# only known to ctest. Catch's generated script leaves them in integration_s3_TESTS; this
# script, included by ctest right after it, ties each of them to the fixture.
set(_zerofs_s3_props "${CMAKE_CURRENT_BINARY_DIR}/integration_s3_fixture.cmake")
file(WRITE "${_zerofs_s3_props}" "\
foreach(_test IN LISTS integration_s3_TESTS)
  set_tests_properties(\"\${_test}\" PROPERTIES
    FIXTURES_REQUIRED s3_server
    ENVIRONMENT \"ZEROFS_TEST_S3_ENV_FILE=${ZEROFS_S3_STATE_DIR}/s3.env\"
    TIMEOUT 600)
endforeach()
")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_zerofs_s3_props}")
