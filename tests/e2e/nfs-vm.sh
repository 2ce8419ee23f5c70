#!/usr/bin/env bash
# zerofs-nfs under the Linux kernel's NFSv3 client (in the QEMU guest of tests/vm): a
# file:// volume made by `zerofs init`, served on 127.0.0.1, mounted in the guest with
# vers=3,proto=tcp,nolock,port=P,mountport=P. One boot: the POSIX suite (profile nfs, as
# root and as an unprivileged user), a source tree copied onto the mount and back with
# equal checksums, then stress.sh for a few seconds. The server then stops on SIGTERM,
# closing the volume, and a second server finds the tree intact (through libnfs's nfs-ls).
#   nfs-vm.sh ZEROFS_CLI ZEROFS_NFS POSIX_SUITE WORK_DIR TREE_CACHE MAX_FILES STRESS_SECONDS
set -euo pipefail
zerofs=$1 server=$2 suite=$3 work=$4 tree_cache=$5 max_files=$6 stress_seconds=$7
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
me=nfs-vm
t0=$(date +%s)
elapsed() { echo "$(($(date +%s) - t0))s"; }

rm -rf "$work"
mkdir -p "$work/bucket" "$work/cache"
# The guest shares the host's /tmp: its scratch directory lives there.
guest_work=$(mktemp -d /tmp/zerofs-nfs-vm.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  rm -rf "$guest_work"
}
trap cleanup EXIT

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
  local log=$1
  setpriv --pdeathsig KILL "$server" --config "$work/zerofs.toml" --listen 127.0.0.1:0 \
    >"$log" 2>&1 </dev/null &
  server_pid=$!
  for _ in $(seq 300); do
    port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/.*://' || true)
    if [ -n "$port" ] && grep -q "nfs: serving" "$log"; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log"; echo "$me: FAIL: the server did not start"; exit 1
}
stop_server() { # LOG
  kill -TERM "$server_pid"
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=
  if [ "$rc" -ne 0 ] || ! grep -q "nfs: volume closed" "$1"; then
    tail -20 "$1"; echo "$me: FAIL: the server exited with $rc or did not close the volume"
    exit 1
  fi
}

start_server "$work/server1.log"
echo "$me: zerofs-nfs on 127.0.0.1:$port ($(elapsed))"
rc=0
ZEROFS_VM_WORK=$guest_work ZEROFS_VM_TIMEOUT=${ZEROFS_VM_TIMEOUT:-480} \
  "$repo/tests/vm/run-in-guest" -e NFS_PORT="$port" -e NFS_SUITE="$suite" \
  -e NFS_TREE="$tree_cache" -e NFS_REPO="$repo" -e NFS_STRESS="$stress_seconds" \
  "$here/nfs-vm-guest.sh" || rc=$?
stop_server "$work/server1.log"
grep "nfs: stats" "$work/server1.log" || true
if [ "$rc" -ne 0 ]; then
  grep -E " [WE] " "$work/server1.log" | tail -20 || true
  echo "$me: FAIL: guest ($rc) after $(elapsed)"; exit 1
fi
if grep -q "protocol violation" "$work/server1.log"; then
  grep "protocol violation" "$work/server1.log" | head; echo "$me: FAIL: protocol violations"
  exit 1
fi

# After the restart the tree is still there: compare the file count through libnfs.
start_server "$work/server2.log"
listed=$(timeout 120 nfs-ls -R "nfs://127.0.0.1/tree?version=3&nfsport=$port&mountport=$port" \
  2>/dev/null | grep -c '^-' || true)
stop_server "$work/server2.log"
expected=$(find "$tree_cache" -type f | wc -l)
if [ "$listed" -ne "$expected" ]; then
  echo "$me: FAIL: after a restart nfs-ls -R lists $listed files, expected $expected"; exit 1
fi
echo "$me: after a restart the tree holds its $listed files ($(elapsed))"
echo "$me: PASS in $(elapsed) ($files files)"
