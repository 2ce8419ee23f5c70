# shellcheck shell=bash
# Shared by the package tests (sourced, not run): the helpers of tests/e2e/cli-lib.sh
# (fail, expect, out_has, finish, make_volume, ...) and what the package tests add.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/cli-lib.sh"

ok() { echo "ok: $*"; }

# need_tools TOOL...: a missing tool fails the test (scripts/install-deps.sh installs them).
need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" > /dev/null || { echo "FAIL: $tool not installed (scripts/install-deps.sh test)"; exit 1; }
  done
}

# wait_for_control PID OUT: waits up to 60 s until the server PID has printed its
# "control ..." line into OUT (it listens then), or has exited. True if it printed it.
wait_for_control() {
  local pid=$1 out=$2
  for _ in $(seq 600); do
    grep -q '^control ' "$out" 2> /dev/null && return 0
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  grep -q '^control ' "$out" 2> /dev/null
}

# scratch_config CONFIG WORK_DIR OUT: writes to OUT the config CONFIG with the directories
# systemd gives zerofs.service (/var/lib/zerofs, /var/cache/zerofs, /run/zerofs) moved
# under WORK_DIR, which it creates, and every listener on a free loopback port.
scratch_config() {
  local config=$1 dir=$2 out=$3
  mkdir -p "$dir/var/lib/zerofs" "$dir/var/cache/zerofs" "$dir/run/zerofs"
  sed -e "s|/var/lib/zerofs|$dir/var/lib/zerofs|; s|/var/cache/zerofs|$dir/var/cache/zerofs|" \
      -e "s|/run/zerofs|$dir/run/zerofs|; s|127\.0\.0\.1:[0-9]*|127.0.0.1:0|" "$config" > "$out"
}
