#!/usr/bin/env bash
# cli-objstore.sh ZEROFS_BINARY WORK_DIR: `zerofs objstore` against a file:// bucket.
set -uo pipefail
zerofs=$1 work=$2
rm -rf "$work"
mkdir -p "$work/bucket"
bucket="file://$work/bucket"
failures=0

expect() {  # expect EXIT_CODE DESCRIPTION -- COMMAND...
  local want=$1 what=$2
  shift 3
  "$@" > "$work/out" 2> "$work/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, expected $want"
    sed 's/^/  stdout: /' "$work/out"
    sed 's/^/  stderr: /' "$work/err"
    failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
}

head -c 100000 /dev/urandom > "$work/blob"
expect 0 "put a file" -- "$zerofs" objstore --url "$bucket" put dir/blob "$work/blob"
etag=$(cat "$work/out")
[ -n "$etag" ] || { echo "FAIL: put printed no etag"; failures=$((failures + 1)); }

expect 0 "get it back" -- "$zerofs" objstore --url "$bucket" get dir/blob -o "$work/blob.back"
cmp -s "$work/blob" "$work/blob.back" || { echo "FAIL: bytes differ"; failures=$((failures + 1)); }

expect 0 "ranged get" -- "$zerofs" objstore --url "$bucket" get dir/blob --range 1000:10
cmp -s "$work/out" <(tail -c +1001 "$work/blob" | head -c 10) ||
  { echo "FAIL: ranged bytes differ"; failures=$((failures + 1)); }

expect 0 "head" -- "$zerofs" objstore --url "$bucket" head dir/blob
grep -q "^size: 100000$" "$work/out" || { echo "FAIL: head size"; failures=$((failures + 1)); }
grep -q "^etag: $etag$" "$work/out" || { echo "FAIL: head etag"; failures=$((failures + 1)); }

expect 0 "ls" -- "$zerofs" objstore --url "$bucket" ls dir/
grep -q "100000 .* dir/blob$" "$work/out" || { echo "FAIL: ls line"; failures=$((failures + 1)); }

expect 0 "URL form: put to a directory store" -- "$zerofs" objstore put "$bucket/single" "$work/blob"
expect 0 "URL form: ls" -- "$zerofs" objstore ls "$bucket"
grep -q " single$" "$work/out" || { echo "FAIL: URL-form ls"; failures=$((failures + 1)); }

echo data | expect 0 "create-only put from stdin" -- "$zerofs" objstore --url "$bucket" put --if-none-match once -
echo data | expect 4 "second create-only put loses" -- "$zerofs" objstore --url "$bucket" put --if-none-match once -
echo new | expect 0 "compare-and-swap with the current etag" -- "$zerofs" objstore --url "$bucket" put --if-match "$etag" dir/blob -
echo newer | expect 4 "compare-and-swap with a stale etag" -- "$zerofs" objstore --url "$bucket" put --if-match "$etag" dir/blob -

expect 0 "rm several, one missing" -- "$zerofs" objstore --url "$bucket" rm dir/blob once never-existed
expect 3 "get a deleted object" -- "$zerofs" objstore --url "$bucket" get dir/blob
grep -q "not found" "$work/err" || { echo "FAIL: not-found message"; failures=$((failures + 1)); }

expect 2 "malformed URL" -- "$zerofs" objstore ls "ftp://nowhere"
grep -q "invalid storage URL 'ftp://nowhere'" "$work/err" || { echo "FAIL: URL message"; failures=$((failures + 1)); }
expect 2 "bad range" -- "$zerofs" objstore --url "$bucket" get single --range x
expect 2 "bad key" -- "$zerofs" objstore --url "$bucket" get "a/../b"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
