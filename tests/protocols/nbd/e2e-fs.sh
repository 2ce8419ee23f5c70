#!/usr/bin/env bash
# e2e-fs.sh ZEROFS_NBD WORK_DIR: real filesystems on zerofs-nbd exports. nbdfuse (libnbd)
# exposes an export as a file; mkfs.ext4, debugfs and e2fsck, then mkfs.btrfs and btrfs check
# work on it. No kernel mount is involved, so a failing server cannot wedge the machine.
zerofs_nbd=$1 work=$2
source "$(dirname "$0")/e2e-lib.sh"
need nbdfuse fusermount3 mkfs.ext4 debugfs e2fsck mkfs.btrfs btrfs cmp timeout
rm -rf "$work" && mkdir -p "$work/mnt"
fuse_pid=""

unmount() {
  if mountpoint -q "$work/mnt" 2>/dev/null || [ -n "$fuse_pid" ]; then
    fusermount3 -u "$work/mnt" 2>/dev/null
    [ -n "$fuse_pid" ] && { timeout 10 tail --pid="$fuse_pid" -f /dev/null; wait "$fuse_pid"; }
    fuse_pid=""
  fi
}
trap 'unmount; cleanup' EXIT

attach() {  # attach EXPORT: $work/mnt/nbd becomes the export
  nbdfuse "$work/mnt" "nbd://127.0.0.1:$port/$1" &
  fuse_pid=$!
  for _ in $(seq 100); do [ -f "$work/mnt/nbd" ] && return 0; sleep 0.1; done
  fail "nbdfuse did not attach $1"
  exit 1
}

start_server --listen 127.0.0.1:0 --memory ext4:256M --memory btrfs:256M
img="$work/mnt/nbd"

attach ext4
head -c 20M /dev/urandom > "$work/blob"
timeout 60 mkfs.ext4 -q -F "$img" && ok "mkfs.ext4 on the export" || fail "mkfs.ext4"
timeout 60 debugfs -w -R "write $work/blob blob" "$img" > /dev/null 2>&1 &&
  ok "debugfs wrote a 20 MiB file" || fail "debugfs write"
unmount

attach ext4  # a new connection sees what the old one wrote
timeout 60 e2fsck -fn "$img" > "$work/fsck.out" 2>&1 && ok "e2fsck -fn: clean" ||
  { fail "e2fsck found problems"; cat "$work/fsck.out"; }
timeout 60 debugfs -R "dump blob $work/blob.back" "$img" > /dev/null 2>&1
cmp -s "$work/blob" "$work/blob.back" && ok "file read back through ext4 is identical" ||
  fail "file read back differs"
unmount

attach btrfs
timeout 60 mkfs.btrfs -q -f "$img" > /dev/null && ok "mkfs.btrfs on the export" || fail "mkfs.btrfs"
timeout 60 btrfs check --readonly "$img" > "$work/btrfs.out" 2>&1 && ok "btrfs check: clean" ||
  { fail "btrfs check"; cat "$work/btrfs.out"; }
unmount

stop_server
finish
