#!/usr/bin/env bash
# quickstart-check.sh SOURCE_DIR (with ZEROFS_QUICKSTART_DIR and BUILD_DIR in the environment):
# README command 1, `scripts/quickstart.sh --check`, in a fresh directory; then what the
# quickstart promises about its secret: the generated password file is mode 0600 and its
# directory 0700, both owned by the user who ran it, the config names the file (not the
# password), the password appears in no other file the quickstart wrote, and that file alone
# opens the volume, which holds the file the check wrote through the mount.
set -uo pipefail
src=$1
dir=${ZEROFS_QUICKSTART_DIR:?}
build=${BUILD_DIR:?}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Fresh, so that the password file checked is the one this run generated; a server or mount
# left by an earlier run is stopped first.
"$src/scripts/quickstart.sh" stop > /dev/null
rm -rf "$dir"
"$src/scripts/quickstart.sh" --check < /dev/null ||
  { echo "FAIL: scripts/quickstart.sh --check"; exit 1; }

pw="$dir/password"
[ -s "$pw" ] || { echo "FAIL: no password file at $pw"; exit 1; }
[ "$(stat -c %a "$pw")" = 600 ] || fail "password file mode $(stat -c %a "$pw"), expected 600"
[ "$(stat -c %u "$pw")" = "$(id -u)" ] || fail "password file owned by uid $(stat -c %u "$pw")"
[ "$(stat -c %a "$dir")" = 700 ] || fail "$dir mode $(stat -c %a "$dir"), expected 700"
grep -Eq "^password_file = \"$dir/password\"$" "$dir/zerofs.toml" ||
  fail "the config does not name the password file"
grep -Eq '^password *=' "$dir/zerofs.toml" && fail "the config holds a password"
secret=$(head -n 1 "$pw")
[ "${#secret}" -ge 16 ] || fail "the generated password is short: ${#secret} characters"
leaks=$(grep -rlF --exclude=password -- "$secret" "$dir")
[ -z "$leaks" ] || fail "the password appears in: $leaks"

# The password file alone opens the volume (no ZEROFS_PASSWORD), and the check's file is there.
out=$(env -u ZEROFS_PASSWORD "$build/tools/zerofs/zerofs" cat --config "$dir/zerofs.toml" \
  /hello.txt 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "zerofs cat /hello.txt with the quickstart config: exit $rc: $out"
case "$out" in "quickstart check "*) ;; *) fail "hello.txt holds: $out" ;; esac

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "quickstart: password file 0600, directory 0700, no copy of the password elsewhere"
