# Tests that boot the QEMU guest (tests/vm) to drive the Linux kernel's own NFSv3, 9P and
# NBD clients. All of them share the initramfs cache in ${CMAKE_BINARY_DIR}/vm.

# zerofs_vm_test(NAME COMMAND [ARGS...]) registers a guest-driving test with the labels
# e2e and vm. Software emulation is slow and uses both cores, hence the timeout and
# PROCESSORS 2.
function(zerofs_vm_test name)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES
    LABELS "e2e;vm"
    TIMEOUT 600
    PROCESSORS 2
    ENVIRONMENT "ZEROFS_VM_DIR=${CMAKE_BINARY_DIR}/vm")
endfunction()

# The harness itself, against reference servers from Debian (nfs-ganesha, diod, nbdkit).
zerofs_vm_test(e2e_vm_smoke ${CMAKE_CURRENT_LIST_DIR}/../vm/smoke-test ${CMAKE_BINARY_DIR}/vm)
