#!/usr/bin/env bash
# cli-volume.sh ZEROFS_BINARY WORK_DIR: `zerofs init` and `zerofs passwd` on a file:// bucket.
set -uo pipefail
zerofs=$1 work=$2
rm -rf "$work"
mkdir -p "$work/bucket"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

cat > "$work/zerofs.toml" <<TOML
[storage]
url = "file://$work/bucket"
password = "\${ZEROFS_PASSWORD}"
TOML
cheap=(--argon2-opslimit 1 --argon2-memlimit-mib 8)

export ZEROFS_PASSWORD=first-password
"$zerofs" init --config "$work/zerofs.toml" "${cheap[@]}" > "$work/out" 2> "$work/err" ||
  fail "init: $(cat "$work/err")"
[ -f "$work/bucket/zerofs.key" ] || fail "init wrote no key file"
grep -q '"volume_uuid"' "$work/bucket/zerofs.key" || fail "key file has no volume uuid"
grep -q "first-password" "$work/bucket/zerofs.key" "$work/out" "$work/err" && fail "password leaked"

"$zerofs" init --config "$work/zerofs.toml" "${cheap[@]}" > "$work/out" 2> "$work/err"
rc=$?
[ "$rc" -ne 0 ] || fail "second init succeeded"
grep -q "volume already exists" "$work/err" || fail "second init message: $(cat "$work/err")"

key_before=$(sed -n 's/.*"ciphertext": "\(.*\)".*/\1/p' "$work/bucket/zerofs.key")
ZEROFS_NEW_PASSWORD=second-password "$zerofs" passwd --config "$work/zerofs.toml" "${cheap[@]}" \
  > "$work/out" 2> "$work/err" || fail "passwd: $(cat "$work/err")"
key_after=$(sed -n 's/.*"ciphertext": "\(.*\)".*/\1/p' "$work/bucket/zerofs.key")
[ "$key_before" != "$key_after" ] || fail "passwd did not re-wrap the key"

# The old password no longer opens the volume; the new one does.
ZEROFS_NEW_PASSWORD=third "$zerofs" passwd --config "$work/zerofs.toml" "${cheap[@]}" \
  > "$work/out" 2> "$work/err"
rc=$?
[ "$rc" -eq 5 ] || fail "passwd with the old password: exit $rc, expected 5"
grep -q "wrong password for volume" "$work/err" || fail "wrong-password message: $(cat "$work/err")"
ZEROFS_PASSWORD=second-password ZEROFS_NEW_PASSWORD=third "$zerofs" passwd \
  --config "$work/zerofs.toml" "${cheap[@]}" > "$work/out" 2> "$work/err" ||
  fail "passwd with the new password: $(cat "$work/err")"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
