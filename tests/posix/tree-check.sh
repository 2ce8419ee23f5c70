#!/usr/bin/env bash
# tree-check.sh SRC DST: compares the trees under SRC and DST (not the top directories
# themselves): the same set of relative paths, the same file type for each, the same target
# for every symlink, the same size and sha256 for every regular file. Exit 0 identical,
# 1 different (the first 20 differences listed), 2 usage error. See tests/posix/README.md.
set -euo pipefail

if [ $# -ne 2 ] || [ ! -d "$1" ] || [ ! -d "$2" ]; then
  echo "usage: tree-check.sh SRC DST (two directories)" >&2
  exit 2
fi
src=$1 dst=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LC_ALL=C

# manifest DIR OUT: one line per path, "path<TAB>type<TAB>size<TAB>symlink target<TAB>sha256"
# (size and hash only for regular files), sorted by path. Paths and targets must not hold
# tabs or newlines (source trees do not); any other byte is fine.
manifest() {
  local dir=$1 out=$2
  (cd "$dir" && find . -mindepth 1 -printf '%P\t%y\t%s\t%l\n') |
    awk -F'\t' 'BEGIN { OFS = "\t" } { if ($2 != "f") $3 = ""; print }' | sort > "$out.entries"
  # Hash with both cores, each batch into a file of its own (two writers on one pipe could
  # interleave their buffers mid-record); -z: NUL-terminated records, names as they are.
  (cd "$dir" && find . -type f -printf '%P\0' |
    xargs -0 -r -P 2 -n 256 sh -c 'sha256sum -z -- "$@" > "$(mktemp "$0.XXXXXX")"' "$out.h")
  cat "$out".h.* 2>/dev/null | tr '\0' '\n' |
    awk '{ h = $1; sub(/^[0-9a-f]+  /, ""); print $0 "\t" h }' | sort > "$out.hashes"
  awk -F'\t' 'BEGIN { OFS = "\t" }
    NR == FNR { hash[$1] = $2; next }
    { print $0, ($2 == "f" ? hash[$1] : "") }' "$out.hashes" "$out.entries" > "$out"
}
manifest "$src" "$work/src" &
manifest "$dst" "$work/dst"
wait $! || { echo "tree-check: cannot read $src" >&2; exit 2; }

awk -F'\t' -v out="$work/diffs" '
  NR == FNR { s[$1] = $0; stype[$1] = $2; ssize[$1] = $3; slink[$1] = $4; shash[$1] = $5; next }
  {
    p = $1; seen[p] = 1
    if (!(p in s)) { print "only in DST: " p > out; next }
    if (stype[p] != $2) { print "type: " p " (" stype[p] " in SRC, " $2 " in DST)" > out; next }
    if ($2 == "l" && slink[p] != $4) {
      print "symlink: " p " (-> " slink[p] " in SRC, -> " $4 " in DST)" > out; next
    }
    if ($2 == "f" && ssize[p] != $3) {
      print "size: " p " (" ssize[p] " in SRC, " $3 " in DST)" > out; next
    }
    if ($2 == "f" && shash[p] != $5) { print "content: " p " (sha256 differs)" > out; next }
  }
  END { for (p in s) if (!(p in seen)) print "only in SRC: " p > out }
' "$work/src" "$work/dst"
touch "$work/diffs"

paths=$(wc -l < "$work/src")
files=$(awk -F'\t' '$2 == "f"' "$work/src" | wc -l)
bytes=$(awk -F'\t' '$2 == "f" { b += $3 } END { printf "%d", b }' "$work/src")
ndiff=$(wc -l < "$work/diffs")
if [ "$ndiff" -eq 0 ]; then
  echo "tree-check: $paths paths, $files files, $bytes bytes identical"
  exit 0
fi
echo "tree-check: $ndiff difference$([ "$ndiff" -eq 1 ] || echo s) between $src and $dst" \
  "($paths paths in SRC)"
sort "$work/diffs" | head -n 20 | sed 's/^/  /'
exit 1
