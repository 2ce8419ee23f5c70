#!/usr/bin/env bash
# mount-volume.sh ZEROFS ZEROFS_9P ZEROFS_MOUNT POSIX_SUITE FSX TREE_DIR WORK FILES [URL]
#
# zerofs-mount on a zerofs-9p serving a fresh volume (file:// under WORK, or URL): the POSIX
# suite (profile fuse), zerofs-fsx with mmap, stress.sh, a copy of FILES files of a source
# tree (cached in TREE_DIR), then unmount, restart the server, remount and compare the
# tree again. The tree is also copied back off the mount into a local directory and
# compared with the source (contents, and modes, owners and times), before and after the
# restart. With URL an s3:// volume is used and WORK/s3.toml holds its [s3] section.
set -uo pipefail
ZEROFS_CLI=$1 ZEROFS_9P=$2 ZEROFS_MOUNT=$3 SUITE=$4 FSX=$5 TREE=$6 WORK=$7 FILES=$8
URL=${9:-}
POSIX=$(cd "$(dirname "$0")/../posix" && pwd)
source "$(dirname "$0")/mount-lib.sh"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

keep_s3=""
[ -f "$WORK/s3.toml" ] && keep_s3=$(cat "$WORK/s3.toml")
rm -rf "$WORK"
mkdir -p "$WORK"
[ -n "$keep_s3" ] && echo "$keep_s3" > "$WORK/s3.toml"
MNT=$WORK/mnt
trap 'cleanup_all "$MNT"' EXIT
export ZEROFS_PASSWORD=mount-e2e-password
[ -n "$URL" ] || { mkdir -p "$WORK/bucket"; URL="file://$WORK/bucket"; }
write_config "$URL"
init_volume || { echo "FAIL: zerofs init"; exit 1; }
PORT=$(free_port)
start_server "$PORT" || exit 1
mount_fs "$PORT" "$MNT" || exit 1

count=$("$POSIX/source-tree.sh" "$TREE" "$FILES") || { echo "FAIL: source-tree.sh"; exit 1; }
echo "source tree: $count files"

# The suite's fuse profile accepts what this client cannot do for protocol reasons
# (tests/posix/README.md: no tmpfile in libfuse 3.14's low-level API, no RENAME_EXCHANGE
# over 9P); any failure fails the test.
timed posix-suite "$SUITE" --profile fuse "$MNT" > "$WORK/suite.log" 2>&1
suite_rc=$?
tail -1 "$WORK/suite.log"
grep -q '^posix-suite: .* passed' "$WORK/suite.log" || fail "posix suite did not finish ($suite_rc)"
[ "$suite_rc" -eq 0 ] || fail "posix suite: $(grep '^FAIL ' "$WORK/suite.log")"

timed fsx "$FSX" --ops "${FSX_OPS:-4000}" "$MNT/fsx.dat" > "$WORK/fsx.log" 2>&1 ||
  fail "fsx: $(tail -40 "$WORK/fsx.log")"
tail -1 "$WORK/fsx.log"

timed stress "$POSIX/stress.sh" "$MNT" 20 > "$WORK/stress.log" 2>&1 ||
  fail "stress.sh: $(grep -iE 'fail|error' "$WORK/stress.log" | head -20)"

# show_diff LOG DIR: the first differing bytes of a few files tree-check reported.
show_diff() {
  grep '^  content: ' "$1" | head -3 | while read -r _ path _; do
    echo "--- $path: $(cmp "$TREE/$path" "$2/$path" 2>&1 | head -1)"
    echo "    expected: $(head -c 64 "$TREE/$path" | od -An -c | head -2 | tr -s ' ')"
    echo "    got:      $(head -c 64 "$2/$path" | od -An -c | head -2 | tr -s ' ')"
  done
}
timed tree-copy "$POSIX/tree-copy.sh" "$TREE" "$MNT/tree" > "$WORK/copy.log" 2>&1 ||
  fail "tree-copy: $(tail -25 "$WORK/copy.log"; show_diff "$WORK/copy.log" "$MNT/tree")"
grep -E '^tree-(copy|check):' "$WORK/copy.log"

# meta DIR: path, type, mode, owner and mtime (ns) of everything under DIR, sorted. cp -a
# keeps them all, so a tree copied onto the mount and back must show the source's.
meta() {
  (cd "$1" && find . -mindepth 1 -printf '%P\t%y\t%m\t%U:%G\t%T@\n') | LC_ALL=C sort
}
# copy_back NAME: cp -a of the tree off the mount into WORK/back, compared with the source.
copy_back() {
  rm -rf "$WORK/back"
  mkdir -p "$WORK/back"
  timed "copy-back $1" cp -a "$MNT/tree/." "$WORK/back/" > "$WORK/back-$1.log" 2>&1 ||
    fail "copy back off the mount ($1): $(head -10 "$WORK/back-$1.log")"
  timed "check copy-back $1" "$POSIX/tree-check.sh" "$TREE" "$WORK/back" \
    >> "$WORK/back-$1.log" 2>&1 ||
    fail "tree read back off the mount ($1): $(tail -22 "$WORK/back-$1.log"; show_diff "$WORK/back-$1.log" "$WORK/back")"
  grep '^tree-check:' "$WORK/back-$1.log"
  if ! diff <(meta "$TREE") <(meta "$WORK/back") > "$WORK/back-$1.meta" 2>&1; then
    fail "modes, owners or times read back off the mount ($1), '<' source, '>' read back:
$(head -10 "$WORK/back-$1.meta")"
  fi
  rm -rf "$WORK/back"
}
copy_back before-restart

# Everything survives an unmount and a server restart.
unmount_fs "$MNT" || fail "unmount"
stop_server TERM
start_server "$PORT" || exit 1
mount_fs "$PORT" "$MNT" || exit 1
timed tree-check "$POSIX/tree-check.sh" "$TREE" "$MNT/tree" > "$WORK/check.log" 2>&1 ||
  fail "tree-check after restart: $(head -25 "$WORK/check.log"; show_diff "$WORK/check.log" "$MNT/tree")"
cat "$WORK/check.log" | head -3
copy_back after-restart
unmount_fs "$MNT" || fail "final unmount"

if grep -q "giving up" "$WORK/mount.log"; then fail "zerofs-mount lost the server"; fi
if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
