#!/usr/bin/env bash
# nbd-vm.sh ZEROFS_NBD ZEROFS WORK_DIR: the Linux kernel's nbd client (in the QEMU guest,
# tests/vm) on an export of a file:// volume served by zerofs-nbd: mkfs.ext4, mount, copy a
# source tree, sync, umount, e2fsck -fn; then the server restarts and the guest finds the
# filesystem clean and the tree identical (sha256 of every file). One boot.
zerofs_nbd=$1 zerofs=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../protocols/nbd/e2e-lib.sh"
need qemu-system-x86_64 nbd-client
rm -rf "$work" && mkdir -p "$work"
src="$work/source-tree"
"$here/../posix/source-tree.sh" "$src" "${NBD_TREE_FILES:-1000}" > /dev/null ||
  { echo "FAIL: source-tree.sh"; exit 1; }

init_volume
create_export vm 512M
start_volume_server

# One boot: the guest writes, detaches and signals; the server restarts; the guest verifies.
ZEROFS_VM_WORK="$work" ZEROFS_VM_TIMEOUT="${ZEROFS_VM_TIMEOUT:-500}" "$here/../vm/run-in-guest" \
  -e PORT="$port" -e EXPORT=vm -e SRC="$src" -e POSIX="$here/../posix" \
  "$here/nbd-vm-guest.sh" &
guest=$!
for _ in $(seq 2500); do
  [ -f "$work/written" ] && break
  kill -0 "$guest" 2> /dev/null || break
  sleep 0.2
done
if [ -f "$work/written" ]; then
  stop_server
  start_volume_server
  touch "$work/restarted"
else
  fail "the guest did not finish its write phase"
fi
wait "$guest" && ok "kernel nbd client: ext4 made, tree copied, e2fsck clean, identical after a server restart" ||
  fail "guest part (exit $?)"
stop_server
finish
