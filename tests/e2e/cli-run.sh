#!/usr/bin/env bash
# cli-run.sh ZEROFS WORK_DIR
#
# `zerofs run` serving NFS, 9P and NBD in one process, and the commands that reach it through
# its control socket: stats, flush, nbd create/list/resize/delete, checkpoint create/list,
# gc, and metrics; then SIGTERM, a clean close, and the checkpoint served read-only.
set -uo pipefail
zerofs=$1
work=$2
. "$(dirname "$0")/cli-lib.sh"
# A missing client is a failure, never a skip.
command -v nbdinfo > /dev/null || { echo "FAIL: nbdinfo not installed (scripts/install-deps.sh test)"; exit 1; }
make_volume
add_run_config '[metrics]
listen = "127.0.0.1:0"'
cfg=(--config "$work/zerofs.toml")

run_pid=""
trap '[ -n "$run_pid" ] && kill -KILL "$run_pid" 2> /dev/null' EXIT
start_run
for proto in nfs 9p nbd; do
  grep -Eq "^$proto 127\.0\.0\.1:[0-9]+$" "$work/run.out" || fail "zerofs run printed no $proto address"
done
[ "$(stat -c %a "$work/control.sock")" = 600 ] || fail "control socket mode $(stat -c %a "$work/control.sock")"

expect 0 "stats through the control socket" -- "$zerofs" stats "${cfg[@]}" --json
out_has '"nbd"' "stats lists the nbd protocol"
out_has '"live_bytes"' "stats reports space"
expect 0 "flush" -- "$zerofs" flush "${cfg[@]}"
out_has "durable through seq" "flush output"

# NBD exports through the running server (it is not fenced; the export is served at once).
expect 0 "nbd create through the server" -- "$zerofs" nbd create disk1 64M "${cfg[@]}"
expect 0 "nbd list through the server" -- "$zerofs" nbd list "${cfg[@]}" --json
out_has '"name": "disk1"' "nbd list shows disk1"
expect 0 "nbd resize through the server" -- "$zerofs" nbd resize disk1 128M "${cfg[@]}"
expect 1 "nbd create of an existing name" -- "$zerofs" nbd create disk1 64M "${cfg[@]}"
err_has "exists" "duplicate export message"
nbd_addr=$(sed -n 's/^nbd //p' "$work/run.out")
expect 0 "nbdinfo sees the new export" -- nbdinfo --size "nbd://$nbd_addr/disk1"
[ "$(cat "$work/out")" = 134217728 ] || fail "nbdinfo size: $(cat "$work/out")"
expect 0 "nbd delete through the server" -- "$zerofs" nbd delete disk1 "${cfg[@]}"

# Checkpoints and gc through the server.
expect 0 "checkpoint create through the server" -- "$zerofs" checkpoint create before "${cfg[@]}"
expect 0 "checkpoint list through the server" -- "$zerofs" checkpoint list "${cfg[@]}" --json
out_has '"name": "before"' "checkpoint list shows it"
expect 0 "gc through the server" -- "$zerofs" gc "${cfg[@]}" --grace 0 --json
out_has '"segments_deleted"' "gc reports what it did"
metrics_port=$(grep -o 'metrics on http://127.0.0.1:[0-9]*' "$work/zerofs.log" | grep -o '[0-9]*$')
expect 0 "metrics" -- curl -sf "http://127.0.0.1:$metrics_port/metrics"
out_has '^zerofs_store_requests_total\{op="put"\} [1-9]' "metrics count puts"
out_has '^zerofs_protocol_requests_total\{protocol="nbd"\}' "metrics per protocol"
kill -0 "$run_pid" 2> /dev/null || fail "the server died"
grep -qi "fenced" "$work/zerofs.log" && fail "a command fenced the server"

# A second writer is refused while it serves.
expect 6 "a second zerofs run is refused" -- "$zerofs" run "${cfg[@]}" --control-socket "$work/other.sock" --exit-after-start

kill -TERM "$run_pid"
wait "$run_pid"
rc=$?
trap - EXIT
[ "$rc" -eq 0 ] || fail "zerofs run exited $rc after SIGTERM"
grep -q "volume closed" "$work/zerofs.log" || fail "no clean close in the log"
[ -e "$work/control.sock" ] && fail "the control socket was left behind"
[ -e "$work/bucket/lease" ] && fail "the writer lease was left behind"

# Without a server the same commands open the volume themselves.
expect 0 "checkpoint list without a server" -- "$zerofs" checkpoint list "${cfg[@]}"
out_has "^before " "the checkpoint survived"
expect 1 "stats without a server" -- "$zerofs" stats "${cfg[@]}"
err_has "no server is listening" "stats without a server says so"
# The checkpoint served read-only.
expect 0 "zerofs run --checkpoint starts" -- "$zerofs" run "${cfg[@]}" --checkpoint before --exit-after-start
finish
