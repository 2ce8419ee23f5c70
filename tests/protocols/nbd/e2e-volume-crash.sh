#!/usr/bin/env bash
# e2e-volume-crash.sh ZEROFS_NBD ZEROFS WORK_DIR: SIGKILL of zerofs-nbd serving a file://
# volume loses nothing that a FLUSH acknowledged.
#  1. libnbd writes batches of random data, each followed by FLUSH, recording every
#     acknowledged batch; the server is killed at a random moment (seed printed); after the
#     restart every recorded batch reads back exactly (nbd_volume.py crash-write/verify).
#  2. ext4 on a loop device over nbdfuse: a source tree copied and synced, more files
#     being written when the server is killed; after the restart the mount replays the
#     journal, the synced tree is identical and e2fsck -fn finds the filesystem clean.
zerofs_nbd=$1 zerofs=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
posix="$here/../../posix"
source "$here/e2e-lib.sh"
need nbdfuse fusermount3 losetup mount umount mkfs.ext4 e2fsck timeout
py=$(find_nbd_python) || exit 1
rm -rf "$work" && mkdir -p "$work"
trap 'detach_all; cleanup' EXIT
seed=${NBD_CRASH_SEED:-$(( $(date +%s%N) % 1000000007 ))}
echo "seed $seed (NBD_CRASH_SEED=$seed replays the kill times)"
RANDOM=$((seed % 32768))

src="$work/../source-tree"
"$posix/source-tree.sh" "$src" "${NBD_TREE_FILES:-3000}" > /dev/null ||
  { echo "FAIL: source-tree.sh"; exit 1; }

init_volume
create_export raw 256M
create_export ext4 512M
start_volume_server

# ---- 1. FLUSHed batches ----
"$py" "$here/nbd_volume.py" crash-write "nbd://127.0.0.1:$port/raw" "$work/state" "$seed" \
  > "$work/writer.log" 2>&1 &
writer=$!
delay_ms=$((800 + RANDOM % 2500))
sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
kill_server
echo "killed the server after ${delay_ms} ms"
timeout 60 tail --pid="$writer" -f /dev/null
wait "$writer"
cat "$work/writer.log"
[ -f "$work/state" ] && echo "last acknowledged FLUSH: batch $(cat "$work/state")"
start_volume_server --takeover  # the killed server's lease is still fresh
timeout 120 "$py" "$here/nbd_volume.py" crash-verify "nbd://127.0.0.1:$port/raw" "$work/state" \
  "$seed" || fail "flushed data lost after SIGKILL"

# ---- 2. ext4 journal ----
attach_loop ext4
timeout 120 mkfs.ext4 -q -F "$loop_dev" && ok "mkfs.ext4" || fail "mkfs.ext4"
mount_loop "$work/mnt"
timeout 600 "$posix/tree-copy.sh" "$src" "$work/mnt/synced" > /dev/null &&
  ok "source tree copied into ext4 and synced" || fail "tree-copy into ext4"
# More writes, unsynced, while the server dies.
( cp -a "$src" "$work/mnt/unsynced" 2> /dev/null ) &
copier=$!
sleep "$(awk -v ms="$((200 + RANDOM % 1500))" 'BEGIN { printf "%.3f", ms / 1000 }')"
kill_server
echo "killed the server during an unsynced copy"
detach_all
timeout 60 tail --pid="$copier" -f /dev/null
wait "$copier" 2> /dev/null

start_volume_server --takeover
attach_loop ext4
if mount_loop "$work/mnt"; then  # replays the journal
  timeout 300 "$posix/tree-check.sh" "$src" "$work/mnt/synced" &&
    ok "synced tree identical after SIGKILL, restart and journal replay" ||
    fail "synced tree differs after the crash"
fi
detach_loop
timeout 120 e2fsck -fn "$work/fuse/nbd" > "$work/fsck.out" 2>&1 &&
  ok "e2fsck -fn after journal replay: clean" ||
  { fail "e2fsck found problems after the crash"; tail -20 "$work/fsck.out"; }
detach_export
stop_server
finish
