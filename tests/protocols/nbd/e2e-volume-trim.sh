#!/usr/bin/env bash
# e2e-volume-trim.sh ZEROFS_NBD ZEROFS WORK_DIR: discarding blocks of an export of a file://
# volume releases their storage: the volume's live bytes (the segments' live-byte counters,
# as `zerofs gc --dry-run --json` reports them from a read replica) fall accordingly.
#  1. 256 MiB of random data by nbdcopy, then NBD TRIM of 192 MiB through libnbd;
#  2. ext4 on a loop device over nbdfuse: a 64 MiB file written, deleted, then fstrim (the
#     loop device punches holes in the nbdfuse file, nbdfuse sends NBD TRIM).
zerofs_nbd=$1 zerofs=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/e2e-lib.sh"
need nbdcopy nbdfuse fusermount3 losetup mount umount mkfs.ext4 fstrim cmp timeout
py=$(find_nbd_python) || exit 1
rm -rf "$work" && mkdir -p "$work"
trap 'detach_all; cleanup' EXIT

init_volume
create_export disk1 256M
create_export ext4 256M
start_volume_server
uri="nbd://127.0.0.1:$port"

head -c 256M /dev/urandom > "$work/random.bin"
timeout 180 nbdcopy --flush "$work/random.bin" "$uri/disk1" || fail "nbdcopy to disk1"

# TRIM releases the storage: the volume's live bytes fall by the trimmed data.
live_full=$(live_bytes)
[ "$live_full" -ge $((256 << 20)) ] && ok "live bytes after 256 MiB of random data: $live_full" ||
  fail "live bytes after 256 MiB of random data: $live_full"
timeout 120 "$py" - "$uri/disk1" << 'PY' && ok "NBD TRIM of disk1's first 192 MiB + FLUSH" || fail "trim"
import sys, nbd
h = nbd.NBD(); h.connect_uri(sys.argv[1])
h.trim(192 << 20, 0); h.flush(); h.shutdown()
PY
live_trimmed=$(live_bytes)
[ "$live_trimmed" -ge 0 ] && [ $((live_full - live_trimmed)) -ge $((190 << 20)) ] &&
  ok "live bytes after the trim: $live_trimmed (-$(( (live_full - live_trimmed) >> 20 )) MiB)" ||
  fail "live bytes after trimming 192 MiB: $live_full -> $live_trimmed"
head -c 192M /dev/zero | cmp -s - <(timeout 60 nbdcopy "$uri/disk1" - | head -c 192M) &&
  ok "trimmed range reads as zeros" || fail "trimmed range does not read as zeros"

attach_loop ext4
timeout 120 mkfs.ext4 -q -F "$loop_dev" && ok "mkfs.ext4" || fail "mkfs.ext4"
# fstrim: ext4 discards its free blocks, the loop device punches holes in the nbdfuse file,
# nbdfuse sends NBD TRIM, and the volume's live bytes fall by the deleted file's size.
mount_loop "$work/mnt"
head -c 64M /dev/urandom > "$work/mnt/big" && sync -f "$work/mnt" || fail "writing a 64 MiB file"
live_full=$(live_bytes)
rm "$work/mnt/big" && sync -f "$work/mnt"
timeout 120 fstrim -v "$work/mnt" || fail "fstrim"
sync -f "$work/mnt"
live_trimmed=$(live_bytes)
[ "$live_full" -ge 0 ] && [ "$live_trimmed" -ge 0 ] &&
  [ $((live_full - live_trimmed)) -ge $((60 << 20)) ] &&
  ok "fstrim: live bytes $live_full -> $live_trimmed (-$(( (live_full - live_trimmed) >> 20 )) MiB)" ||
  fail "fstrim did not release the deleted file's storage: $live_full -> $live_trimmed"
detach_export
stop_server
finish
