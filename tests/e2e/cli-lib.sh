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

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
}
