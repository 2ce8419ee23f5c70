# The zerofs command-line tool, driven as a script would drive it.
add_test(NAME e2e_cli_objstore
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-objstore.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-objstore)
set_tests_properties(e2e_cli_objstore PROPERTIES LABELS "e2e;cli" TIMEOUT 120)

add_test(NAME e2e_cli_volume
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-volume.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-volume)
set_tests_properties(e2e_cli_volume PROPERTIES LABELS "e2e;cli" TIMEOUT 120)

# Offline volume commands, fsck and config (tools/zerofs/fs_cmd.cpp, fsck_cmd.cpp,
# config_cmd.cpp); docs/cli.md documents what they check.
add_test(NAME e2e_cli_fs
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-fs.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-fs)
set_tests_properties(e2e_cli_fs PROPERTIES LABELS "e2e;cli" TIMEOUT 180)

add_test(NAME e2e_cli_fsck
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-fsck.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-fsck)
set_tests_properties(e2e_cli_fsck PROPERTIES LABELS "e2e;cli" TIMEOUT 180)

add_test(NAME e2e_cli_config
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-config.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-config ${PROJECT_SOURCE_DIR})
set_tests_properties(e2e_cli_config PROPERTIES LABELS "e2e;cli" TIMEOUT 120)

# The offline commands against a volume that a server holds (the writer lease): writers
# refuse (exit 6), readers work and do not disturb the server.
add_test(NAME e2e_cli_inuse
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-inuse.sh $<TARGET_FILE:zerofs_cli>
          $<TARGET_FILE:zerofs-9p> ${CMAKE_CURRENT_BINARY_DIR}/cli-inuse)
set_tests_properties(e2e_cli_inuse PROPERTIES LABELS "e2e;cli" TIMEOUT 120)

# zerofs run with every protocol, and the commands that go through its control socket.
add_test(NAME e2e_cli_run
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-run.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-run)
set_tests_properties(e2e_cli_run PROPERTIES LABELS "e2e;cli" TIMEOUT 180)

# A checkpoint served read-only (--checkpoint) by zerofs-nfs, zerofs-9p, zerofs-nbd and zerofs
# run: libnfs-utils, diodcat, zerofs-mount (FUSE, as root) and libnbd read its bytes after the
# volume changed, and every write fails with EROFS (NFS3ERR_ROFS; EPERM on NBD).
add_test(NAME e2e_cli_checkpoint_serve
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-checkpoint-serve.sh $<TARGET_FILE:zerofs_cli>
          $<TARGET_FILE:zerofs-nfs> $<TARGET_FILE:zerofs-9p> $<TARGET_FILE:zerofs-nbd>
          $<TARGET_FILE:zerofs-mount> ${CMAKE_CURRENT_BINARY_DIR}/cli-checkpoint-serve)
set_tests_properties(e2e_cli_checkpoint_serve PROPERTIES LABELS "e2e;cli;fuse" TIMEOUT 180)

# The documented exit codes of every command that opens a volume (wrong password, no volume,
# bad config key, missing config, volume in use while zerofs-nfs or zerofs run serves it), and
# --help / an unknown flag on every binary, subcommand and sub-subcommand.
add_test(NAME e2e_cli_errors
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-errors.sh $<TARGET_FILE:zerofs_cli>
          $<TARGET_FILE:zerofs-nfs> $<TARGET_FILE:zerofs-9p> $<TARGET_FILE:zerofs-nbd>
          $<TARGET_FILE:zerofs-mount> ${CMAKE_CURRENT_BINARY_DIR}/cli-errors)
set_tests_properties(e2e_cli_errors PROPERTIES LABELS "e2e;cli" TIMEOUT 180)

# zerofs run and signals: SIGHUP reopens a moved [log] file, SIGINT closes the volume cleanly,
# and a file written over NFS (libnfs-utils) before SIGINT reads back after a restart.
add_test(NAME e2e_cli_signals
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli-signals.sh $<TARGET_FILE:zerofs_cli>
          ${CMAKE_CURRENT_BINARY_DIR}/cli-signals)
set_tests_properties(e2e_cli_signals PROPERTIES LABELS "e2e;cli" TIMEOUT 120)
