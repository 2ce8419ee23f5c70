#!/usr/bin/env bash
# monitoring.sh ZEROFS MONITORING_DIR WORK_DIR
#
# examples/monitoring against the real thing: promtool checks the alert rules and runs
# their unit tests (each alert fires on synthetic series), and fails them again when any
# one alert's metric is misspelt; then a writer (`zerofs run`, NBD traffic, a flush) and a
# read-only server (`zerofs run --read-only`) on one file:// volume are scraped, and every
# metric and label value the dashboard and the rules select must be in what they export.
set -uo pipefail
zerofs=$1
mon=$2
work=$3
. "$(dirname "$0")/lib.sh"
need_tools promtool python3 curl nbdcopy
python3 -c 'import yaml' 2> /dev/null || { echo "FAIL: python3-yaml not installed (scripts/install-deps.sh test)"; exit 1; }
make_volume

# --- The rules: syntax, unit tests, and unit tests that must fail on a misspelt metric --
expect 0 "promtool check rules" -- promtool check rules "$mon/zerofs-alerts.yml"
expect 0 "promtool test rules" -- promtool test rules "$mon/zerofs-alerts.test.yml"
mkdir -p "$work/mutant"
cp "$mon/zerofs-alerts.test.yml" "$work/mutant/"
alerts=$(sed -n 's/^ *- alert: //p' "$mon/zerofs-alerts.yml")
[ "$(wc -l <<< "$alerts")" -ge 9 ] || fail "fewer alerts than expected: $alerts"
for alert in $alerts; do
  # The expr line after this alert's name, with its metric names misspelt.
  awk -v a="$alert" '
    $0 ~ "- alert: " a "$" { hit = 1 }
    hit && /^ *expr:/ { gsub(/zerofs_/, "zerofs_misspelt_"); gsub(/up\{/, "upp{"); hit = 0 }
    { print }' "$mon/zerofs-alerts.yml" > "$work/mutant/zerofs-alerts.yml"
  cmp -s "$mon/zerofs-alerts.yml" "$work/mutant/zerofs-alerts.yml" && fail "could not misspell $alert"
  if promtool test rules "$work/mutant/zerofs-alerts.test.yml" > "$work/mutant/$alert.log" 2>&1; then
    fail "the rule tests pass with $alert's metric misspelt"
  fi
done
echo "ok: the rule tests fail when any of the $(wc -w <<< "$alerts") alerts names a wrong metric"

# --- A writer with traffic, and a read-only server, on one volume ----------------------
add_run_config '[metrics]
listen = "127.0.0.1:0"'
cfg=(--config "$work/zerofs.toml")
run_pid="" ro_pid=""
trap '[ -n "$run_pid" ] && kill -KILL "$run_pid" 2> /dev/null; [ -n "$ro_pid" ] && kill -KILL "$ro_pid" 2> /dev/null' EXIT
start_run
metrics_port() { grep -o 'metrics on http://127.0.0.1:[0-9]*' "$1" | grep -o '[0-9]*$' | tail -1; }
writer_port=$(metrics_port "$work/zerofs.log")
[ -n "$writer_port" ] || { cat "$work/zerofs.log"; echo "FAIL: no metrics port in the log"; exit 1; }

expect 0 "nbd create" -- "$zerofs" nbd create disk 4M "${cfg[@]}"
nbd_addr=$(sed -n 's/^nbd //p' "$work/run.out")
head -c 1048576 /dev/urandom > "$work/data"
expect 0 "write over NBD" -- nbdcopy "$work/data" "nbd://$nbd_addr/disk"
expect 0 "flush" -- "$zerofs" flush "${cfg[@]}"
expect 0 "read over NBD" -- nbdcopy "nbd://$nbd_addr/disk" "$work/back"
expect 0 "scrape the writer" -- curl -sf "http://127.0.0.1:$writer_port/metrics"
cp "$work/out" "$work/writer.metrics"
out_has '^zerofs_read_only 0$' "the writer says it is not read-only"
out_has '^zerofs_protocol_ops_total\{protocol="nbd",op="WRITE"\} [1-9]' "NBD writes are counted"
out_has '^zerofs_flush_latency_seconds_count [1-9]' "flushes are timed"

"$zerofs" run "${cfg[@]}" --read-only --control-socket "$work/ro.sock" --log-file "$work/ro.log" \
  > "$work/ro.out" 2> "$work/ro.err" &
ro_pid=$!
wait_for_control "$ro_pid" "$work/ro.out"
ro_port=$(metrics_port "$work/ro.log")
if [ -n "$ro_port" ]; then
  expect 0 "scrape the read-only server" -- curl -sf "http://127.0.0.1:$ro_port/metrics"
  cp "$work/out" "$work/ro.metrics"
  out_has '^zerofs_read_only 1$' "the read-only server says so"
  out_has '^zerofs_replica_lag_segments [0-9]' "the read-only server reports its lag"
else
  fail "the read-only server did not start: $(cat "$work/ro.err" "$work/ro.log" 2> /dev/null | tail -5)"
  : > "$work/ro.metrics"
fi

expect 0 "the dashboard and the rules use only exported metrics" -- \
  python3 "$(dirname "$0")/check-monitoring.py" "$mon/zerofs-dashboard.json" "$mon/zerofs-alerts.yml" \
  "$work/writer.metrics" "$work/ro.metrics"
cat "$work/out"
# The check itself can fail: a dashboard query with a misspelt metric, or a label value no
# server exports, is refused.
sed '0,/zerofs_store_errors_total/s//zerofs_store_error_total/' "$mon/zerofs-dashboard.json" > "$work/bad-name.json"
sed '0,/cache=\\"memory\\"/s//cache=\\"disk\\"/' "$mon/zerofs-dashboard.json" > "$work/bad-label.json"
for bad in bad-name bad-label; do
  cmp -s "$mon/zerofs-dashboard.json" "$work/$bad.json" && fail "could not make $bad.json"
  expect 1 "the check refuses $bad.json" -- python3 "$(dirname "$0")/check-monitoring.py" \
    "$work/$bad.json" "$mon/zerofs-alerts.yml" "$work/writer.metrics" "$work/ro.metrics"
done

for pid in "$ro_pid" "$run_pid"; do
  [ -n "$pid" ] || continue
  kill -TERM "$pid"
  wait "$pid" || fail "a server exited $? after SIGTERM"
done
run_pid="" ro_pid=""
trap - EXIT
finish
