# Shared helpers of the cli-*.sh tests (sourced, not run). Expects $zerofs and $work.
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect EXIT_CODE DESCRIPTION -- COMMAND...: runs COMMAND with stdout in $work/out and
# stderr in $work/err, and checks its exit code.
expect() {
  local want=$1 what=$2
  shift 3
  "$@" > "$work/out" 2> "$work/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    fail "$what: exit $got, expected $want"
    sed 's/^/  stdout: /' "$work/out" | head -40
    sed 's/^/  stderr: /' "$work/err" | head -40
  else
    echo "ok: $what"
  fi
}

# out_has / err_has PATTERN DESCRIPTION: grep -E in the last command's output.
out_has() { grep -Eq -- "$1" "$work/out" || { fail "$2: stdout lacks /$1/"; sed 's/^/  stdout: /' "$work/out" | head -40; }; }
err_has() { grep -Eq -- "$1" "$work/err" || { fail "$2: stderr lacks /$1/"; sed 's/^/  stderr: /' "$work/err" | head -40; }; }

# A volume in $work/bucket with a config in $work/zerofs.toml (password from the
# environment), created with cheap Argon2 costs so that tests stay fast.
make_volume() {
  rm -rf "$work"
  mkdir -p "$work/bucket"
  cat > "$work/zerofs.toml" <<TOML
[storage]
url = "file://$work/bucket"
password = "\${ZEROFS_PASSWORD}"
TOML
  export ZEROFS_PASSWORD=cli-test-password
  "$zerofs" init --config "$work/zerofs.toml" --argon2-opslimit 1 --argon2-memlimit-mib 8 \
    > "$work/out" 2> "$work/err" || { echo "init failed: $(cat "$work/err")"; exit 1; }
}

# add_run_config [EXTRA_TOML]: makes $work/zerofs.toml serve NFS, 9P and NBD on free
# loopback ports, with a control socket and the log in $work/zerofs.log.
add_run_config() {
  cat >> "$work/zerofs.toml" <<TOML
[servers.nfs]
listen = ["127.0.0.1:0"]
[servers.ninep]
listen = ["127.0.0.1:0"]
[servers.nbd]
listen = ["127.0.0.1:0"]
[control]
socket = "$work/control.sock"
[log]
file = "$work/zerofs.log"
${1:-}
TOML
}

# start_run: `zerofs run --config $work/zerofs.toml` in the background (stdout in
# $work/run.out, stderr in $work/run.err) until it prints its control socket; sets run_pid.
# Exits the test when it does not start.
start_run() {
  "$zerofs" run --config "$work/zerofs.toml" > "$work/run.out" 2> "$work/run.err" &
  run_pid=$!
  for _ in $(seq 300); do
    grep -q '^control ' "$work/run.out" 2> /dev/null && break
    kill -0 "$run_pid" 2> /dev/null || break
    sleep 0.1
  done
  grep -q '^control ' "$work/run.out" || {
    cat "$work/run.err" "$work/zerofs.log"
    echo "FAIL: zerofs run did not start"
    exit 1
  }
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
}
