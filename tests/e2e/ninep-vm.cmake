# zerofs-9p under the kernel's v9fs client in the QEMU guest (tests/vm): the POSIX suite,
# a source tree copied onto the mount and back, a server restart. Needs vm.cmake's
# zerofs_vm_test (labels e2e;vm).
if(COMMAND zerofs_vm_test)
  # How many files of the kernel source the copy moves: under software emulation v9fs
  # moves 6-12 files/s (each file is a dozen round trips through QEMU's user network),
  # and the copy is made, checked, copied back and checked again, then checked after the
  # restart; 200 files keep the whole test near 5 minutes on two cores.
  set(ZEROFS_NINEP_VM_FILES 200 CACHE STRING "files copied by e2e_ninep_vm")
  zerofs_vm_test(e2e_ninep_vm ${CMAKE_CURRENT_LIST_DIR}/ninep-vm.sh
    $<TARGET_FILE:zerofs_cli> $<TARGET_FILE:zerofs-9p> $<TARGET_FILE:zerofs-posix-suite>
    ${CMAKE_CURRENT_BINARY_DIR}/ninep-vm ${CMAKE_BINARY_DIR}/posix-tree-${ZEROFS_NINEP_VM_FILES}
    ${ZEROFS_NINEP_VM_FILES})
endif()
