# zerofs-nbd serving a volume to the Linux kernel's nbd client in the QEMU guest.
zerofs_vm_test(e2e_vm_nbd ${CMAKE_CURRENT_LIST_DIR}/nbd-vm.sh $<TARGET_FILE:zerofs-nbd>
               $<TARGET_FILE:zerofs_cli> ${CMAKE_CURRENT_BINARY_DIR}/nbd-vm)
