# zerofs-nfs under the Linux kernel's NFSv3 client in the QEMU guest (tests/vm): the POSIX
# suite, a source tree copied onto the mount and back, stress-ng. Needs vm.cmake's
# zerofs_vm_test (labels e2e;vm).
if(COMMAND zerofs_vm_test)
  # Files of the kernel source the copy moves: sized so that the whole test stays within
  # about six minutes under software emulation on two busy cores.
  set(ZEROFS_NFS_VM_FILES 400 CACHE STRING "files copied by e2e_nfs_vm")
  set(ZEROFS_NFS_VM_STRESS_SECONDS 10 CACHE STRING "stress.sh seconds in e2e_nfs_vm")
  zerofs_vm_test(e2e_nfs_vm ${CMAKE_CURRENT_LIST_DIR}/nfs-vm.sh
    $<TARGET_FILE:zerofs_cli> $<TARGET_FILE:zerofs-nfs> $<TARGET_FILE:zerofs-posix-suite>
    ${CMAKE_CURRENT_BINARY_DIR}/nfs-vm ${CMAKE_BINARY_DIR}/posix-tree-${ZEROFS_NFS_VM_FILES}
    ${ZEROFS_NFS_VM_FILES} ${ZEROFS_NFS_VM_STRESS_SECONDS})
endif()
