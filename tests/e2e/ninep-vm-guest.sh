#!/usr/bin/env bash
# The guest half of ninep-vm.sh (run by tests/vm/run-in-guest as root). NINEP_PHASE 1: the
# POSIX suite, a tree copied onto the mount and back, locks between two mounts; 2 (after a
# server restart): the tree and the token are still there.
set -euo pipefail
. "$NINEP_REPO/tests/vm/guest-lib.sh"
vm_in_guest
mnt=/run/ninep
posix=$NINEP_REPO/tests/posix
vm_mount_9p "$NINEP_PORT" "$mnt" "" "access=user"
t0=$(date +%s)
step() { echo "guest: $* ($(($(date +%s) - t0))s)"; }
rc=0
case "$NINEP_PHASE" in
  1)
    step "mounted; POSIX suite"
    "$NINEP_SUITE" --profile 9p "$mnt" >"$ZEROFS_VM_WORK/suite.log" 2>&1 || rc=$?
    grep -E "^(FAIL|not-run)|^posix-suite:" "$ZEROFS_VM_WORK/suite.log" || true
    [ "$rc" -eq 0 ] || echo "guest: FAIL: POSIX suite exited $rc"
    step "tree onto the mount"
    "$posix/tree-copy.sh" "$NINEP_TREE" "$mnt/tree" || { rc=1; echo "guest: FAIL: copy in"; }
    step "tree back from the mount"
    # Compared with the mount's tree, itself just compared with the source.
    "$posix/tree-copy.sh" "$mnt/tree" /run/back || { rc=1; echo "guest: FAIL: copy back"; }
    step "locks between two mounts (two connections)"
    mnt2=/run/ninep2
    vm_mount_9p "$NINEP_PORT" "$mnt2" "" "access=user"
    echo lock >"$mnt/lockfile"
    flock -x "$mnt/lockfile" -c "touch /run/held; sleep 10" &
    holder=$!
    for _ in $(seq 100); do [ -e /run/held ] && break; sleep 0.1; done
    if flock -n -x "$mnt2/lockfile" -c true; then
      rc=1; echo "guest: FAIL: a lock held through one mount was granted through the other"
    fi
    flock -n -s "$mnt2/lockfile" -c true && { rc=1; echo "guest: FAIL: shared lock granted"; }
    wait "$holder"
    flock -n -x "$mnt2/lockfile" -c true || { rc=1; echo "guest: FAIL: released lock refused"; }
    vm_umount "$mnt2" || rc=1
    echo "token $NINEP_TREE" >"$mnt/token"
    sync -f "$mnt/token"
    ;;
  2)
    step "mounted again after a server restart"
    "$posix/tree-check.sh" "$NINEP_TREE" "$mnt/tree" || { rc=1; echo "guest: FAIL: tree"; }
    [ "$(cat "$mnt/token")" = "token $NINEP_TREE" ] || { rc=1; echo "guest: FAIL: token"; }
    ;;
esac
step "done"
vm_umount "$mnt" || rc=1
exit "$rc"
