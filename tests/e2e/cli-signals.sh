#!/usr/bin/env bash
# cli-signals.sh ZEROFS WORK_DIR
#
# Signals to `zerofs run` serving NFS, 9P and NBD with a [log] file (docs/operations.md):
# SIGHUP after the log was moved away (as logrotate does) makes it write to a new file at the
# configured path and no more to the moved one; SIGINT stops it cleanly (exit 0, "volume
# closed" in the log, no control socket or writer lease left), and a file written over NFS
# (libnfs-utils' nfs-cp) before SIGINT reads back the same (nfs-cat) after a restart.
set -uo pipefail
zerofs=$1 work=$2
. "$(dirname "$0")/cli-lib.sh"
exec < /dev/null
for p in nfs-cp nfs-cat timeout; do
  command -v "$p" > /dev/null ||
    { echo "FAIL: $p not installed (scripts/install-deps.sh test)"; exit 1; }
done
make_volume
add_run_config
log=$work/zerofs.log
run_pid=""
trap '[ -n "$run_pid" ] && kill -KILL "$run_pid" 2> /dev/null' EXIT

start() {  # start: zerofs run in the background until it prints its addresses; sets run_pid
  start_run
  for proto in nfs 9p nbd; do
    grep -Eq "^$proto 127\.0\.0\.1:[0-9]+$" "$work/run.out" ||
      fail "zerofs run printed no $proto address"
  done
  port=$(sed -n 's/^nfs 127\.0\.0\.1://p' "$work/run.out")
  q="version=3&nfsport=$port&mountport=$port"
}
# stop SIGNAL: sends it, waits at most 30 s; sets rc to the exit status.
stop() {
  kill "-$1" "$run_pid"
  for _ in $(seq 300); do kill -0 "$run_pid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$run_pid" 2> /dev/null; then
    fail "zerofs run still running 30 s after SIG$1"
    kill -KILL "$run_pid"
  fi
  wait "$run_pid"
  rc=$?
  run_pid=""
}

start
grep -q "listening on" "$log" || fail "the log file has no start-up lines: $(head -5 "$log")"

# SIGHUP after the log was moved away: a new file at the configured path.
mv "$log" "$log.1"
kill -HUP "$run_pid"
for _ in $(seq 50); do [ -s "$log" ] && break; sleep 0.1; done
[ -s "$log" ] || fail "after SIGHUP no new log file at $log"
kill -0 "$run_pid" 2> /dev/null ||
  { cat "$work/run.err"; echo "FAIL: SIGHUP killed zerofs run"; exit 1; }
moved_lines=$(wc -l < "$log.1")

# Data through NFS, then SIGINT.
head -c 300000 /dev/urandom > "$work/data.bin"
expect 0 "nfs-cp a file in" -- timeout 60 nfs-cp "$work/data.bin" "nfs://127.0.0.1//data.bin?$q"
stop INT
[ "$rc" -eq 0 ] || fail "zerofs run exited $rc after SIGINT (run.err: $(tail -3 "$work/run.err"))"
grep -q "SIGINT received" "$log" || fail "the new log file lacks the SIGINT line: $(cat "$log")"
grep -q "volume closed; every acknowledged change is in the bucket" "$log" ||
  fail "the new log file does not say the volume was closed: $(cat "$log")"
[ "$(wc -l < "$log.1")" -eq "$moved_lines" ] || fail "lines went to the moved log file after SIGHUP"
grep -q "SIGINT\|volume closed" "$log.1" && fail "the moved log file got the shutdown lines"
[ -e "$work/control.sock" ] && fail "the control socket was left behind after SIGINT"
[ -e "$work/bucket/lease" ] && fail "the writer lease was left behind after SIGINT"

# A second SIGHUP without moving the file appends to it (nothing lost).
start
lines_before=$(wc -l < "$log")
kill -HUP "$run_pid"
for _ in $(seq 50); do [ "$(wc -l < "$log")" -gt "$lines_before" ] && break; sleep 0.1; done
[ "$(wc -l < "$log")" -gt "$lines_before" ] || fail "SIGHUP in place wrote nothing to the log"
grep -q "SIGINT received" "$log" || fail "SIGHUP in place truncated the log"

# After the restart the file reads back the same.
expect 0 "nfs-cat after the restart" -- timeout 60 nfs-cat "nfs://127.0.0.1//data.bin?$q"
cmp -s "$work/data.bin" "$work/out" ||
  fail "the file written before SIGINT differs after the restart"
stop INT
[ "$rc" -eq 0 ] || fail "zerofs run exited $rc after the second SIGINT"
finish
