#!/usr/bin/env bash
# e2e-volume-trim.sh ZEROFS_NBD ZEROFS WORK_DIR: discarding blocks of an export of a file://
# volume releases their storage: the volume's live bytes (the segments' live-byte counters,
# as `zerofs gc --dry-run --json` reports them from a read replica) fall accordingly, and
# `zerofs gc` then gives the space back in the bucket.
#  1. 256 MiB of random data by nbdcopy, then NBD TRIM of 192 MiB through libnbd; `zerofs
#     gc` through the server's control socket shrinks the bucket to the untrimmed quarter
#     (plus an allowance), and the untrimmed 64 MiB still read back byte for byte;
#  2. ext4 on a loop device over nbdfuse: a 64 MiB file written, deleted, then fstrim (the
#     loop device punches holes in the nbdfuse file, nbdfuse sends NBD TRIM); `zerofs gc`
#     offline, after the server stopped, takes the bucket back to what it held before the
#     file (plus an allowance); a restarted server (whose cache directory predates the gc)
#     serves both exports intact: disk1's data, and an ext4 that e2fsck finds clean.
zerofs_nbd=$1 zerofs=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/e2e-lib.sh"
need nbdcopy nbdfuse fusermount3 losetup mount umount mkfs.ext4 e2fsck fstrim cmp du timeout
py=$(find_nbd_python) || exit 1
rm -rf "$work" && mkdir -p "$work"
trap 'detach_all; cleanup' EXIT

# What the bucket may hold beyond the live data once gc has run: the index snapshot, the
# journal's newest segments, the key file and ext4's metadata.
allowance=$((8 << 20))

# bucket_bytes: the bytes of every object in the bucket directory.
bucket_bytes() { du -sb "$work/bucket" | cut -f1; }

# gc_field FILE PATH...: a field of a `zerofs gc --json` document.
gc_field() {
  python3 - "$@" << 'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]: v = v[k]
print(v)
PY
}

# disk1_reads_back: disk1's last 64 MiB (never trimmed) are the random data written there, and
# its first 192 MiB (trimmed) read as zeros.
disk1_reads_back() {
  timeout 120 nbdcopy "$uri/disk1" "$work/disk1.back" || return 1
  cmp -s <(tail -c 64M "$work/random.bin") <(tail -c 64M "$work/disk1.back") || return 1
  head -c 192M /dev/zero | cmp -s - <(head -c 192M "$work/disk1.back") || return 1
  rm -f "$work/disk1.back"
}

init_volume
create_export disk1 256M
create_export ext4 256M
start_volume_server --control-socket "$work/control.sock"
uri="nbd://127.0.0.1:$port"

head -c 256M /dev/urandom > "$work/random.bin"
timeout 180 nbdcopy --flush "$work/random.bin" "$uri/disk1" || fail "nbdcopy to disk1"

# TRIM releases the storage: the volume's live bytes fall by the trimmed data.
live_full=$(live_bytes)
[ "$live_full" -ge $((256 << 20)) ] && ok "live bytes after 256 MiB of random data: $live_full" ||
  fail "live bytes after 256 MiB of random data: $live_full"
stored_full=$(bucket_bytes)
[ "$stored_full" -ge $((256 << 20)) ] && ok "bucket bytes after 256 MiB of random data: $stored_full" ||
  fail "bucket bytes after 256 MiB of random data: $stored_full"
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

# gc through the running server compacts the segments the trim left sparse and deletes the
# emptied ones (--grace 0: no read replica needs them): the bucket keeps the untrimmed
# quarter. Bound: 25% of the 256 MiB filled + the allowance.
bound=$(((256 << 20) / 4 + allowance))
if timeout 120 "$zerofs" gc --control-socket "$work/control.sock" --grace 0 --json \
    > "$work/gc1.json" 2> "$work/gc1.err"; then
  deleted=$(gc_field "$work/gc1.json" gc segments_deleted)
  stored_after=$(gc_field "$work/gc1.json" after stored_bytes)
  [ "$deleted" -gt 0 ] && [ "$stored_after" -le "$bound" ] &&
    ok "gc through the control socket: $deleted segments deleted, stored bytes $stored_after <= $bound" ||
    { fail "gc through the control socket: $deleted segments deleted, stored bytes $stored_after > $bound"; cat "$work/gc1.json"; }
else
  fail "zerofs gc through the control socket: $(cat "$work/gc1.err")"
fi
stored_gc=$(bucket_bytes)
[ "$stored_gc" -le "$bound" ] &&
  ok "bucket after trim + gc: $stored_full -> $stored_gc bytes (<= $bound)" ||
  fail "bucket after trim + gc: $stored_full -> $stored_gc bytes, more than $bound"
disk1_reads_back && ok "after gc: disk1's untrimmed 64 MiB intact, the trimmed 192 MiB zeros" ||
  fail "after gc: disk1 does not read back as written"

attach_loop ext4
timeout 120 mkfs.ext4 -q -F "$loop_dev" && ok "mkfs.ext4" || fail "mkfs.ext4"
# fstrim: ext4 discards its free blocks, the loop device punches holes in the nbdfuse file,
# nbdfuse sends NBD TRIM, and the volume's live bytes fall by the deleted file's size.
mount_loop "$work/mnt"
sync -f "$work/mnt"
live_empty=$(live_bytes)
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

# gc offline, as the volume's writer once the server is gone: the bucket returns to the live
# data it held before the 64 MiB file, within 25% of that file + the allowance.
stored_full=$(bucket_bytes)
bound=$((live_empty + (64 << 20) / 4 + allowance))
if timeout 120 "$zerofs" gc --config "$work/zerofs.toml" --grace 0 --json \
    > "$work/gc2.json" 2> "$work/gc2.err"; then
  deleted=$(gc_field "$work/gc2.json" gc segments_deleted)
  [ "$deleted" -gt 0 ] && ok "offline gc deleted $deleted segments" ||
    { fail "offline gc deleted no segment"; cat "$work/gc2.json"; }
else
  fail "offline zerofs gc: $(cat "$work/gc2.err")"
fi
stored_gc=$(bucket_bytes)
[ "$live_empty" -ge 0 ] && [ "$stored_gc" -le "$bound" ] &&
  ok "bucket after fstrim + offline gc: $stored_full -> $stored_gc bytes (<= $bound)" ||
  fail "bucket after fstrim + offline gc: $stored_full -> $stored_gc bytes, more than $bound"

# The server again, on its old cache directory: what gc moved and deleted is served right.
start_volume_server --control-socket "$work/control.sock"
disk1_reads_back && ok "after a restart: disk1's untrimmed 64 MiB intact, the trimmed 192 MiB zeros" ||
  fail "after a restart: disk1 does not read back as written"
attach_loop ext4
timeout 120 e2fsck -fn "$loop_dev" > "$work/e2fsck.txt" 2>&1 && ok "after a restart: e2fsck finds ext4 clean" ||
  { fail "after a restart: e2fsck of ext4"; sed 's/^/  e2fsck: /' "$work/e2fsck.txt" | tail -20; }
detach_export
stop_server
finish
