#!/usr/bin/env bash
# cli-checkpoint-serve.sh ZEROFS ZEROFS_NFS ZEROFS_9P ZEROFS_NBD ZEROFS_MOUNT WORK_DIR
#
# A checkpoint served with `--checkpoint NAME` by zerofs-nfs, zerofs-9p, zerofs-nbd and
# `zerofs run`, through real clients. Files and an NBD export are written, the checkpoint is
# taken, then one file is overwritten, one deleted, one added, the export rewritten and the
# collector run. Each server must serve the checkpoint's bytes, and refuse every write:
# NFS3ERR_ROFS (libnfs-utils), "Read-only file system" on a zerofs-mount of the 9P server,
# a read-only NBD export whose writes fail with EPERM (nbdinfo, nbdcopy, libnbd). A writer
# may change the volume while a checkpoint is served. Afterwards the checkpoint and the
# latest state both read as before, and fsck finds no problem. Needs root (FUSE).
set -uo pipefail
zerofs=$1 zerofs_nfs=$2 zerofs_9p=$3 zerofs_nbd=$4 zerofs_mount=$5 work=$6
. "$(dirname "$0")/cli-lib.sh"

for p in nfs-ls nfs-cat nfs-cp diodls diodcat nbdinfo nbdcopy fusermount3 mountpoint timeout cmp; do
  command -v "$p" > /dev/null || { echo "FAIL: $p not installed (scripts/install-deps.sh test)"; exit 1; }
done
nbd_python=""
for py in /usr/bin/python3 python3; do  # python3-libnbd lives in the system python3
  "$py" -c 'import nbd' 2> /dev/null && { nbd_python=$py; break; }
done
[ -n "$nbd_python" ] || { echo "FAIL: no python3 with the nbd module (python3-libnbd)"; exit 1; }
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] || { echo "FAIL: zerofs-mount needs root and /dev/fuse"; exit 1; }

make_volume
cfg=(--config "$work/zerofs.toml")
mnt=$work/mnt
srv_pid="" mount_pid=""
cleanup() {
  mountpoint -q "$mnt" 2> /dev/null && { umount "$mnt" 2> /dev/null || umount -l "$mnt"; }
  [ -n "$mount_pid" ] && kill -KILL "$mount_pid" 2> /dev/null
  [ -n "$srv_pid" ] && kill -KILL "$srv_pid" 2> /dev/null
}
trap cleanup EXIT

# start_server LOG BINARY ARGS...: a server on 127.0.0.1:0; sets srv_pid and srv_port (from
# its "listening on" log line).
start_server() {
  local log=$1
  shift
  "$@" "${cfg[@]}" --listen 127.0.0.1:0 > "$log" 2>&1 &
  srv_pid=$!
  srv_port=""
  for _ in $(seq 300); do
    srv_port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/.*://')
    [ -n "$srv_port" ] && return 0
    kill -0 "$srv_pid" 2> /dev/null || break
    sleep 0.1
  done
  sed 's/^/  server: /' "$log"
  echo "FAIL: $(basename "$1") did not start"
  exit 1
}

# stop_server WHAT: SIGTERM; it must exit 0 within 15 s.
stop_server() {
  kill -TERM "$srv_pid"
  for _ in $(seq 150); do kill -0 "$srv_pid" 2> /dev/null || break; sleep 0.1; done
  kill -0 "$srv_pid" 2> /dev/null && { fail "$1 still running 15 s after SIGTERM"; kill -KILL "$srv_pid"; }
  wait "$srv_pid"
  local rc=$?
  srv_pid=""
  [ "$rc" -eq 0 ] && echo "ok: $1 stopped cleanly" || fail "$1 exited $rc after SIGTERM"
}

# fails WHAT COMMAND...: COMMAND must fail (any non-zero exit); its output in $work/out, err.
fails() {
  local what=$1
  shift
  if "$@" > "$work/out" 2> "$work/err"; then fail "$what: succeeded"; else echo "ok: $what"; fi
}

