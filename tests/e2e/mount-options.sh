#!/usr/bin/env bash
# mount-options.sh ZEROFS ZEROFS_9P ZEROFS_MOUNT POSIX_SUITE FSX WORK
#
# zerofs-mount's options and ways of mounting and unmounting, on one zerofs-9p serving a
# fresh file:// volume on 127.0.0.1 and on a Unix socket (docs/mount.md):
#  - a wrong address or a missing socket fails at once (exit 1), a bad option value with
#    exit 2, and nothing is mounted;
#  - a mount through the Unix socket works;
#  - writes with and without -o writeback (many odd-sized writes, overwrites, a truncate, a
#    hole; fsynced or only closed) read back the same on the mount and after a remount;
#    zerofs-fsx (with mmap) passes on a writeback mount;
#  - -o ro: reads work, every kind of change fails with EROFS;
#  - attr_timeout/entry_timeout: 0 shows another client's changes at once, 60 keeps the
#    kernel's cached size and absent name;
#  - -f and SIGTERM, SIGINT, SIGHUP: the mount goes away, exit status 0, and what was
#    fsynced before is there after a remount; `umount` by root ends the process with 0;
#    without -f the command returns once mounted and the background process ends at umount;
#  - as uid 65534 (not root) on a mountpoint that user owns: mount through fusermount3,
#    work as that user (the server checks as that uid), `fusermount3 -u` as that user,
#    exit status 0, the mount gone from /proc/self/mountinfo; -o allow_other as that user
#    is refused unless /etc/fuse.conf has user_allow_other;
#  - -o aname=DIR mounts a directory of the volume.
# Needs root, /dev/fuse, fusermount3 and setpriv; a missing one is a failure.
set -uo pipefail
ZEROFS_CLI=$1 ZEROFS_9P=$2 ZEROFS_MOUNT=$3 FSX=$5 WORK=$6
# Absolute paths: some mounts below start in another directory or as another user.
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
ZEROFS_CLI=$(abs "$ZEROFS_CLI") ZEROFS_9P=$(abs "$ZEROFS_9P") ZEROFS_MOUNT=$(abs "$ZEROFS_MOUNT")
FSX=$(abs "$FSX")
mkdir -p "$WORK" && WORK=$(abs "$WORK")
source "$(dirname "$0")/mount-lib.sh"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

