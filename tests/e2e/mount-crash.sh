#!/usr/bin/env bash
# mount-crash.sh ZEROFS ZEROFS_9P ZEROFS_MOUNT POSIX_SUITE FSX TREE_DIR WORK
#
# zerofs-9p killed with SIGKILL under a mounted zerofs-mount and restarted on the same
# port while a tree copy runs:
#  - the mount reconnects by itself (no remount) and works afterwards;
#  - the copy either finishes or fails with an error message, never hangs;
#  - every file fsynced before the kill is intact;
#  - a file with writes not fsynced before the kill gets EIO from its next fsync, and a
#    later fsync of new writes succeeds.
set -uo pipefail
ZEROFS_CLI=$1 ZEROFS_9P=$2 ZEROFS_MOUNT=$3 TREE=$6 WORK=$7
POSIX=$(cd "$(dirname "$0")/../posix" && pwd)
source "$(dirname "$0")/mount-lib.sh"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

rm -rf "$WORK"
mkdir -p "$WORK/bucket"
MNT=$WORK/mnt
trap 'cleanup_all "$MNT"; [ -n "${WRITER_PID:-}" ] && kill "$WRITER_PID" 2>/dev/null' EXIT
export ZEROFS_PASSWORD=mount-crash-password
write_config "file://$WORK/bucket"
init_volume || { echo "FAIL: zerofs init"; exit 1; }
count=$("$POSIX/source-tree.sh" "$TREE" 2000) || { echo "FAIL: source-tree.sh"; exit 1; }
PORT=$(free_port)
start_server "$PORT" || exit 1
mount_fs "$PORT" "$MNT" "reconnect_timeout=60" || exit 1

# Files made durable before the crash: written, fsynced, checksummed.
mkdir -p "$MNT/durable" && python3 - "$MNT/durable" <<'PY' || fail "writing the durable files"
import os, sys
d = sys.argv[1]
for i in range(20):
    data = os.urandom(1000 + i * 37000)
    fd = os.open(f"{d}/f{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.fsync(fd)
    os.close(fd)
dfd = os.open(d, os.O_RDONLY)
os.fsync(dfd)
os.close(dfd)
PY
(cd "$MNT/durable" && sha256sum f*) > "$WORK/durable.sha256"

# A writer that keeps a file open with unsynced writes across the crash, then fsyncs on
# SIGUSR1: that fsync must fail with EIO; a second write + fsync must succeed.
python3 - "$MNT/unsynced" "$WORK/writer.out" <<'PY' &
import os, signal, sys, time
path, out = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.fsync(fd)  # the file itself exists for sure
os.write(fd, b"x" * 100000)
go = []
signal.signal(signal.SIGUSR1, lambda *a: go.append(1))
open(out + ".ready", "w").close()
while not go:
    time.sleep(0.05)
result = []
try:
    os.fsync(fd)
    result.append("first-fsync=ok")
except OSError as e:
    result.append("first-fsync=" + os.strerror(e.errno))
try:
    os.pwrite(fd, b"y" * 1000, 0)
    os.fsync(fd)
    result.append("second-fsync=ok")
except OSError as e:
    result.append("second-fsync=" + os.strerror(e.errno))
open(out, "w").write(" ".join(result) + "\n")
PY
WRITER_PID=$!
for _ in $(seq 100); do [ -f "$WORK/writer.out.ready" ] && break; sleep 0.1; done
[ -f "$WORK/writer.out.ready" ] || fail "writer did not start"

# A copy running while the server dies.
# The kill comes once a tenth of the files are there, so that it lands in the middle of the
# copy; a copy that ended before that proves nothing and fails the test.
total_files=$(find "$TREE" -type f | wc -l)
cp -a "$TREE/." "$MNT/copy" > "$WORK/cp.log" 2>&1 &
CP_PID=$!
copied=0
for _ in $(seq 1200); do
  copied=$(find "$MNT/copy" -type f 2>/dev/null | wc -l)
  [ "$copied" -ge $((total_files / 10)) ] && break
  kill -0 "$CP_PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$CP_PID" 2>/dev/null ||
  fail "the copy ended before the kill ($copied of $total_files files): nothing was tested"
echo "killing zerofs-9p (pid $SERVER_PID) with SIGKILL, $copied of $total_files files copied"
stop_server KILL
sleep 1
# The killed server's writer lease is still fresh, but it names a process of this host that
# is gone: the restart takes the volume over without --takeover (docs/operations.md).
start_server "$PORT" || exit 1

# The copy finishes or fails by itself, within bounds.
cp_rc=
for _ in $(seq 1200); do
  if ! kill -0 "$CP_PID" 2>/dev/null; then wait "$CP_PID"; cp_rc=$?; break; fi
  sleep 0.1
done
if [ -z "$cp_rc" ]; then
  fail "the copy still runs 120 s after the restart"
  kill "$CP_PID"
elif [ "$cp_rc" -eq 0 ]; then
  echo "copy finished after the reconnect"
else
  [ -s "$WORK/cp.log" ] || fail "cp failed ($cp_rc) without a message"
  echo "copy failed loudly ($cp_rc): $(head -3 "$WORK/cp.log")"
fi

kill -USR1 "$WRITER_PID"
wait "$WRITER_PID"
WRITER_PID=
result=$(cat "$WORK/writer.out" 2>/dev/null)
echo "writer: $result"
case "$result" in
  *"first-fsync=Input/output error"*) ;;
  *) fail "fsync covering writes made before the crash: expected EIO, got '$result'" ;;
esac
case "$result" in
  *"second-fsync=ok"*) ;;
  *) fail "fsync of new writes after the reported error: '$result'" ;;
esac

(cd "$MNT/durable" && sha256sum -c --quiet "$WORK/durable.sha256") > "$WORK/durable.check" 2>&1 ||
  fail "fsynced files changed by the crash: $(head -5 "$WORK/durable.check")"

# The mount still works: a new file round-trips, the copy can be redone.
echo "after the crash" > "$MNT/after" && [ "$(cat "$MNT/after")" = "after the crash" ] ||
  fail "a new file after the reconnect"
rm -rf "$MNT/copy2"
"$POSIX/tree-copy.sh" "$TREE" "$MNT/copy2" > "$WORK/copy2.log" 2>&1 ||
  fail "a copy after the reconnect: $(tail -10 "$WORK/copy2.log")"
grep -E '^tree-(copy|check):' "$WORK/copy2.log"
grep -q "reconnected to" "$WORK/mount.log" || fail "zerofs-mount logged no reconnect"
unmount_fs "$MNT" || fail "unmount"
if [ "$failures" -ne 0 ]; then
  echo "--- mount.log"; tail -20 "$WORK/mount.log"
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