# same LOCAL GOT WHAT: the bytes a client returned equal the local copy.
same() { cmp -s "$1" "$2" && echo "ok: $3" || fail "$3: $(cmp "$1" "$2" 2>&1 | head -1)"; }

# --- The state the checkpoint freezes ---------------------------------------------------
head -c 300000 /dev/urandom > "$work/a.old"
head -c 70001 /dev/urandom > "$work/b.old"
head -c $((1536 * 1024 + 7)) /dev/urandom > "$work/c.old"
head -c $((4 << 20)) /dev/urandom > "$work/disk.old"
expect 0 "put /a" -- "$zerofs" put "${cfg[@]}" "$work/a.old" /a
expect 0 "mkdir /dir" -- "$zerofs" mkdir "${cfg[@]}" /dir
expect 0 "put /dir/b" -- "$zerofs" put "${cfg[@]}" "$work/b.old" /dir/b
expect 0 "put /c" -- "$zerofs" put "${cfg[@]}" "$work/c.old" /c
expect 0 "nbd create disk1" -- "$zerofs" nbd create disk1 4M "${cfg[@]}"
# The export's bytes go in through a writable zerofs-nbd.
start_server "$work/nbd-rw.log" "$zerofs_nbd"
expect 0 "nbdcopy into the writable export" -- \
  timeout 60 nbdcopy "$work/disk.old" "nbd://127.0.0.1:$srv_port/disk1"
stop_server "writable zerofs-nbd"

expect 0 "checkpoint create snap" -- "$zerofs" checkpoint create snap "${cfg[@]}"

# --- Changes after it ---------------------------------------------------------------------
head -c 123457 /dev/urandom > "$work/a.new"
head -c $((4 << 20)) /dev/urandom > "$work/disk.new"
echo "written after the checkpoint" > "$work/later.new"
expect 0 "overwrite /a" -- "$zerofs" put "${cfg[@]}" "$work/a.new" /a
expect 0 "rm /dir/b" -- "$zerofs" rm "${cfg[@]}" /dir/b
expect 0 "put /later" -- "$zerofs" put "${cfg[@]}" "$work/later.new" /later
expect 0 "rewrite the export" -- "$zerofs" put "${cfg[@]}" "$work/disk.new" /.nbd/disk1
# The collector must keep what the checkpoint reads.
expect 0 "gc after the changes" -- "$zerofs" gc "${cfg[@]}" --grace 0 --json
out_has '"segments_kept_by_checkpoints": [1-9]' "gc keeps the checkpoint's segments"

# --- Checks per protocol, given a server's port -------------------------------------------
nfs_checks() {  # PORT WHO
  local q="version=3&nfsport=$1&mountport=$1" who=$2 f
  url() { echo "nfs://127.0.0.1//$1?$q"; }
  expect 0 "$who: nfs-ls of the root" -- timeout 30 nfs-ls "nfs://127.0.0.1/?$q"
  [ "$(awk '{print $NF}' "$work/out" | sort | tr '\n' ' ')" = ".nbd a c dir " ] ||
    fail "$who: nfs-ls lists $(awk '{print $NF}' "$work/out" | tr '\n' ' ')"
  for f in a:a.old dir/b:b.old c:c.old .nbd/disk1:disk.old; do
    expect 0 "$who: nfs-cat /${f%%:*}" -- timeout 30 nfs-cat "$(url "${f%%:*}")"
    same "$work/${f#*:}" "$work/out" "$who: /${f%%:*} has the checkpoint's bytes over NFS"
  done
  fails "$who: nfs-cat of a file made after the checkpoint fails" timeout 30 nfs-cat "$(url later)"
  # Writes: a new file in the root and in a directory (CREATE), and over an existing file.
  for f in new dir/new; do
    fails "$who: nfs-cp of a new file /$f is refused" timeout 30 nfs-cp "$work/later.new" "$(url "$f")"
    err_has "NFS3ERR_ROFS" "$who: nfs-cp /$f fails with NFS3ERR_ROFS"
  done
  fails "$who: nfs-cp over /a is refused" timeout 30 nfs-cp "$work/later.new" "$(url a)"
  expect 0 "$who: nfs-cat /a after the refused writes" -- timeout 30 nfs-cat "$(url a)"
  same "$work/a.old" "$work/out" "$who: /a unchanged after the refused writes"
  fails "$who: the refused file does not exist" timeout 30 nfs-cat "$(url new)"
}

