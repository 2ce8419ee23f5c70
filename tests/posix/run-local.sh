#!/usr/bin/env bash
# run-local.sh suite|fsx|stress PROGRAM WORKDIR: how tests/e2e/posix.cmake runs the tools
# on the local filesystem (a fresh WORKDIR, removed on success).
set -uo pipefail
what=$1 prog=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
# The suite's unprivileged user must be able to reach WORKDIR.
chmod 0755 "$work"
case $what in
  suite)
    dir=$work
    # The unprivileged user (65534) must be able to reach the directory; a build tree
    # below a private home is not, so fall back to /var/tmp then (the root filesystem).
    if [ "$(id -u)" -eq 0 ] && ! setpriv --reuid 65534 --regid 65534 --clear-groups \
        test -x "$work" 2>/dev/null; then
      dir=$(mktemp -d /var/tmp/zerofs-posix-suite.XXXXXX)
      chmod 0755 "$dir"
      echo "run-local.sh: user 65534 cannot reach $work; running in $dir instead"
    fi
    echo "run-local.sh: $dir is on $(stat -f -c %T "$dir")"
    "$prog" --profile ext4 "$dir"
    rc=$?
    if [ "$(id -u)" -eq 0 ]; then
      # Run directly as an unprivileged user, the root-only checks must be reported as
      # not run, and everything else must still pass.
      mkdir "$dir/unprivileged"
      chown 65534:65534 "$dir/unprivileged"
      out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$prog" --profile ext4 \
              "$dir/unprivileged")
      urc=$?
      echo "run-local.sh: as uid 65534: $(tail -n 1 <<< "$out")"
      if [ "$urc" -ne 0 ] || ! grep -q "^not-run .*: needs root" <<< "$out" ||
         ! grep -q "^posix-suite: [1-9][0-9]* passed, 0 failed, [1-9][0-9]* not run" <<< "$out"; then
        echo "FAIL: the unprivileged run (exit status $urc):"
        grep -vE "^(ok|not-run) " <<< "$out"
        rc=1
      fi
    fi
    [ "$dir" = "$work" ] || rm -rf "$dir"
    ;;
  fsx)
    "$prog" --ops 20000 "$work/file"
    rc=$?
    if [ "$rc" -eq 0 ]; then
      # The self-test: a byte changed behind its back must be reported.
      out=$("$prog" --seed 1 --ops 3000 --inject-corruption 1500 "$work/file")
      if [ $? -ne 1 ] || ! grep -q "differs from the model" <<< "$out"; then
        echo "FAIL: zerofs-fsx did not notice an injected corruption:"
        echo "$out"
        rc=1
      else
        echo "zerofs-fsx noticed the injected corruption, as it must"
      fi
    fi
    ;;
  stress)
    "$prog" "$work" 10
    rc=$?
    ;;
  *) echo "run-local.sh: unknown tool $what" >&2; exit 2 ;;
esac
[ "$rc" -eq 0 ] && rm -rf "$work"
exit "$rc"
