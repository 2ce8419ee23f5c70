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
  "$zerofs_nbd" "$@" > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
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
