#!/usr/bin/env bash
# zerofs-9p under the Linux kernel's v9fs client (in the QEMU guest of tests/vm): a
# file:// volume made by `zerofs init`, served on 127.0.0.1, mounted in the guest with
# trans=tcp,version=9p2000.L,access=user. First boot: the POSIX suite (profile 9p, as root
# and as an unprivileged user), a source tree copied onto the mount and back with equal
# checksums, and flock(1) through two mounts (two connections) conflicting. Then the
# server is stopped (SIGTERM, which closes the volume) and started again, and a second boot
# finds the same tree and a token file on the mount. Every step runs even after a failure.
#   ninep-vm.sh ZEROFS_CLI ZEROFS_9P POSIX_SUITE WORK_DIR TREE_CACHE MAX_FILES
set -euo pipefail
zerofs=$1 server=$2 suite=$3 work=$4 tree_cache=$5 max_files=$6
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
me=ninep-vm
t0=$(date +%s)
elapsed() { echo "$(($(date +%s) - t0))s"; }

rm -rf "$work"
mkdir -p "$work/bucket" "$work/cache"
# The guest shares the host's /tmp: its scratch directory lives there.
guest_work=$(mktemp -d /tmp/zerofs-ninep-vm.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  rm -rf "$guest_work"
}
trap cleanup EXIT

# The tree to copy: the first MAX_FILES files of Debian's linux-source, cached across runs.
files=$("$repo/tests/posix/source-tree.sh" "$tree_cache" "$max_files")
echo "$me: source tree $tree_cache: $files files ($(elapsed))"

cat >"$work/zerofs.toml" <<TOML
[storage]
url = "file://$work/bucket"
password = "\${ZEROFS_PASSWORD}"

[cache]
dir = "$work/cache"
TOML
ZEROFS_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export ZEROFS_PASSWORD
"$zerofs" init --config "$work/zerofs.toml" --argon2-opslimit 1 --argon2-memlimit-mib 8 \
  >"$work/init.log" 2>&1 || { cat "$work/init.log"; echo "$me: FAIL: zerofs init"; exit 1; }

port=
start_server() { # LOG
  local log=$1 p
  for _ in $(seq 20); do
    p=$((20000 + RANDOM % 40000))
    [ -z "$(ss -Hltn "sport = :$p")" ] || continue
    : >"$log"
    setpriv --pdeathsig KILL "$server" --config "$work/zerofs.toml" --listen "127.0.0.1:$p" \
      --log-level info >"$log" 2>&1 </dev/null &
    server_pid=$!
    for _ in $(seq 300); do
      if grep -q "9p: serving" "$log"; then port=$p; return 0; fi
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      cat "$log"; echo "$me: FAIL: the server did not start"; exit 1
    fi
    wait "$server_pid" || true
    server_pid=
    grep -q "Address already in use\|address in use" "$log" || { cat "$log"; exit 1; }
  done
  echo "$me: FAIL: no free port"; exit 1
}
stop_server() { # LOG
  kill -TERM "$server_pid"
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=
  if [ "$rc" -ne 0 ] || ! grep -q "9p: volume closed" "$1"; then
    tail -20 "$1"; echo "$me: FAIL: the server exited with $rc or did not close the volume"
    exit 1
  fi
}
guest() { # PHASE TIMEOUT
  ZEROFS_VM_WORK=$guest_work ZEROFS_VM_TIMEOUT=$2 \
    "$repo/tests/vm/run-in-guest" -e NINEP_PORT="$port" -e NINEP_PHASE="$1" \
    -e NINEP_SUITE="$suite" -e NINEP_TREE="$tree_cache" -e NINEP_REPO="$repo" \
    "$here/ninep-vm-guest.sh"
}

start_server "$work/server1.log"
echo "$me: zerofs-9p on 127.0.0.1:$port ($(elapsed))"
failed=()
rc=0
guest 1 360 || rc=$?
stop_server "$work/server1.log"
[ "$rc" -eq 0 ] || failed+=("first boot ($rc)")
echo "$me: server stopped, volume closed ($(elapsed)); restarting"

# Whatever the first boot found, the restart is checked too.
start_server "$work/server2.log"
rc=0
guest 2 150 || rc=$?
stop_server "$work/server2.log"
[ "$rc" -eq 0 ] || failed+=("second boot ($rc)")
if grep -q "protocol violation" "$work"/server*.log; then
  grep "protocol violation" "$work"/server*.log | head
  failed+=("protocol violations")
fi
if [ "${#failed[@]}" -ne 0 ]; then
  grep -hE " [WE] " "$work"/server*.log | tail -20 || true
  echo "$me: FAIL: ${failed[*]} after $(elapsed)"
  exit 1
fi
echo "$me: PASS in $(elapsed) ($files files)"
