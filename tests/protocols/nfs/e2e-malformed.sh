#!/usr/bin/env bash
# e2e-malformed.sh ZEROFS_NFS ZEROFS WORK_DIR: zerofs-nfs on a fresh file:// volume under
# malformed ONC RPC (e2e-malformed.py: truncated and oversized records, wrong program,
# version, rpcvers and procedure, garbage arguments, bad credentials, REPLY messages, seeded
# random bytes, fragmented and slow records) while a well-behaved connection keeps being
# answered; then libnfs-utils still list and read the export, and the server exits cleanly
# on SIGTERM. ZEROFS_TEST_SEED replays the random part.
set -uo pipefail
zerofs_nfs=$1 zerofs=$2 work=$3
here=$(dirname "$0")
. "$here/nfs-test-lib.sh"
trap 'nfs_stop KILL > /dev/null 2>&1' EXIT
for p in python3 nfs-ls nfs-cp nfs-cat timeout; do
  command -v "$p" > /dev/null || { echo "FAIL: $p not installed (scripts/install-deps.sh test)"; exit 1; }
done
idle_s=2
rm -rf "$work" && mkdir -p "$work"
nfs_init_volume "$zerofs" "$work" || exit 1
nfs_start "$zerofs_nfs" "$work" "$work/server.log" --idle-timeout "$idle_s" || exit 1
q="version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT"
echo "hello from before the malformed calls" > "$work/hello.txt"
timeout 30 nfs-cp "$work/hello.txt" "nfs://127.0.0.1//hello.txt?$q" > "$work/cp.txt" 2>&1 ||
  { echo "FAIL: nfs-cp hello.txt: $(cat "$work/cp.txt")"; exit 1; }

if timeout 300 python3 "$here/e2e-malformed.py" --port "$NFS_PORT" --pid "$NFS_PID" \
     --idle-timeout "$idle_s" --expect-entry hello.txt; then
  ok "e2e-malformed.py"
else
  fail "e2e-malformed.py (exit status $?)"
fi

if timeout 30 nfs-cat "nfs://127.0.0.1//hello.txt?$q" > "$work/hello.back" 2> "$work/cat.err" &&
   cmp -s "$work/hello.txt" "$work/hello.back"; then
  ok "nfs-cat reads hello.txt back"
else
  fail "nfs-cat hello.txt: $(cat "$work/cat.err")"
fi
# The records that are no call closed their connections with a log line each.
violations=$(grep -c "protocol violation" "$work/server.log")
if [ "$violations" -gt 0 ]; then
  ok "$violations connections closed for protocol violations (logged)"
else
  fail "no protocol violation was logged"
fi
# A handler that threw (SYSTEM_ERR) or a connection that died of an exception is logged.
failed_re="nfs: connection [0-9]+ failed|procedure [0-9]+ failed"
if grep -Eq "$failed_re" "$work/server.log"; then
  fail "the server logged failures:"; grep -E "$failed_re" "$work/server.log"
fi
if nfs_stop TERM; then ok "clean exit on SIGTERM"; else fail "exit status $? after SIGTERM"; fi
grep -q "nfs: volume closed" "$work/server.log" || fail "the volume was not closed on SIGTERM"

if [ "$failures" -ne 0 ]; then
  echo "e2e-malformed: $failures failures; server warnings and errors (the expected protocol"
  echo "violations left out; all in $work/server.log):"
  grep -E " [WE] " "$work/server.log" | grep -v "protocol violation" | sed 's/^/  server: /' |
    head -100
  exit 1
fi
echo "e2e-malformed: all passed"
