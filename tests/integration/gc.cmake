# The collector end to end: write, overwrite twice, delete half, compact; a checkpoint taken
# before keeps reading its bytes; deleting it gives the space back (MemoryStore).
# ZEROFS_GC_TEST_MIB sets the data size (default 1024 MiB: about 16 s and 4 GiB of memory).
zerofs_test(integration_gc integration gc_test.cpp)
# The CLI: zerofs gc and zerofs checkpoint on a file:// volume.
add_test(NAME integration_gc_cli
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/gc_cli_test.sh $<TARGET_FILE:zerofs_cli>)
set_tests_properties(integration_gc_cli PROPERTIES LABELS integration TIMEOUT 300)
# zerofs gc killed with SIGKILL at random moments (seeded; the seed is printed): fsck and every
# file's checksum after each kill, then one run to the end reclaims the space.
add_test(NAME integration_gc_kill
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/gc_kill_test.sh $<TARGET_FILE:zerofs_cli>)
set_tests_properties(integration_gc_kill PROPERTIES LABELS integration TIMEOUT 300)