for p in fusermount3 setpriv python3 timeout sha256sum; do
  command -v "$p" > /dev/null || { echo "FAIL: $p not found (scripts/install-deps.sh test)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] ||
  { echo "FAIL: this test needs root and /dev/fuse"; exit 1; }

USER_ID=65534
# The unprivileged user runs with a plain PATH (python3 may be a shim under /root).
# (A function: `as_user ... &` would put a shell between $! and the program; background
# starts use $AS_USER.)
# shellcheck disable=SC2054 # INT,QUIT is one argument
AS_USER=(setpriv --reuid="$USER_ID" --regid="$USER_ID" --clear-groups --
  env PATH=/usr/local/bin:/usr/bin:/bin HOME=/ --default-signal=INT,QUIT)
as_user() { "${AS_USER[@]}" "$@"; }

rm -rf "$WORK"
mkdir -p "$WORK/bucket"
chmod 755 "$WORK"
MNT=$WORK/mnt
MOUNTS=("$MNT" "$WORK/mnt-a" "$WORK/mnt-b" "$WORK/mnt-c" "$WORK/user-mnt")
cleanup() {
  local m
  for m in "${MOUNTS[@]}"; do
    if mounted "$m"; then umount "$m" 2> /dev/null || umount -l "$m"; fi
  done
  local p
  for p in ${EXTRA_PIDS:-}; do kill -KILL "$p" 2> /dev/null; done
  cleanup_all "$MNT"
}
trap cleanup EXIT
export ZEROFS_PASSWORD=mount-options-password
write_config "file://$WORK/bucket"
init_volume || { echo "FAIL: zerofs init"; exit 1; }

# mounted DIR: DIR is a mount point in /proc/self/mountinfo (works where stat is refused,
# as on another user's FUSE mount).
mounted() {
  awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo
}
# wait_mounted PID DIR: until DIR is mounted (10 s), while PID runs.
wait_mounted() {
  for _ in $(seq 100); do
    mounted "$2" && return 0
    kill -0 "$1" 2> /dev/null || return 1
    sleep 0.1
  done
  return 1
}
# wait_exit PID: PID's exit status once it has ended, within 10 s; 124 (after SIGKILL)
# when it still runs.
wait_exit() {
  for _ in $(seq 100); do kill -0 "$1" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2> /dev/null; then
    kill -KILL "$1"
    wait "$1" 2> /dev/null
    return 124
  fi
  wait "$1"
}
# start_mount ADDRESS DIR [ARGS...]: zerofs-mount -f ARGS ADDRESS DIR as root, logging to
# $WORK/mount.log; MOUNT_PID is its pid.
start_mount() {
  mkdir -p "$2"
  echo "== zerofs-mount -f ${*:3} $1 $2" >> "$WORK/mount.log"
  # env: a background job of a script starts with SIGINT ignored, and libfuse leaves an
  # ignored signal alone; from a terminal it is not.
  env --default-signal=INT,QUIT "$ZEROFS_MOUNT" -f "${@:3}" "$1" "$2" >> "$WORK/mount.log" 2>&1 &
  MOUNT_PID=$!
  wait_mounted "$MOUNT_PID" "$2" && return 0
  fail "zerofs-mount ${*:3} $1 did not mount: $(tail -5 "$WORK/mount.log")"
  return 1
}
# stop_mount DIR WHAT: `umount DIR` by root; the client must then exit 0 by itself.
stop_mount() {
  if ! umount "$1"; then
    fail "$2: umount by root"
    umount -l "$1"
  fi
  wait_exit "$MOUNT_PID"
  local rc=$?
  MOUNT_PID=
  if [ "$rc" -ne 0 ]; then
    fail "$2: zerofs-mount exited with $rc after umount"
  elif mounted "$1"; then
    fail "$2: still in /proc/self/mountinfo after umount"
  else
    ok "$2: umount by root, zerofs-mount exited 0"
  fi
}

PORT=$(free_port)
ADDR=127.0.0.1:$PORT
# A Unix socket path must fit in sun_path (108 bytes).
SOCK=$WORK/9p.sock
[ ${#SOCK} -lt 100 ] || SOCK=$(mktemp -u /tmp/zerofs-mount-options.XXXXXX.sock)
start_server "$PORT" --unix "$SOCK" || exit 1
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "zerofs-9p --unix $SOCK made no socket"

# --- Errors before mounting: a wrong address, a missing socket, malformed values.
mkdir -p "$MNT"
DEAD_PORT=$(free_port)
for bad in "127.0.0.1:$DEAD_PORT" "$WORK/no-such.sock"; do
  timeout -k 5 30 "$ZEROFS_MOUNT" "$bad" "$MNT" > "$WORK/bad.out" 2>&1
  rc=$?
  if [ "$rc" -ne 1 ] || mounted "$MNT" || [ ! -s "$WORK/bad.out" ]; then
    fail "zerofs-mount $bad (no server there): exit $rc, want 1 with a message, unmounted:
$(head -3 "$WORK/bad.out")"
    mounted "$MNT" && umount "$MNT"
  else
    ok "no server at $bad: exit 1, $(head -1 "$WORK/bad.out")"
  fi
done
for bad in attr_timeout=abc entry_timeout=-1 msize=100 writeback=1 frobnicate; do
  timeout -k 5 30 "$ZEROFS_MOUNT" -f -o "$bad" "$ADDR" "$MNT" > "$WORK/bad.out" 2>&1
  rc=$?
  if [ "$rc" -ne 2 ] || mounted "$MNT" || ! grep -q "${bad%%=*}" "$WORK/bad.out"; then
    fail "zerofs-mount -o $bad: exit $rc, want 2 naming the option: $(head -3 "$WORK/bad.out")"
    mounted "$MNT" && umount "$MNT"
  else
    ok "-o $bad refused: $(head -1 "$WORK/bad.out")"
  fi
done

# --- The Unix socket.
if start_mount "$SOCK" "$MNT"; then
  if echo "over the unix socket" > "$MNT/unix.txt" && sync -f "$MNT/unix.txt" &&
    [ "$(cat "$MNT/unix.txt")" = "over the unix socket" ] && df "$MNT" > /dev/null; then
    ok "a mount through $SOCK writes, syncs, reads and answers statfs"
  else
    fail "a file on the mount through the Unix socket"
  fi
  grep -q " zerofs:[^ ]*9p.sock " <(awk -v m="$MNT" '$5 == m' /proc/self/mountinfo) ||
    fail "mountinfo does not name the socket: $(awk -v m="$MNT" '$5 == m' /proc/self/mountinfo)"
  stop_mount "$MNT" "unix socket"
fi

# --- Writes with and without the writeback cache.
cat > "$WORK/writer.py" << 'PY'
# writer.py DIR SEED: two files written in odd-sized pieces, overwritten at random spots,
# truncated and extended past a hole; "synced" is fsynced, "closed" only closed. Each is
# read back through its descriptor and by a fresh open; DIR/expected.sha256 lists them.
import hashlib, os, random, sys
d, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
os.makedirs(d, exist_ok=True)
sums = []
for name, sync in (("synced", True), ("closed", False)):
    size = 3_000_000 + rng.randrange(1_000_000)
    data = bytearray(rng.randbytes(size))
    path = f"{d}/{name}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    off = 0
    while off < size:
        n = min(size - off, rng.randrange(1, 70000))
        if os.write(fd, data[off:off + n]) != n:
            sys.exit(f"{path}: short write at {off}")
        off += n
    for _ in range(200):
        o, n = rng.randrange(len(data)), rng.randrange(1, 9000)
        b = rng.randbytes(n)
        os.pwrite(fd, b, o)
        data[o:o + n] = b
    cut = len(data) - 12345
    os.ftruncate(fd, cut)
    del data[cut:]
    os.pwrite(fd, b"tail", len(data) + 100000)
    data += bytes(100000) + b"tail"
    if sync:
        os.fsync(fd)
    if os.fstat(fd).st_size != len(data):
        sys.exit(f"{path}: fstat size {os.fstat(fd).st_size}, wrote {len(data)}")
    if os.pread(fd, len(data) + 10, 0) != bytes(data):
        sys.exit(f"{path}: read through the writing descriptor differs")
    os.close(fd)
    with open(path, "rb") as f:
        if f.read() != bytes(data):
            sys.exit(f"{path}: read after close differs")
    sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
dfd = os.open(d, os.O_RDONLY)
os.fsync(dfd)
os.close(dfd)
with open(f"{d}/expected.sha256", "w") as f:
    f.writelines(sums)
PY
for mode in none writeback; do
  opts=()
  [ "$mode" = writeback ] && opts=(-o writeback)
  start_mount "$ADDR" "$MNT" "${opts[@]}" || continue
  if python3 "$WORK/writer.py" "$MNT/wb-$mode" $((RANDOM + 1)) > "$WORK/writer-$mode.log" 2>&1; then
    ok "writeback=$mode: odd-sized writes, overwrites, truncate, hole read back on the mount"
  else
    fail "writeback=$mode: $(tail -3 "$WORK/writer-$mode.log")"
  fi
  if [ "$mode" = writeback ]; then
    timed fsx-writeback "$FSX" --ops "${FSX_OPS:-10000}" "$MNT/fsx-writeback.dat" \
      > "$WORK/fsx.log" 2>&1 || fail "fsx on a writeback mount: $(tail -40 "$WORK/fsx.log")"
    tail -1 "$WORK/fsx.log"
  fi
  stop_mount "$MNT" "writeback=$mode"
done
# Both sets after a remount (default options), then through a writeback mount.
for mode in none writeback; do
  opts=()
  [ "$mode" = writeback ] && opts=(-o writeback)
  start_mount "$ADDR" "$MNT" "${opts[@]}" || continue
  for set in none writeback; do
    if (cd "$MNT/wb-$set" && sha256sum --quiet -c expected.sha256) > "$WORK/sums.log" 2>&1; then
      ok "files written with writeback=$set intact after a remount (read with writeback=$mode)"
    else
      fail "files written with writeback=$set after a remount (read with writeback=$mode): $(head -3 "$WORK/sums.log")"
    fi
  done
  stop_mount "$MNT" "remount writeback=$mode"
done

# --- Read-only.
if start_mount "$ADDR" "$MNT" -o ro; then
  (cd "$MNT/wb-none" && sha256sum --quiet -c expected.sha256) > "$WORK/sums.log" 2>&1 ||
    fail "-o ro: reading files: $(head -3 "$WORK/sums.log")"
  awk -v m="$MNT" '$5 == m { split($6, o, ","); for (i in o) if (o[i] == "ro") f = 1 }
    END { exit !f }' /proc/self/mountinfo || fail "-o ro: mountinfo shows no ro"
  if python3 - "$MNT" > "$WORK/ro.log" 2>&1 << 'PY'; then
import errno, os, sys
m = sys.argv[1]
f = f"{m}/wb-none/synced"
ops = {
    "create": lambda: os.open(f"{m}/new", os.O_WRONLY | os.O_CREAT, 0o644),
    "open-write": lambda: os.open(f, os.O_WRONLY),
    "open-trunc": lambda: os.open(f, os.O_RDONLY | os.O_TRUNC),
    "truncate": lambda: os.truncate(f, 0),
    "mkdir": lambda: os.mkdir(f"{m}/newdir"),
    "rmdir": lambda: os.rmdir(f"{m}/wb-none"),
    "unlink": lambda: os.unlink(f),
    "rename": lambda: os.rename(f, f"{m}/renamed"),
    "link": lambda: os.link(f, f"{m}/hardlink"),
    "symlink": lambda: os.symlink("synced", f"{m}/symlink"),
    "mknod-fifo": lambda: os.mkfifo(f"{m}/fifo"),
    "chmod": lambda: os.chmod(f, 0o600),
    "chown": lambda: os.chown(f, 1, 1),
    "utime": lambda: os.utime(f, (1, 1)),
    "setxattr": lambda: os.setxattr(f, "user.x", b"1"),
}
bad = 0
for name, op in ops.items():
    try:
        op()
        print(f"{name}: succeeded on a read-only mount")
        bad += 1
    except OSError as e:
        if e.errno != errno.EROFS:
            print(f"{name}: {errno.errorcode.get(e.errno, e.errno)}, want EROFS")
            bad += 1
if not os.statvfs(m).f_flag & os.ST_RDONLY:
    print("statvfs: no ST_RDONLY")
    bad += 1
with open(f, "rb") as fh:
    fh.read()
print(f"{len(ops)} kinds of change refused with EROFS" if not bad else f"{bad} wrong")
sys.exit(1 if bad else 0)
PY
    ok "-o ro: reads work; $(tail -1 "$WORK/ro.log")"
  else
    fail "-o ro: $(cat "$WORK/ro.log")"
  fi
  stop_mount "$MNT" "-o ro"
fi

# --- Kernel cache timeouts: A (0 s) sees B's changes at once; C (60 s) keeps what it saw.
PIDS_ABC=()
for m in a:attr_timeout=0,entry_timeout=0 b: c:attr_timeout=60,entry_timeout=60; do
  name=${m%%:*} o=${m#*:}
  start_mount "$ADDR" "$WORK/mnt-$name" ${o:+-o "$o"} && PIDS_ABC+=("$name:$MOUNT_PID")
done
if [ "${#PIDS_ABC[@]}" -eq 3 ]; then
  if python3 - "$WORK/mnt-a" "$WORK/mnt-b" "$WORK/mnt-c" > "$WORK/timeouts.log" 2>&1 << 'PY'; then
import os, sys
a, b, c = sys.argv[1:4]
os.mkdir(f"{b}/t")
with open(f"{b}/t/f", "wb") as fh:
    fh.write(b"1")
bad = []
for m in (a, c):
    if os.stat(f"{m}/t/f").st_size != 1:
        bad.append(f"{m}: size before")
    if os.path.exists(f"{m}/t/g"):
        bad.append(f"{m}: g exists before")
with open(f"{b}/t/f", "ab") as fh:
    fh.write(b"2345")
open(f"{b}/t/g", "wb").close()
# attr_timeout=0, entry_timeout=0: asked again every time.
if os.stat(f"{a}/t/f").st_size != 5:
    bad.append(f"attr_timeout=0: size {os.stat(a + '/t/f').st_size} after another client grew it to 5")
if not os.path.exists(f"{a}/t/g"):
    bad.append("entry_timeout=0: a file another client created is absent")
# 60 s: the kernel answers from what it saw a moment ago.
if os.stat(f"{c}/t/f").st_size != 1:
    bad.append(f"attr_timeout=60: size {os.stat(c + '/t/f').st_size}, want the cached 1")
if os.path.exists(f"{c}/t/g"):
    bad.append("entry_timeout=60: the absent name was not cached")
print("; ".join(bad) if bad else "timeouts 0 and 60 behave")
sys.exit(1 if bad else 0)
PY
    ok "$(cat "$WORK/timeouts.log")"
  else
    fail "cache timeouts: $(cat "$WORK/timeouts.log")"
  fi
fi
for entry in "${PIDS_ABC[@]}"; do
  MOUNT_PID=${entry#*:}
  stop_mount "$WORK/mnt-${entry%%:*}" "mount ${entry%%:*}"
done

# --- -f and signals: exit 0, the mount gone, fsynced data there after a remount.
# check_signal_end SIG DIR PID WHAT: PID got SIG; it must unmount DIR and exit 0.
check_signal_end() {
  wait_exit "$3"
  local rc=$?
  local good=1
  if mounted "$2"; then
    fail "SIG$1 to $4: $2 is still mounted after zerofs-mount ended (exit $rc): $(tail -2 "$WORK/mount.log")"
    umount "$2" 2> /dev/null || umount -l "$2"
    good=0
  fi
  if [ "$rc" -ne 0 ]; then
    fail "SIG$1 to $4: exit status $rc, want 0 (docs/mount.md)"
    good=0
  fi
  [ "$good" -eq 0 ] || ok "SIG$1 to $4: unmounted, exit 0"
}
for sig in TERM INT HUP; do
  start_mount "$ADDR" "$MNT" || continue
  python3 - "$MNT/sig-$sig" "$sig" << 'PY' || fail "SIG$sig: writing before the signal"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, f"written and fsynced before SIG{sys.argv[2]}\n".encode() * 1000)
os.fsync(fd)
os.close(fd)
dfd = os.open(os.path.dirname(sys.argv[1]), os.O_RDONLY)
os.fsync(dfd)
os.close(dfd)
PY
  kill "-$sig" "$MOUNT_PID"
  check_signal_end "$sig" "$MNT" "$MOUNT_PID" "zerofs-mount -f"
  MOUNT_PID=
done
if start_mount "$ADDR" "$MNT"; then
  for sig in TERM INT HUP; do
    want=$(python3 -c "import sys; sys.stdout.write('written and fsynced before SIG$sig\n' * 1000)" | sha256sum)
    got=$(sha256sum < "$MNT/sig-$sig" 2> /dev/null)
    [ "$got" = "$want" ] || fail "SIG$sig: the file fsynced before it differs after a remount"
  done
  stop_mount "$MNT" "remount after signals"
fi
# A relative MOUNTPOINT, as typed in a shell: SIGTERM unmounts it too.
echo "== (cd $WORK) zerofs-mount -f $ADDR mnt" >> "$WORK/mount.log"
(cd "$WORK" && exec env --default-signal=INT,QUIT "$ZEROFS_MOUNT" -f "$ADDR" mnt \
  >> "$WORK/mount.log" 2>&1) &
MOUNT_PID=$!
if wait_mounted "$MOUNT_PID" "$MNT"; then
  kill -TERM "$MOUNT_PID"
  check_signal_end TERM "$MNT" "$MOUNT_PID" "zerofs-mount -f with a relative mountpoint"
else
  fail "zerofs-mount -f $ADDR mnt (relative) did not mount: $(tail -3 "$WORK/mount.log")"
fi
MOUNT_PID=

# --- Without -f: returns once mounted; the background process ends at umount.
mkdir -p "$MNT"
if "$ZEROFS_MOUNT" "$ADDR" "$MNT" > "$WORK/daemon.log" 2>&1; then
  if ! mounted "$MNT"; then
    fail "zerofs-mount without -f returned 0 before the mount was there"
  else
    daemon=""
    for p in /proc/[0-9]*; do
      cmd=$(tr '\0' ' ' < "$p/cmdline" 2> /dev/null) || continue
      [ "$cmd" = "$ZEROFS_MOUNT $ADDR $MNT " ] && daemon=${p#/proc/}
    done
    [ -n "$daemon" ] || fail "no background zerofs-mount process for $MNT"
    echo "in the background" > "$MNT/daemon.txt" && [ "$(cat "$MNT/daemon.txt")" = "in the background" ] ||
      fail "a file on the background mount"
    umount "$MNT" || { fail "umount of the background mount"; umount -l "$MNT"; }
    for _ in $(seq 100); do [ -n "$daemon" ] && [ -d "/proc/$daemon" ] || break; sleep 0.1; done
    if [ -n "$daemon" ] && [ -d "/proc/$daemon" ]; then
      fail "background zerofs-mount (pid $daemon) still runs 10 s after umount"
      EXTRA_PIDS="${EXTRA_PIDS:-} $daemon"
    elif [ -n "$daemon" ]; then
      ok "without -f: returned once mounted, background process $daemon ended at umount"
    fi
  fi
else
  fail "zerofs-mount without -f: $(tail -3 "$WORK/daemon.log")"
fi

# --- As uid 65534: fusermount3 mounts, the server checks as that user.
UMNT=$WORK/user-mnt
if start_mount "$ADDR" "$MNT"; then
  mkdir "$MNT/home" "$MNT/private" && chown "$USER_ID:$USER_ID" "$MNT/home" &&
    chmod 700 "$MNT/private" && echo "root's file" > "$MNT/root-file" &&
    chmod 644 "$MNT/root-file" && sync -f "$MNT" || fail "preparing the volume for uid $USER_ID"
  stop_mount "$MNT" "root mount before the user's"
fi
mkdir -p "$UMNT"
chown "$USER_ID:$USER_ID" "$UMNT"
as_user python3 -c pass || fail "python3 does not run as uid $USER_ID"
cat > "$WORK/user.py" << 'PY'
# user.py MNT UID: run as UID on its own mount of the volume.
import errno, os, sys
m, uid = sys.argv[1], int(sys.argv[2])
bad = []
def expect_errno(what, want, fn):
    try:
        fn()
        bad.append(f"{what}: succeeded, want {errno.errorcode[want]}")
    except OSError as e:
        if e.errno != want:
            bad.append(f"{what}: {errno.errorcode.get(e.errno, e.errno)}, want {errno.errorcode[want]}")
data = os.urandom(300000)
path = f"{m}/home/f"
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
os.write(fd, data)
os.fsync(fd)
os.close(fd)
with open(path, "rb") as fh:
    if fh.read() != data:
        bad.append("home/f reads back different bytes")
st = os.stat(path)
if (st.st_uid, st.st_gid) != (uid, uid):
    bad.append(f"home/f owned by {st.st_uid}:{st.st_gid}, want {uid}:{uid}")
os.mkdir(f"{m}/home/d")
os.rename(path, f"{m}/home/d/g")
os.symlink("d/g", f"{m}/home/link")
with open(f"{m}/home/link", "rb") as fh:
    if fh.read() != data:
        bad.append("reading through a symlink")
open(f"{m}/home/gone", "w").close()
os.unlink(f"{m}/home/gone")
with open(f"{m}/home/keep", "wb") as fh:
    fh.write(data)
    os.fsync(fh.fileno())
with open(f"{m}/root-file") as fh:
    if fh.read() != "root's file\n":
        bad.append("reading root's file")
expect_errno("create in root's directory", errno.EACCES,
             lambda: os.open(f"{m}/mine", os.O_WRONLY | os.O_CREAT, 0o644))
expect_errno("write to root's file", errno.EACCES, lambda: os.open(f"{m}/root-file", os.O_WRONLY))
expect_errno("list a 0700 directory of root", errno.EACCES, lambda: os.listdir(f"{m}/private"))
expect_errno("chown to root", errno.EPERM, lambda: os.chown(f"{m}/home/keep", 0, 0))
print("; ".join(bad) if bad else "created, renamed, linked, read and was refused as expected")
sys.exit(1 if bad else 0)
PY
chmod 644 "$WORK/user.py"
: > "$WORK/user-mount.log"
echo "== as uid $USER_ID: zerofs-mount -f $ADDR $UMNT" >> "$WORK/user-mount.log"
"${AS_USER[@]}" "$ZEROFS_MOUNT" -f "$ADDR" "$UMNT" >> "$WORK/user-mount.log" 2>&1 &
USER_PID=$!
EXTRA_PIDS="${EXTRA_PIDS:-} $USER_PID"
if wait_mounted "$USER_PID" "$UMNT"; then
  ok "uid $USER_ID mounted $UMNT: $(awk -v m="$UMNT" '$5 == m { print $6, $9, $10 }' /proc/self/mountinfo)"
  if as_user python3 "$WORK/user.py" "$UMNT" "$USER_ID" > "$WORK/user.log" 2>&1; then
    ok "as uid $USER_ID: $(tail -1 "$WORK/user.log")"
  else
    fail "as uid $USER_ID: $(tail -5 "$WORK/user.log")"
  fi
  # Without allow_other, FUSE lets no other user in, root included.
  if stat "$UMNT/root-file" > /dev/null 2> "$WORK/root-stat.log"; then
    fail "root could use uid $USER_ID's mount without allow_other"
  fi
  if as_user fusermount3 -u "$UMNT" > "$WORK/fusermount.log" 2>&1; then
    wait_exit "$USER_PID"
    rc=$?
    if [ "$rc" -ne 0 ]; then
      fail "zerofs-mount of uid $USER_ID exited with $rc after fusermount3 -u"
    elif mounted "$UMNT"; then
      fail "$UMNT still in /proc/self/mountinfo after fusermount3 -u"
    else
      ok "fusermount3 -u as uid $USER_ID: unmounted, zerofs-mount exited 0"
    fi
  else
    fail "fusermount3 -u as uid $USER_ID: $(cat "$WORK/fusermount.log")"
  fi
else
  fail "zerofs-mount as uid $USER_ID did not mount: $(tail -5 "$WORK/user-mount.log")"
fi
# SIGTERM to the user's zerofs-mount: libfuse unmounts through fusermount3.
echo "== as uid $USER_ID: zerofs-mount -f $ADDR $UMNT, then SIGTERM" >> "$WORK/user-mount.log"
"${AS_USER[@]}" "$ZEROFS_MOUNT" -f "$ADDR" "$UMNT" >> "$WORK/user-mount.log" 2>&1 &
USER_PID=$!
EXTRA_PIDS="${EXTRA_PIDS:-} $USER_PID"
if wait_mounted "$USER_PID" "$UMNT"; then
  as_user sh -c "echo sigterm > '$UMNT/home/sigterm'" || fail "as uid $USER_ID: a second mount"
  kill -TERM "$USER_PID"
  check_signal_end TERM "$UMNT" "$USER_PID" "uid $USER_ID's zerofs-mount -f"
else
  fail "zerofs-mount as uid $USER_ID did not mount again: $(tail -5 "$WORK/user-mount.log")"
fi
# allow_other as a user: fusermount3 allows it only with user_allow_other in fuse.conf.
"${AS_USER[@]}" timeout -k 5 30 "$ZEROFS_MOUNT" -f -o allow_other "$ADDR" "$UMNT" \
  > "$WORK/user-allow-other.log" 2>&1 &
ao_pid=$!
if grep -qs '^[[:space:]]*user_allow_other' /etc/fuse.conf; then
  if wait_mounted "$ao_pid" "$UMNT"; then
    ok "-o allow_other as uid $USER_ID (user_allow_other is set)"
    as_user fusermount3 -u "$UMNT" || fail "fusermount3 -u of the allow_other mount"
  else
    fail "-o allow_other as uid $USER_ID with user_allow_other: $(tail -3 "$WORK/user-allow-other.log")"
  fi
  wait_exit "$ao_pid"
else
  wait_exit "$ao_pid"
  rc=$?
  if [ "$rc" -eq 1 ] && ! mounted "$UMNT"; then
    ok "-o allow_other as uid $USER_ID refused: $(grep -v '^$' "$WORK/user-allow-other.log" | tail -1)"
  else
    fail "-o allow_other as uid $USER_ID without user_allow_other: exit $rc, want 1"
    mounted "$UMNT" && umount "$UMNT"
  fi
fi

# What the user wrote is there for root, owned by the user; aname= mounts that directory.
if start_mount "$ADDR" "$MNT" -o aname=home; then
  owner=$(stat -c %u:%g "$MNT/keep" 2> /dev/null)
  [ "$owner" = "$USER_ID:$USER_ID" ] || fail "-o aname=home: keep owned by '$owner'"
  cmp -s "$MNT/keep" "$MNT/d/g" || fail "-o aname=home: the user's files differ"
  [ -e "$MNT/root-file" ] && fail "-o aname=home shows the volume's root"
  [ "$(readlink "$MNT/link")" = d/g ] || fail "-o aname=home: the user's symlink"
  stop_mount "$MNT" "-o aname=home"
fi

grep -q "giving up" "$WORK/mount.log" && fail "zerofs-mount lost the server"
if [ "$failures" -ne 0 ]; then
  echo "--- mount.log"; tail -20 "$WORK/mount.log"
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
