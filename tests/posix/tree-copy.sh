#!/usr/bin/env bash
# tree-copy.sh SRC DST: copies the contents of SRC into DST (created if missing, must be
# empty) with cp -a, syncs DST's filesystem, prints the throughput of copy + sync, then
# compares both trees with tree-check.sh and exits with its status. See README.md here.
set -euo pipefail

if [ $# -ne 2 ] || [ ! -d "$1" ]; then
  echo "usage: tree-copy.sh SRC DST" >&2
  exit 2
fi
src=$1 dst=$2
mkdir -p "$dst"
if [ -n "$(ls -A "$dst")" ]; then
  echo "tree-copy: $dst is not empty" >&2
  exit 2
fi
files=$(find "$src" -type f | wc -l)
bytes=$(find "$src" -type f -printf '%s\n' | awk '{ b += $1 } END { printf "%d", b }')

start=$(date +%s.%N)
cp -a "$src/." "$dst/"
sync -f "$dst"
end=$(date +%s.%N)
awk -v f="$files" -v b="$bytes" -v a="$start" -v e="$end" 'BEGIN {
  s = e - a; if (s <= 0) s = 0.001
  printf "tree-copy: %d files, %d bytes in %.2f s: %.0f files/s, %.1f MB/s\n",
         f, b, s, f / s, b / s / 1e6
}'
exec "$(dirname "$0")/tree-check.sh" "$src" "$dst"