ninep_checks() {  # PORT WHO
  local port=$1 who=$2 f
  expect 0 "$who: diodls /" -- timeout 30 diodls -s "127.0.0.1:$port" -a / -l
  out_has ' a$' "$who: diodls lists a"
  grep -q ' later$' "$work/out" && fail "$who: diodls lists a file made after the checkpoint"
  for f in a:a.old dir/b:b.old c:c.old .nbd/disk1:disk.old; do
    expect 0 "$who: diodcat /${f%%:*}" -- timeout 30 diodcat -s "127.0.0.1:$port" -a / "${f%%:*}"
    same "$work/${f#*:}" "$work/out" "$who: /${f%%:*} has the checkpoint's bytes over 9P"
  done

  # Through the kernel: zerofs-mount (FUSE) on the server.
  mkdir -p "$mnt"
  "$zerofs_mount" -f "127.0.0.1:$port" "$mnt" > "$work/mount.log" 2>&1 &
  mount_pid=$!
  for _ in $(seq 100); do
    mountpoint -q "$mnt" && break
    kill -0 "$mount_pid" 2> /dev/null || break
    sleep 0.1
  done
  if ! mountpoint -q "$mnt"; then
    sed 's/^/  mount: /' "$work/mount.log"
    fail "$who: zerofs-mount did not mount"
    return
  fi
  for f in a:a.old dir/b:b.old c:c.old .nbd/disk1:disk.old; do
    same "$work/${f#*:}" "$mnt/${f%%:*}" "$who: /${f%%:*} has the checkpoint's bytes on the mount"
  done
  [ -e "$mnt/later" ] && fail "$who: the mount shows a file made after the checkpoint"
  # Every kind of write: each must fail with EROFS.
  rofs() {  # WHAT COMMAND...
    local what=$1
    shift
    if "$@" > "$work/out" 2> "$work/err"; then
      fail "$who: $what succeeded on a checkpoint"
    elif grep -q "Read-only file system" "$work/err"; then
      echo "ok: $who: $what fails with EROFS"
    else
      fail "$who: $what failed without EROFS: $(head -1 "$work/err")"
    fi
  }
  rofs "create" sh -c "echo x > '$mnt/new'"
  rofs "create in a directory" sh -c "echo x > '$mnt/dir/new'"
  rofs "append" sh -c "echo x >> '$mnt/a'"
  rofs "truncate" truncate -s 0 "$mnt/a"
  rofs "overwrite in place" dd if=/dev/zero of="$mnt/c" bs=4096 count=1 conv=notrunc status=none
  rofs "write the export file" dd if=/dev/zero of="$mnt/.nbd/disk1" bs=512 count=1 conv=notrunc status=none
  rofs "unlink" rm "$mnt/a"
  rofs "rmdir of a non-empty tree" rm -r "$mnt/dir"
  rofs "mkdir" mkdir "$mnt/newdir"
  rofs "rename" mv "$mnt/a" "$mnt/renamed"
  rofs "chmod" chmod 600 "$mnt/a"
  rofs "chown" chown 1:1 "$mnt/a"
  rofs "utimes" touch -d 2001-01-01 "$mnt/a"
  rofs "symlink" ln -s a "$mnt/link"
  rofs "hard link" ln "$mnt/a" "$mnt/hard"
  rofs "mkfifo" mkfifo "$mnt/fifo"
  for f in a:a.old dir/b:b.old c:c.old .nbd/disk1:disk.old; do
    same "$work/${f#*:}" "$mnt/${f%%:*}" "$who: /${f%%:*} unchanged after the refused writes"
  done
  [ "$(ls -A "$mnt" | tr '\n' ' ')" = ".nbd a c dir " ] || fail "$who: the root now holds $(ls -A "$mnt")"
  umount "$mnt" || fusermount3 -u "$mnt" || fail "$who: umount"
  for _ in $(seq 100); do kill -0 "$mount_pid" 2> /dev/null || break; sleep 0.1; done
  kill -0 "$mount_pid" 2> /dev/null && { fail "$who: zerofs-mount still running after umount"; kill -KILL "$mount_pid"; }
  wait "$mount_pid" 2> /dev/null
  mount_pid=""
}

