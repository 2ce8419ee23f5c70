# Sourced by the NBD end-to-end tests: starts zerofs-nbd on a free loopback port, records
# failures, and always kills the server on exit. Needs $zerofs_nbd and $work.
set -uo pipefail
failures=0
server_pid=""
port=""

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -9 "$server_pid" 2>/dev/null
  fi
}
trap cleanup EXIT

need() {  # need PROGRAM...: a missing client is a failure, never a skip
  for p in "$@"; do
    command -v "$p" > /dev/null || { echo "FAIL: $p not installed (scripts/install-deps.sh test)"; exit 1; }
  done
}

# The python3 with libnbd's bindings (Debian's python3-libnbd lives in /usr/bin/python3,
# which another python3 earlier on PATH may shadow).
find_nbd_python() {
  for py in /usr/bin/python3 python3; do
    if "$py" -c 'import nbd' 2> /dev/null; then echo "$py"; return 0; fi
  done
  echo "FAIL: no python3 with the nbd module (python3-libnbd)" >&2
  return 1
}

# start_server ARGS...: runs zerofs-nbd ARGS in the background; sets server_pid and, when
# it listens on TCP, port.
start_server() {
  # A restarted server's log follows the earlier ones in server-previous.log.
  [ -f "$work/server.log" ] && cat "$work/server.log" >> "$work/server-previous.log"
  "$zerofs_nbd" "$@" > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do
    if grep -q "listening on" "$work/server.log"; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if ! grep -q "listening on" "$work/server.log"; then
    echo "FAIL: zerofs-nbd did not start"
    sed 's/^/  server: /' "$work/server.log"
    exit 1
  fi
  port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/server.log" | head -1 | sed 's/.*://')
}

# stop_server: SIGTERM, which must end the server cleanly within 15 s.
stop_server() {
  kill -TERM "$server_pid"
  for _ in $(seq 150); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    fail "server still running 15 s after SIGTERM"
    kill -9 "$server_pid"
  fi
  wait "$server_pid"
  local rc=$?
  [ "$rc" -eq 0 ] && ok "server exited cleanly on SIGTERM" || fail "server exit status $rc"
  server_pid=""
}

finish() {
  if grep -q "protocol violation" "$work/server.log"; then
    fail "the server saw a protocol violation from a real client"
    grep "protocol violation" "$work/server.log" | sed 's/^/  server: /'
  fi
  if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s); server log:"
    sed 's/^/  server: /' "$work/server.log" | tail -40
    exit 1
  fi
  echo "all checks passed"
}

# mbps BYTES SECONDS
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", b / 1048576 / s }'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# init_volume: a fresh file:// volume in $work/bucket with its config $work/zerofs.toml
# (cache in $work/cache, password from ZEROFS_PASSWORD, cheap key derivation). Needs $zerofs.
init_volume() {
  rm -rf "$work/bucket" "$work/cache"
  mkdir -p "$work/bucket"
  cat > "$work/zerofs.toml" << TOML
[storage]
url = "file://$work/bucket"
password = "\${ZEROFS_PASSWORD}"
[cache]
dir = "$work/cache"
TOML
  export ZEROFS_PASSWORD="nbd-e2e-password"
  "$zerofs" init --config "$work/zerofs.toml" --argon2-opslimit 1 --argon2-memlimit-mib 8 \
    > /dev/null || { echo "FAIL: zerofs init"; exit 1; }
}

# create_export NAME SIZE: `zerofs nbd create` on the stopped volume.
create_export() {
  "$zerofs" nbd create --config "$work/zerofs.toml" "$1" "$2" > /dev/null ||
    { echo "FAIL: zerofs nbd create $1 $2"; exit 1; }
}

# start_volume_server [ARGS...]: zerofs-nbd on the volume, on a free loopback port (which
# stays the same across restarts of the same test, so clients can reconnect).
start_volume_server() {
  local listen="127.0.0.1:${port:-0}"
  start_server --config "$work/zerofs.toml" --listen "$listen" "$@"
}

# kill_server: SIGKILL, as a crash.
kill_server() {
  kill -9 "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
}

# Block devices on the host: nbdfuse exposes an export as the file $work/fuse/nbd, and a
# loop device over that file is a real block device the kernel can mount. Everything is
# undone on exit (detach_all), even after a failure.
fuse_pid=""
loop_dev=""
mounted=""

# attach_export EXPORT: $work/fuse/nbd becomes the export (nbdfuse).
attach_export() {
  mkdir -p "$work/fuse"
  nbdfuse "$work/fuse" "nbd://127.0.0.1:$port/$1" > "$work/nbdfuse.log" 2>&1 &
  fuse_pid=$!
  for _ in $(seq 100); do [ -f "$work/fuse/nbd" ] && return 0; sleep 0.1; done
  fail "nbdfuse did not attach $1"
  cat "$work/nbdfuse.log"
  exit 1
}

# attach_loop EXPORT: attach_export, then loop_dev is a loop device over it.
attach_loop() {
  attach_export "$1"
  loop_dev=$(losetup -f --show "$work/fuse/nbd") || { fail "losetup"; exit 1; }
}

# mount_loop DIR [OPTIONS]: mounts loop_dev on DIR.
mount_loop() {
  mkdir -p "$1"
  timeout 120 mount ${2:+-o "$2"} "$loop_dev" "$1" || { fail "mount $loop_dev $1"; return 1; }
  mounted=$1
}

umount_loop() {
  if [ -n "$mounted" ]; then
    timeout 120 umount "$mounted" || { fail "umount $mounted"; umount -l "$mounted"; }
    mounted=""
  fi
}

detach_loop() {
  umount_loop
  if [ -n "$loop_dev" ]; then
    losetup -d "$loop_dev" || fail "losetup -d $loop_dev"
    loop_dev=""
  fi
}

detach_export() {
  detach_loop
  if [ -n "$fuse_pid" ]; then
    fusermount3 -u "$work/fuse" 2>/dev/null
    timeout 30 tail --pid="$fuse_pid" -f /dev/null 2>/dev/null || kill -9 "$fuse_pid" 2>/dev/null
    wait "$fuse_pid" 2>/dev/null
    fuse_pid=""
  fi
}

# After a crash of the server: let go of everything without waiting on it.
detach_all() {
  [ -n "$mounted" ] && { umount -l "$mounted" 2>/dev/null; mounted=""; }
  [ -n "$loop_dev" ] && { losetup -d "$loop_dev" 2>/dev/null; loop_dev=""; }
  if [ -n "$fuse_pid" ]; then
    fusermount3 -uz "$work/fuse" 2>/dev/null
    kill -9 "$fuse_pid" 2>/dev/null
    wait "$fuse_pid" 2>/dev/null
    fuse_pid=""
  fi
}

# live_bytes: the sealed bytes of extents the volume's durable state refers to (the sum of
# the segments' live-byte counters), as `zerofs gc --dry-run` reports them from a read
# replica (so it works while the server runs).
live_bytes() {
  "$zerofs" gc --config "$work/zerofs.toml" --dry-run --json 2> "$work/gc.err" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["before"]["live_bytes"])' ||
    { cat "$work/gc.err" >&2; echo -1; }
}
