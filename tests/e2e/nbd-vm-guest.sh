#!/bin/bash
# The guest half of nbd-vm.sh: the Linux kernel's nbd client on an export of zerofs-nbd.
#   write:  mkfs.ext4, mount, copy the source tree $SRC, sync, umount, e2fsck -fn, detach;
#           then $ZEROFS_VM_WORK/written tells the host to restart the server, which
#           answers with $ZEROFS_VM_WORK/restarted
#   verify: attach again, e2fsck -fn, mount, compare the tree
# Needs: PORT, EXPORT, SRC, POSIX (the tests/posix directory), ZEROFS_VM_WORK.
set -uo pipefail
# shellcheck source=../vm/guest-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/guest-lib.sh"
vm_in_guest || exit 2

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
mnt=/run/nbd-mnt
mkdir -p "$mnt"

attach() {
  dev="$(vm_nbd_attach "$PORT" "$EXPORT" /dev/nbd0 -b 4096)" || { echo "FAIL: nbd attach"; exit 1; }
  pass "nbd-client attached $EXPORT as $dev ($(blockdev --getsize64 "$dev") bytes)"
}

t0=$SECONDS
attach
mkfs.ext4 -q -F "$dev" && pass "mkfs.ext4 on $dev" || fail "mkfs.ext4"
if mount "$dev" "$mnt"; then
  cp -a "$SRC" "$mnt/tree" && pass "copied the source tree" || fail "cp -a"
  sync -f "$mnt" && pass "sync" || fail "sync"
  umount "$mnt" || fail "umount"
else
  fail "mount"
fi
e2fsck -fn "$dev" > /run/fsck.out 2>&1 && pass "e2fsck -fn: clean" ||
  { fail "e2fsck"; tail -20 /run/fsck.out; }
vm_nbd_detach "$dev" || fail "nbd-client -d"
echo "guest write: $((SECONDS - t0))s"

# The host restarts the server.
touch "$ZEROFS_VM_WORK/written"
for _ in $(seq 600); do [ -f "$ZEROFS_VM_WORK/restarted" ] && break; sleep 0.2; done
[ -f "$ZEROFS_VM_WORK/restarted" ] || { echo "FAIL: the host did not restart the server"; exit 1; }

t0=$SECONDS
attach
e2fsck -fn "$dev" > /run/fsck.out 2>&1 && pass "e2fsck -fn after the restart: clean" ||
  { fail "e2fsck after the restart"; tail -20 /run/fsck.out; }
if mount -o ro "$dev" "$mnt"; then
  "$POSIX/tree-check.sh" "$SRC" "$mnt/tree" && pass "tree identical after the restart" ||
    fail "tree differs after the restart"
  umount "$mnt" || fail "umount"
else
  fail "mount after the restart"
fi
vm_nbd_detach "$dev" || fail "nbd-client -d"
echo "guest verify: $((SECONDS - t0))s"
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