nbd_checks() {  # PORT WHO
  local uri="nbd://127.0.0.1:$1/disk1" who=$2
  expect 0 "$who: nbdinfo --json" -- timeout 30 nbdinfo --json "$uri"
  out_has '"is_read_only": true' "$who: the export is advertised read-only"
  out_has '"export-size": 4194304' "$who: the export has the checkpoint's size"
  expect 0 "$who: nbdcopy out of the export" -- timeout 60 nbdcopy "$uri" "$work/disk.got"
  same "$work/disk.old" "$work/disk.got" "$who: the export has the checkpoint's bytes over NBD"
  fails "$who: nbdcopy into the export is refused" timeout 60 nbdcopy "$work/disk.new" "$uri"
  # libnbd refuses writes to a read-only export itself; with strict mode off the requests
  # reach the server, which must fail them (EPERM, as the NBD protocol says).
  expect 0 "$who: writes through libnbd fail" -- timeout 60 "$nbd_python" - "$1" <<'PY'
import errno, nbd, sys
h = nbd.NBD()
h.set_export_name("disk1")
h.connect_tcp("127.0.0.1", sys.argv[1])
assert h.is_read_only(), "export not read-only"
h.set_strict_mode(0)
bad = 0
for name, op in [("pwrite", lambda: h.pwrite(b"\xa5" * 4096, 0)),
                 ("pwrite at the end", lambda: h.pwrite(b"\xa5" * 512, (4 << 20) - 512)),
                 ("trim", lambda: h.trim(65536, 0)),
                 ("zero", lambda: h.zero(65536, 65536))]:
    try:
        op()
        print(f"{name}: succeeded on a read-only export")
        bad += 1
    except nbd.Error as e:
        if e.errnum in (errno.EPERM, errno.EROFS):
            print(f"{name}: {errno.errorcode[e.errnum]}")
        else:
            print(f"{name}: failed with {e.errnum} ({e.string}), not EPERM/EROFS")
            bad += 1
h.flush()
h.shutdown()
sys.exit(1 if bad else 0)
PY
  expect 0 "$who: nbdcopy after the refused writes" -- timeout 60 nbdcopy "$uri" "$work/disk.got"
  same "$work/disk.old" "$work/disk.got" "$who: the export unchanged after the refused writes"
}

# --- Each server on its own ---------------------------------------------------------------
start_server "$work/nfs.log" "$zerofs_nfs" --checkpoint snap
nfs_checks "$srv_port" zerofs-nfs
stop_server "zerofs-nfs --checkpoint"

start_server "$work/9p.log" "$zerofs_9p" --checkpoint snap
ninep_checks "$srv_port" zerofs-9p
# A checkpoint server is no writer: the volume's writer may go on meanwhile.
echo "written while the checkpoint is served" > "$work/during.new"
expect 0 "put while a checkpoint is served" -- "$zerofs" put "${cfg[@]}" "$work/during.new" /during
expect 0 "zerofs-9p: diodcat /a after the put" -- timeout 30 diodcat -s "127.0.0.1:$srv_port" -a / a
same "$work/a.old" "$work/out" "zerofs-9p: still the checkpoint's /a after the put"
stop_server "zerofs-9p --checkpoint"

start_server "$work/nbd.log" "$zerofs_nbd" --checkpoint snap
nbd_checks "$srv_port" zerofs-nbd
stop_server "zerofs-nbd --checkpoint"

