#!/usr/bin/env bash
# e2e-volume-fs.sh ZEROFS_NBD ZEROFS WORK_DIR: real filesystems on exports of a file://
# volume, mounted by the host kernel: nbdfuse exposes the export as a file, a loop device
# makes it a block device. ext4: mkfs, mount, copy a source tree, umount, e2fsck -fn; then
# the server restarts and the tree is compared again. The same with btrfs and btrfs scrub.
zerofs_nbd=$1 zerofs=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
posix="$here/../../posix"
source "$here/e2e-lib.sh"
need nbdfuse fusermount3 losetup mount umount mkfs.ext4 e2fsck mkfs.btrfs btrfs timeout
rm -rf "$work" && mkdir -p "$work"
trap 'detach_all; cleanup' EXIT
tree_files=${NBD_TREE_FILES:-3000}

# The source tree (cached next to the work directory, shared by the NBD tests).
src="$work/../source-tree"
files=$("$posix/source-tree.sh" "$src" "$tree_files") || { echo "FAIL: source-tree.sh"; exit 1; }
echo "source tree: $files files"

init_volume
create_export ext4 512M
create_export btrfs 512M
start_volume_server

# ---- ext4 ----
attach_loop ext4
timeout 120 mkfs.ext4 -q -F "$loop_dev" && ok "mkfs.ext4" || fail "mkfs.ext4"
mount_loop "$work/mnt"
timeout 600 "$posix/tree-copy.sh" "$src" "$work/mnt/tree" && ok "source tree copied into ext4" ||
  fail "tree-copy into ext4"
detach_loop
timeout 120 e2fsck -fn "$work/fuse/nbd" > "$work/fsck.out" 2>&1 && ok "e2fsck -fn: clean" ||
  { fail "e2fsck found problems"; tail -20 "$work/fsck.out"; }
detach_export

stop_server
start_volume_server
attach_loop ext4
mount_loop "$work/mnt" ro
timeout 300 "$posix/tree-check.sh" "$src" "$work/mnt/tree" &&
  ok "ext4 tree identical after a server restart" || fail "ext4 tree differs after a restart"
detach_export

# ---- btrfs ----
attach_loop btrfs
timeout 120 mkfs.btrfs -q -f "$loop_dev" > /dev/null && ok "mkfs.btrfs" || fail "mkfs.btrfs"
mount_loop "$work/mnt"
timeout 600 "$posix/tree-copy.sh" "$src" "$work/mnt/tree" && ok "source tree copied into btrfs" ||
  fail "tree-copy into btrfs"
timeout 300 btrfs scrub start -B "$work/mnt" > "$work/scrub.out" 2>&1 &&
  grep -q "no errors found\|Error summary: *no errors" "$work/scrub.out" &&
  ok "btrfs scrub: no errors" || { fail "btrfs scrub"; cat "$work/scrub.out"; }
detach_export

stop_server
start_volume_server
attach_loop btrfs
mount_loop "$work/mnt"
timeout 300 "$posix/tree-check.sh" "$src" "$work/mnt/tree" &&
  ok "btrfs tree identical after a server restart" || fail "btrfs tree differs after a restart"
timeout 300 btrfs scrub start -B "$work/mnt" > "$work/scrub.out" 2>&1 &&
  grep -q "no errors found\|Error summary: *no errors" "$work/scrub.out" &&
  ok "btrfs scrub after the restart: no errors" || { fail "btrfs scrub after restart"; cat "$work/scrub.out"; }
detach_export
stop_server
finish
