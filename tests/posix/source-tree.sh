#!/usr/bin/env bash
# source-tree.sh DEST [MAX_FILES]: a real source tree for copy tests, from Debian's
# linux-source tarball (scripts/install-deps.sh test). Extracts the whole tree, or only the
# first MAX_FILES regular files in tarball order with the directories and symlinks among
# them, into DEST (the tarball's top directory stripped). Prints the number of regular
# files on stdout. Cached: DEST/.source-tree-complete records a finished extraction, and a
# second call with the same MAX_FILES only prints the count. See tests/posix/README.md.
set -euo pipefail

usage() { echo "usage: source-tree.sh DEST [MAX_FILES]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
dest=$1
max=${2:-all}
[ "$max" = all ] || [[ "$max" =~ ^[1-9][0-9]*$ ]] || usage

tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$tarball" ]; then
  echo "source-tree: no /usr/src/linux-source-*.tar.xz (scripts/install-deps.sh test)" >&2
  exit 1
fi
marker=$dest/.source-tree-complete
want="max=$max tarball=$(basename "$tarball")"

if [ -f "$marker" ] && [ "$(sed -n 1p "$marker")" = "$want" ]; then
  sed -n 's/^files=//p' "$marker"
  exit 0
fi

rm -rf "$dest"
mkdir -p "$dest"
start=$(date +%s.%N)
if [ "$max" = all ]; then
  tar -xJf "$tarball" -C "$dest" --strip-components=1 --no-same-owner
else
  # The tarball's first entries up to the MAX_FILES-th regular file form a prefix of it:
  # one streaming pass lists entries with their block numbers until the entry after that
  # file (closing the pipe there stops decompression), a second one feeds tar exactly the
  # prefix. tar accepts an archive that ends at an entry boundary.
  cut=$({ xz -dc "$tarball" | tar -t -v -R --numeric-owner --quoting-style=literal || true; } |
    awk -v max="$max" '
      {
        if (files >= max) { sub(/^block /, ""); sub(/:.*$/, ""); print; exit }
        type = substr($3, 1, 1)
        if (type == "-" || type == "h") files++
      }')
  if [ -z "$cut" ]; then
    tar -xJf "$tarball" -C "$dest" --strip-components=1 --no-same-owner
  else
    { xz -dc "$tarball" || true; } | head -c $((cut * 512)) |
      tar -x -C "$dest" --strip-components=1 --no-same-owner
  fi
fi
files=$(find "$dest" -type f ! -path "$marker" | wc -l)
end=$(date +%s.%N)
if [ "$max" != all ] && [ "$files" -ne "$max" ]; then
  echo "source-tree: extracted $files regular files, expected $max" >&2
  exit 1
fi
printf '%s\nfiles=%s\n' "$want" "$files" > "$marker"
echo "source-tree: extracted $files files into $dest in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s" >&2
echo "$files"
