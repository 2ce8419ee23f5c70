#!/usr/bin/env bash
# tree-tools-test.sh CACHE WORK: the ctest of the tree tools on the local filesystem.
# source-tree.sh (2000 files, cached in CACHE), tree-copy.sh into WORK, tree-check.sh must
# pass; then one flipped byte, one missing file, one changed symlink must each make
# tree-check.sh fail and be named in its output.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1 work=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

n=$("$here/source-tree.sh" "$cache" 2000) || { echo "FAIL: source-tree.sh"; exit 1; }
[ "$n" = 2000 ] || fail "source-tree.sh printed '$n', expected 2000"
# A second call must be a cached no-op.
start=$(date +%s%N)
n2=$("$here/source-tree.sh" "$cache" 2000) || fail "source-tree.sh (cached)"
[ "$n2" = 2000 ] || fail "cached source-tree.sh printed '$n2'"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 2000 ] || fail "cached source-tree.sh took $ms ms"

rm -rf "$work"
"$here/tree-copy.sh" "$cache" "$work/copy" || fail "tree-copy.sh reported differences"

expect_diff() {  # expect_diff WHAT PATTERN
  local out
  if out=$("$here/tree-check.sh" "$cache" "$work/copy"); then
    fail "tree-check.sh passed after $1"
  elif ! grep -q -- "$2" <<< "$out"; then
    fail "tree-check.sh output after $1 lacks '$2': $out"
  fi
}
file=$(cd "$work/copy" && find . -type f -size +100c ! -name '.source-tree-complete' | sort | head -n 1)
file=${file#./}
orig=$(dd if="$work/copy/$file" bs=1 skip=50 count=1 2>/dev/null | od -An -tx1 | tr -d ' ')
new=$([ "$orig" = 58 ] && echo Y || echo X)
printf '%s' "$new" | dd of="$work/copy/$file" bs=1 seek=50 conv=notrunc status=none
expect_diff "flipping byte 50 of $file" "content: $file"
cp -p "$cache/$file" "$work/copy/$file"
"$here/tree-check.sh" "$cache" "$work/copy" > /dev/null || fail "tree-check.sh fails after repair"

victim=$(cd "$work/copy" && find . -type f ! -name '.source-tree-complete' | sort | sed -n 2p)
victim=${victim#./}
mv "$work/copy/$victim" "$work/moved"
expect_diff "removing $victim" "only in SRC: $victim"
mv "$work/moved" "$work/copy/$victim"

link=$(cd "$work/copy" && find . -type l | sort | head -n 1)
link=${link#./}
if [ -n "$link" ]; then
  ln -sfn elsewhere "$work/copy/$link"
  expect_diff "retargeting symlink $link" "symlink: $link"
else
  fail "the 2000-file tree has no symlink"
fi
rm -rf "$work"
[ "$failures" -eq 0 ] && echo "tree-tools-test: ok" || echo "tree-tools-test: $failures failures"
[ "$failures" -eq 0 ]
