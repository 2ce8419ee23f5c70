#!/usr/bin/env bash
# nfs-load-smoke.sh ZEROFS_NFS ZEROFS NFS_LOAD WORK_DIR: a short run of nfs_load against
# zerofs-nfs on a file:// volume, to prove the benchmark works; its numbers are not asserted.
#   - a run with 4 connections passes and prints its three rows with the data read back ok
#   - a run with --tamper (one byte of a small and of a large file changed after writing)
#     fails and names both files: the read-back check can fail
#   - the server saw an UNSTABLE write and a COMMIT for every small file (libnfs commits at
#     close, as a Linux client does; the benchmark counts on it)
set -uo pipefail
zerofs_nfs=$1 zerofs=$2 nfs_load=$3 work=$4
. "$(dirname "$0")/../protocols/nfs/nfs-test-lib.sh"
trap 'nfs_stop KILL > /dev/null 2>&1' EXIT
rm -rf "$work" && mkdir -p "$work"
nfs_init_volume "$zerofs" "$work" || exit 1
nfs_start "$zerofs_nfs" "$work" "$work/server.log" || exit 1

timeout 60 "$nfs_load" --port "$NFS_PORT" --connections 4 --files 200 --mib 8 --io-kib 256 \
  > "$work/good.txt" 2>&1
rc=$?
sed 's/^/  nfs_load: /' "$work/good.txt"
if [ "$rc" -eq 0 ]; then ok "nfs_load with 4 connections"; else fail "nfs_load exit status $rc"; fi
for row in small-files seq-write seq-read; do
  grep -Eq "^$row +4 .*(read back ok|fsync ok)$" "$work/good.txt" || fail "no passing $row row"
done

timeout 60 "$nfs_load" --port "$NFS_PORT" --connections 2 --files 10 --mib 2 --tamper \
  --dir /tampered > "$work/tamper.txt" 2>&1
rc=$?
sed 's/^/  nfs_load --tamper: /' "$work/tamper.txt"
if [ "$rc" -eq 1 ]; then
  ok "nfs_load --tamper fails"
else
  fail "nfs_load --tamper exit status $rc"
fi
grep -q "FAIL: /tampered/c0/f0: data read back differs" "$work/tamper.txt" ||
  fail "the changed small file was not reported"
grep -q "FAIL: /tampered/seq-0: data read back differs" "$work/tamper.txt" ||
  fail "the changed large file was not reported"

nfs_stop TERM || fail "zerofs-nfs exit status $? after SIGTERM"
stats=$(grep -o '"commits":[0-9]*.*"writes_unstable":[0-9]*' "$work/server.log")
commits=$(echo "$stats" | sed -n 's/.*"commits":\([0-9]*\).*/\1/p')
unstable=$(echo "$stats" | sed -n 's/.*"writes_unstable":\([0-9]*\).*/\1/p')
# Each small file must cost a COMMIT (libnfs sends it at close): 200 + 10 small files, and
# for each of the 6 large files and 2 tampered ones an fsync plus a COMMIT at close.
if [ "${commits:-0}" -ge 226 ] && [ "${unstable:-0}" -ge 226 ]; then
  ok "the server saw $unstable UNSTABLE writes and $commits COMMITs"
else
  fail "server stats: expected >= 226 COMMITs and UNSTABLE writes, got: ${stats:-none}"
fi
if grep -q "protocol violation" "$work/server.log"; then
  fail "the server saw protocol violations:"; grep "protocol violation" "$work/server.log"
fi
if [ "$failures" -ne 0 ]; then
  echo "nfs-load-smoke: $failures failures; server log:"; sed 's/^/  server: /' "$work/server.log"
  exit 1
fi
echo "nfs-load-smoke: all passed"
