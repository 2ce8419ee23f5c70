#!/usr/bin/env bash
# e2e-durability.sh ZEROFS_NFS ZEROFS CLIENT WORK_DIR: honest COMMIT across a crash.
# An UNSTABLE write that was never committed, then SIGKILL: the restarted server answers
# with another write verifier (so a client knows to resend). A write that was committed
# before the SIGKILL is there after the restart.
set -uo pipefail
zerofs_nfs=$1 zerofs=$2 client=$3 work=$4
. "$(dirname "$0")/nfs-test-lib.sh"
trap 'nfs_stop KILL > /dev/null 2>&1' EXIT
rm -rf "$work" && mkdir -p "$work"
nfs_init_volume "$zerofs" "$work" || exit 1
verifiers() { sed -n 's/^verifier //p' "$1"; }

for round in 1 2 3; do
  nfs_start "$zerofs_nfs" "$work" "$work/server$round.log" || exit 1
  timeout 60 "$client" unstable 127.0.0.1 "$NFS_PORT" "/lost$round" "never committed $round" \
    > "$work/unstable$round.txt" 2>&1 || fail "unstable write: $(cat "$work/unstable$round.txt")"
  timeout 60 "$client" commit 127.0.0.1 "$NFS_PORT" "/kept$round" "committed $round" \
    > "$work/commit$round.txt" 2>&1 || fail "write + commit: $(cat "$work/commit$round.txt")"
  v_unstable=$(verifiers "$work/unstable$round.txt")
  v_commit=$(verifiers "$work/commit$round.txt" | sort -u)
  [ -n "$v_unstable" ] && [ "$v_unstable" = "$v_commit" ] ||
    fail "round $round: WRITE and COMMIT verifiers differ: '$v_unstable' vs '$v_commit'"
  # Crash: no chance to flush anything.
  kill -9 "$NFS_PID"; wait "$NFS_PID" 2> /dev/null; NFS_PID=""

  # The dead server's lease is still fresh: take the volume over, as an operator would.
  nfs_start "$zerofs_nfs" "$work" "$work/server$round-after.log" --takeover || exit 1
  timeout 60 "$client" verifier 127.0.0.1 "$NFS_PORT" "/kept$round" > "$work/after$round.txt" 2>&1 ||
    fail "COMMIT after the restart: $(cat "$work/after$round.txt")"
  v_after=$(verifiers "$work/after$round.txt")
  if [ -n "$v_after" ] && [ "$v_after" != "$v_unstable" ]; then
    ok "round $round: the verifier changed across the crash ($v_unstable -> $v_after)"
  else
    fail "round $round: verifier '$v_after' after the crash, '$v_unstable' before"
  fi
  for r in $(seq 1 "$round"); do
    got=$(timeout 60 "$client" cat 127.0.0.1 "$NFS_PORT" "/kept$r" 2>&1)
    [ "$got" = "committed $r" ] || fail "round $round: /kept$r after the crash: '$got'"
  done
  ok "round $round: every committed file is intact after the crash"
  nfs_stop TERM || fail "round $round: exit status after SIGTERM"
done

if [ "$failures" -ne 0 ]; then
  echo "e2e-durability: $failures failures"; tail -20 "$work/server1.log" | sed 's/^/  server: /'
  exit 1
fi
echo "e2e-durability: all passed"