for s in "$zerofs_nfs" "$zerofs_9p" "$zerofs_nbd"; do
  expect 1 "$(basename "$s") --checkpoint of a missing name" -- \
    timeout 60 "$s" "${cfg[@]}" --checkpoint nope --listen 127.0.0.1:0
  err_has "no checkpoint 'nope'" "$(basename "$s"): missing checkpoint message"
done

# --- zerofs run: all three protocols in one process ---------------------------------------
"$zerofs" run "${cfg[@]}" --checkpoint snap --nfs 127.0.0.1:0 --9p 127.0.0.1:0 \
  --nbd 127.0.0.1:0 --control-socket "$work/control.sock" --log-file "$work/run.log" \
  > "$work/run.out" 2> "$work/run.err" &
srv_pid=$!
for _ in $(seq 300); do
  grep -q '^control ' "$work/run.out" 2> /dev/null && break
  kill -0 "$srv_pid" 2> /dev/null || break
  sleep 0.1
done
grep -q '^control ' "$work/run.out" || { cat "$work/run.err" "$work/run.log"; echo "FAIL: zerofs run --checkpoint did not start"; exit 1; }
run_port() { sed -n "s/^$1 127\.0\.0\.1:\([0-9]*\)$/\1/p" "$work/run.out"; }
nfs_checks "$(run_port nfs)" "zerofs run (nfs)"
ninep_checks "$(run_port 9p)" "zerofs run (9p)"
nbd_checks "$(run_port nbd)" "zerofs run (nbd)"
# The control socket's writing commands are refused as well.
expect 1 "zerofs run: checkpoint create through the control socket" -- \
  "$zerofs" checkpoint create other "${cfg[@]}" --control-socket "$work/control.sock"
err_has "read-only" "refused checkpoint create message"
expect 1 "zerofs run: nbd create through the control socket" -- \
  "$zerofs" nbd create disk2 1M "${cfg[@]}" --control-socket "$work/control.sock"
err_has "EROFS|read-only" "refused nbd create message"
stop_server "zerofs run --checkpoint"
grep -qi "fenced" "$work"/*.log && fail "a checkpoint server fenced the writer or was fenced"
[ -e "$work/bucket/lease" ] && fail "a checkpoint server left a writer lease behind"

# --- Both states afterwards ---------------------------------------------------------------
for f in a:a.old dir/b:b.old c:c.old .nbd/disk1:disk.old; do
  expect 0 "cat --checkpoint snap /${f%%:*}" -- "$zerofs" cat "${cfg[@]}" --checkpoint snap "/${f%%:*}"
  same "$work/${f#*:}" "$work/out" "the checkpoint's /${f%%:*} afterwards"
done
expect 0 "ls --checkpoint snap /" -- "$zerofs" ls "${cfg[@]}" --checkpoint snap /
[ "$(sort "$work/out" | tr '\n' ' ')" = ".nbd a c dir " ] || fail "the checkpoint's root: $(cat "$work/out")"
for f in a:a.new c:c.old .nbd/disk1:disk.new later:later.new during:during.new; do
  expect 0 "cat /${f%%:*}" -- "$zerofs" cat "${cfg[@]}" "/${f%%:*}"
  same "$work/${f#*:}" "$work/out" "the latest /${f%%:*} afterwards"
done
expect 3 "cat of the deleted /dir/b" -- "$zerofs" cat "${cfg[@]}" /dir/b
expect 0 "ls /" -- "$zerofs" ls "${cfg[@]}" /
[ "$(sort "$work/out" | tr '\n' ' ')" = ".nbd a c dir during later " ] || fail "the latest root: $(cat "$work/out")"
expect 0 "checkpoint list" -- "$zerofs" checkpoint list "${cfg[@]}" --json
[ "$(grep -c '"name":' "$work/out")" -eq 1 ] && out_has '"name": "snap"' "only the checkpoint snap" ||
  fail "checkpoints afterwards: $(cat "$work/out")"
expect 0 "fsck finds no problem" -- "$zerofs" fsck "${cfg[@]}"

finish
