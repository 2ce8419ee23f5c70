#!/bin/bash
# zerofs gc and zerofs checkpoint on a file:// volume: a checkpoint keeps the space of data
# overwritten after it, gc reports and reclaims, deleting the checkpoint gives the space back.
# Usage: gc_cli_test.sh ZEROFS_BINARY
set -euo pipefail
zerofs=$1
dir=$(mktemp -d /tmp/zerofs-gc-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/zerofs.toml" <<CONF
[storage]
url = "file://$dir/bucket"
password = "gc-cli-test-password"
[gc]
deletion_grace_s = 0
CONF
run() { timeout 120 "$zerofs" "$@" --config "$dir/zerofs.toml"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

mkdir -p "$dir/bucket"
"$zerofs" init --config "$dir/zerofs.toml" --argon2-opslimit 1 --argon2-memlimit-mib 8 >/dev/null
head -c $((8 << 20)) /dev/urandom > "$dir/one"
head -c $((8 << 20)) /dev/urandom > "$dir/two"
run put "$dir/one" /file >/dev/null
run checkpoint create before >/dev/null
run checkpoint create before >/dev/null 2>&1 && { echo "duplicate checkpoint name accepted"; exit 1; }
test "$(run checkpoint list --json | json 'd[0]["name"]')" = before
run put "$dir/two" /file >/dev/null

# The checkpoint keeps the first version's segments.
out=$(run gc --json)
kept=$(echo "$out" | json 'd["gc"]["segments_kept_by_checkpoints"]')
held=$(echo "$out" | json 'd["after"]["checkpoint_held_bytes"]')
echo "with checkpoint: kept $kept segments, $held bytes"
test "$kept" -ge 1
test "$held" -ge $((8 << 20))

# It still reads the first version, byte for byte, after the collector ran.
run get /file "$dir/frozen" --checkpoint before >/dev/null
cmp "$dir/one" "$dir/frozen"

dry=$(run gc --dry-run --json)
echo "$dry" | json 'd["before"]["amplification"]' >/dev/null

run checkpoint delete before >/dev/null
set +e
run checkpoint info before >/dev/null 2>&1
code=$?
set -e
test "$code" -eq 3 || { echo "info of a deleted checkpoint: exit $code, want 3"; exit 1; }

out=$(run gc --json)
freed=$(echo "$out" | json 'd["gc"]["bytes_freed"]')
amp=$(echo "$out" | json 'd["after"]["amplification"]')
echo "after deleting it: freed $freed bytes, amplification $amp"
test "$freed" -ge $((8 << 20))
python3 -c "import sys; sys.exit(0 if $amp <= 1.25 else 1)"
run get /file "$dir/back" >/dev/null
cmp "$dir/two" "$dir/back"
echo "ok"
