# The zerofs command-line tool, driven as a script would drive it.
add_test(NAME e2e_cli_objstore
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-objstore.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-objstore)
set_tests_properties(e2e_cli_objstore PROPERTIES LABELS "e2e;cli" TIMEOUT 120)

add_test(NAME e2e_cli_volume
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-volume.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-volume)
set_tests_properties(e2e_cli_volume PROPERTIES LABELS "e2e;cli" TIMEOUT 120)
