# The POSIX test tools (tests/posix) on the host's own filesystem (ext4 under the build
# tree): proves the suite expects what ext4 does, and that fsx and tree-check notice a
# corrupted file. The protocol tests run the same tools on their mounts.
set(zerofs_posix_dir ${PROJECT_SOURCE_DIR}/tests/posix)
set(zerofs_posix_work ${CMAKE_CURRENT_BINARY_DIR}/posix)

# As root it covers the checks that need root and those of an unprivileged --user, then
# runs the suite again directly as uid 65534 (root-only checks must show as not run). Run
# by another user, the root-only checks are reported as not run (only failures fail).
add_test(NAME posix_suite_ext4
  COMMAND ${zerofs_posix_dir}/run-local.sh suite
          $<TARGET_FILE:zerofs-posix-suite> ${zerofs_posix_work}/suite)
set_tests_properties(posix_suite_ext4 PROPERTIES LABELS "posix" TIMEOUT 300)

# 20000 random operations, then a run that corrupts the file behind fsx's back and must fail.
add_test(NAME posix_fsx_local
  COMMAND ${zerofs_posix_dir}/run-local.sh fsx $<TARGET_FILE:zerofs-fsx>
          ${zerofs_posix_work}/fsx)
set_tests_properties(posix_fsx_local PROPERTIES LABELS "posix" TIMEOUT 300)

# source-tree.sh (2000 files, cached in the build tree), tree-copy.sh, tree-check.sh, and
# tree-check.sh failing on a flipped byte, a missing file and a changed symlink.
add_test(NAME posix_tree_tools
  COMMAND ${zerofs_posix_dir}/tree-tools-test.sh ${CMAKE_BINARY_DIR}/posix-source-tree-2000
          ${zerofs_posix_work}/tree)
set_tests_properties(posix_tree_tools PROPERTIES LABELS "posix" TIMEOUT 300)

# stress.sh for 10 s (about 20 s in all, both cores).
add_test(NAME posix_stress_local
  COMMAND ${zerofs_posix_dir}/run-local.sh stress ${zerofs_posix_dir}/stress.sh
          ${zerofs_posix_work}/stress)
set_tests_properties(posix_stress_local PROPERTIES LABELS "posix" TIMEOUT 300 PROCESSORS 2)
