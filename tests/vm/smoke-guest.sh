#!/bin/bash
# The guest half of tests/vm/smoke-test: through the kernel's own clients, writes a file
# to each reference server, reads it back after a fresh mount (or reconnect), and reads a
# file the host put there. The host checks what arrived.
# Needs: SMOKE_TOKEN, SMOKE_NFS_PORT, SMOKE_MNT_PORT, SMOKE_NFS_EXPORT, SMOKE_9P_PORT,
# SMOKE_9P_ANAME, SMOKE_NBD_PORT.
set -uo pipefail
# shellcheck source=guest-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest-lib.sh"
vm_in_guest || exit 2

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
# expect FILE CONTENT WHAT
expect() {
  local got
  got="$(cat "$1" 2>&1)"
  if [ "$got" = "$2" ]; then pass "$3"; else fail "$3: expected '$2', got '$got'"; fi
}

t0=$SECONDS
# --- NFSv3 (nfs-ganesha) ---
mnt=/tmp/nfs
if vm_mount_nfs "$SMOKE_NFS_PORT" "$SMOKE_MNT_PORT" "$mnt" "$SMOKE_NFS_EXPORT"; then
  expect "$mnt/from-host.txt" "host $SMOKE_TOKEN" "NFS read of a host file"
  echo "nfs $SMOKE_TOKEN" >"$mnt/from-guest.txt" || fail "NFS write"
  vm_umount "$mnt" || fail "NFS umount"
  if vm_mount_nfs "$SMOKE_NFS_PORT" "$SMOKE_MNT_PORT" "$mnt" "$SMOKE_NFS_EXPORT"; then
    expect "$mnt/from-guest.txt" "nfs $SMOKE_TOKEN" "NFS read back after remount"
    vm_umount "$mnt" || fail "NFS umount"
  else
    fail "NFS remount"
  fi
else
  fail "NFS mount"
fi
echo "NFS part: $((SECONDS - t0))s"

# --- 9P2000.L (diod) ---
t0=$SECONDS
mnt=/tmp/9p
if vm_mount_9p "$SMOKE_9P_PORT" "$mnt" "$SMOKE_9P_ANAME"; then
  expect "$mnt/from-host.txt" "host $SMOKE_TOKEN" "9P read of a host file"
  echo "9p $SMOKE_TOKEN" >"$mnt/from-guest.txt" || fail "9P write"
  vm_umount "$mnt" || fail "9P umount"
  if vm_mount_9p "$SMOKE_9P_PORT" "$mnt" "$SMOKE_9P_ANAME"; then
    expect "$mnt/from-guest.txt" "9p $SMOKE_TOKEN" "9P read back after remount"
    vm_umount "$mnt" || fail "9P umount"
  else
    fail "9P remount"
  fi
else
  fail "9P mount"
fi
echo "9P part: $((SECONDS - t0))s"

# --- NBD (nbdkit memory): ext4 on /dev/nbd0 ---
t0=$SECONDS
mnt=/tmp/nbd
mkdir -p "$mnt"
if dev="$(vm_nbd_attach "$SMOKE_NBD_PORT" smoke)"; then
  if mkfs.ext4 -q -F "$dev" && mount -t ext4 "$dev" "$mnt"; then
    echo "nbd $SMOKE_TOKEN" >"$mnt/from-guest.txt" || fail "NBD write"
    vm_umount "$mnt" || fail "NBD umount"
  else
    fail "mkfs.ext4 and mount on $dev"
  fi
  vm_nbd_detach "$dev" || fail "NBD disconnect"
  # A new connection: what is read now came from the server, not the page cache.
  if dev="$(vm_nbd_attach "$SMOKE_NBD_PORT" smoke)"; then
    if mount -t ext4 -o ro "$dev" "$mnt"; then
      expect "$mnt/from-guest.txt" "nbd $SMOKE_TOKEN" "NBD read back after reconnect"
      vm_umount "$mnt" || fail "NBD umount"
      if e2fsck -fn "$dev" >/dev/null 2>&1; then pass "e2fsck clean"; else fail "e2fsck found errors"; fi
    else
      fail "mount after reconnect"
    fi
    vm_nbd_detach "$dev" || fail "NBD disconnect"
  else
    fail "NBD reconnect"
  fi
else
  fail "NBD attach"
fi
echo "NBD part: $((SECONDS - t0))s"

if [ "$failures" -ne 0 ]; then
  echo "guest: $failures failure(s)"
  exit 1
fi
echo "guest: all checks passed"
