#!/bin/bash
# zerofs gc killed with SIGKILL at random moments on a file:// volume: after each kill the
# bucket as the dead collector left it must check clean with `zerofs fsck` (exit 0, no
# problem; the only notes allowed are what the next run finishes: reclaimable segments,
# usage records of deleted segments, and index objects left by an interrupted snapshot
# upload or deletion) and every file must read back with the checksum
# recorded when it was written.
# Between rounds a few files are overwritten, added and deleted, so that every run has drops,
# compaction (small segments are merged) and deletions to do. Finally an uninterrupted gc
# completes, fsck finds nothing at all (not even a note), the bucket holds less than before
# the first run, and the files are intact.
#
# Usage: gc_kill_test.sh ZEROFS_BINARY
# The seed is printed first; ZEROFS_GC_KILL_SEED=N replays its choices (file sizes, which
# files change, kill delays). Each delay is drawn within the time an uninterrupted gc of a
# copy of the bucket takes just before, so the moments replay only as closely as those
# times do. ZEROFS_GC_KILL_ROUNDS sets the number of kills (default 8).
set -uo pipefail
zerofs=$1
seed=${ZEROFS_GC_KILL_SEED:-$(( $(date +%s%N) % 1000000007 ))}
rounds=${ZEROFS_GC_KILL_ROUNDS:-8}
echo "seed $seed (replay with ZEROFS_GC_KILL_SEED=$seed)"
RANDOM=$seed
for tool in python3 sha256sum timeout; do
  command -v "$tool" > /dev/null || { echo "FAIL: $tool not installed"; exit 1; }
done

dir=$(mktemp -d /tmp/zerofs-gc-kill-XXXXXX)
gc_pid=""
# On failure the volume stays for inspection.
cleanup() {
  [ -n "$gc_pid" ] && kill -KILL "$gc_pid" 2> /dev/null
  [ "${passed:-0}" = 1 ] && rm -rf "$dir"
}
trap cleanup EXIT
die() {
  echo "FAIL (seed $seed): $*"
  echo "volume and logs left in $dir"
  exit 1
}

export ZEROFS_PASSWORD=gc-kill-test-password
cat > "$dir/zerofs.toml" << CONF
[storage]
url = "file://$dir/bucket"
password = "\${ZEROFS_PASSWORD}"
[gc]
deletion_grace_s = 0
# Every segment these files make is small enough to be merged by compaction.
small_segment_mb = 8
CONF
cfg=(--config "$dir/zerofs.toml")
sed "s|/bucket\"|/probe\"|" "$dir/zerofs.toml" > "$dir/probe.toml"
zfs() { timeout 120 "$zerofs" "$@" "${cfg[@]}"; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

mkdir -p "$dir/bucket" "$dir/data" "$dir/expected"
"$zerofs" init "${cfg[@]}" --argon2-opslimit 1 --argon2-memlimit-mib 8 > /dev/null || die "init"

# The volume's files: /dN, each with its expected bytes in $dir/expected/dN.
next_file=0
rand() { REPLY=$(( (RANDOM << 15 | RANDOM) % $1 )); }  # REPLY in [0, $1)
# put NAME [--takeover]: new random content (64 KiB .. 2 MiB), written and recorded.
put() {
  rand $((2048 - 64)); local size=$(( (REPLY + 64) * 1024 + RANDOM % 4096 ))
  head -c "$size" /dev/urandom > "$dir/data/new"
  zfs put "${@:2}" "$dir/data/new" "/$1" > "$dir/put.log" 2>&1 || { cat "$dir/put.log"; die "put /$1"; }
  mv "$dir/data/new" "$dir/expected/$1"
}
add() { put "d$next_file" "$@"; next_file=$((next_file + 1)); }
pick() {  # REPLY = the name of a random existing file
  local files=("$dir"/expected/*)
  rand ${#files[@]}; REPLY=$(basename "${files[$REPLY]}")
}
remove() {
  zfs rm "$@" "/$REPLY" > "$dir/rm.log" 2>&1 || { cat "$dir/rm.log"; die "rm /$REPLY"; }
  rm "$dir/expected/$REPLY"
}

# verify WHEN: the files read back (one `zerofs cat` of all of them, per file on a mismatch)
# and their names and sizes are the expected ones.
verify() {
  local names=() f
  for f in "$dir"/expected/*; do names+=("$(basename "$f")"); done
  zfs ls --json / > "$dir/ls.json" 2> "$dir/ls.err" || { cat "$dir/ls.err"; die "$1: ls"; }
  python3 - "$dir/ls.json" "$dir/expected" << 'PY' || die "$1: the volume's files differ from the expected ones"
import json, os, sys
got = {e["name"]: e["size"] for e in json.load(open(sys.argv[1]))}
want = {n: os.path.getsize(os.path.join(sys.argv[2], n)) for n in os.listdir(sys.argv[2])}
if got != want:
    for n in sorted(set(got) | set(want)):
        if got.get(n) != want.get(n):
            print(f"  /{n}: volume {got.get(n)} bytes, expected {want.get(n)}")
    sys.exit(1)
PY
  local want got
  want=$(cd "$dir/expected" && cat "${names[@]}" | sha256sum)
  zfs cat "${names[@]/#//}" > "$dir/cat.out" 2> "$dir/cat.err" || { cat "$dir/cat.err"; die "$1: zerofs cat failed"; }
  got=$(sha256sum < "$dir/cat.out")
  rm "$dir/cat.out"
  if [ "$got" != "$want" ]; then
    for f in "${names[@]}"; do
      [ "$(zfs cat "/$f" | sha256sum)" = "$(sha256sum < "$dir/expected/$f")" ] ||
        echo "  /$f: checksum differs"
    done
    die "$1: file contents differ"
  fi
  echo "  ${#names[@]} files read back intact"
}

# fsck_clean WHEN [NOTE_KIND...]: exit 0, no problem, and no note but of the kinds named
# (what a killed collector may leave for the next run: reclaimable segments, the usage
# records of segments it deleted). The findings are printed.
fsck_clean() {
  local when=$1
  shift
  zfs fsck --json > "$dir/fsck.json" 2> "$dir/fsck.err"
  local rc=$?
  # 0 clean, 7 problems found (listed below); anything else means fsck could not check.
  [ "$rc" = 0 ] || [ "$rc" = 7 ] || { cat "$dir/fsck.err"; die "$when: fsck exit $rc"; }
  python3 - "$dir/fsck.json" "$@" << 'PY' || die "$when: fsck: unexpected findings (exit $rc)"
import json, sys
r = json.load(open(sys.argv[1]))
allowed = set(sys.argv[2:])
groups = {}
for f in r["findings"]:
    groups.setdefault((f["severity"], f["kind"]), []).append(f)
bad = 0
for (severity, kind), fs in sorted(groups.items()):
    ok = severity == "note" and kind in allowed
    bad += not ok
    more = f" (and {len(fs) - 1} more)" if len(fs) > 1 else ""
    print(f"  fsck {severity}: {kind}: {fs[0]['object']}: {fs[0]['message']}{more}"
          + ("" if ok else "  <- unexpected"))
sys.exit(1 if bad or r["problems"] else 0)
PY
  [ "$rc" = 0 ] || die "$when: fsck exit $rc"
}

# Content: 16 files, then 4 overwritten and 4 deleted, each change its own writer session.
for _ in $(seq 16); do add; done
for _ in $(seq 4); do pick; put "$REPLY"; done
for _ in $(seq 4); do pick; remove; done
verify "before any gc"
zfs gc --dry-run --json > "$dir/gc-before.json" || die "gc --dry-run"
stored_before=$(json "$dir/gc-before.json" 'd["before"]["stored_bytes"]')
echo "stored before: $stored_before bytes in $(json "$dir/gc-before.json" 'd["before"]["segment_count"]') segments"

interrupted=0
for round in $(seq "$rounds"); do
  # The killed collector's lease is fresh but names a process of this host that is gone:
  # the next writer opens without --takeover.
  pick; put "$REPLY"
  if [ $((round % 2)) = 1 ]; then add; else pick; remove; fi

  # How long an uninterrupted run takes now, on a copy of the bucket.
  rm -rf "$dir/probe"
  cp -a "$dir/bucket" "$dir/probe"
  start=$(now_ms)
  timeout 120 "$zerofs" gc --config "$dir/probe.toml" --grace 0 --json > "$dir/probe.json" ||
    die "round $round: gc of the copy failed"
  probe_ms=$(( $(now_ms) - start ))
  rm -rf "$dir/probe"

  # Odd rounds kill anywhere in the run (opening the volume as the writer included), even
  # rounds within the collector's own part of it (the end of the run, duration_ms long).
  work_ms=$(json "$dir/probe.json" 'd["gc"]["duration_ms"]')
  from=0
  [ $((round % 2)) = 0 ] && from=$(( probe_ms > work_ms ? probe_ms - work_ms : 0 ))
  rand $((probe_ms - from + 1)); delay_ms=$((from + REPLY))
  "$zerofs" gc "${cfg[@]}" --grace 0 --json > "$dir/gc.json" 2> "$dir/gc.err" &
  gc_pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -KILL "$gc_pid" 2> /dev/null; then
    wait "$gc_pid" 2> /dev/null
    gc_pid=""
    interrupted=$((interrupted + 1))
    echo "round $round: gc killed after $delay_ms ms (an uninterrupted run took $probe_ms ms, $work_ms collecting)"
  else
    wait "$gc_pid"
    rc=$?
    gc_pid=""
    [ "$rc" = 0 ] || { cat "$dir/gc.err"; die "round $round: gc exited $rc"; }
    echo "round $round: gc finished within $delay_ms ms (an uninterrupted run took $probe_ms ms)"
  fi
  # The bucket exactly as the killed collector left it (read-only opens replay it).
  fsck_clean "round $round" reclaimable stale-usage unreferenced-index stale-snapshot
  verify "round $round"
done
# Without interruptions the test would not test what it says.
[ "$interrupted" -ge $(( (rounds + 1) / 2 )) ] ||
  die "only $interrupted of $rounds runs were interrupted"

# One run to the end.
pick; remove
zfs gc --grace 0 --json > "$dir/gc.json" 2> "$dir/gc.err" || { cat "$dir/gc.err"; die "final gc"; }
stored_after=$(json "$dir/gc.json" 'd["after"]["stored_bytes"]')
live_after=$(json "$dir/gc.json" 'd["after"]["live_bytes"]')
echo "final gc: $(json "$dir/gc.json" 'd["gc"]'); stored $stored_after bytes for $live_after live"
# The collector finished what the killed runs left: no segment to reclaim, no usage record
# of a segment that is gone.
fsck_clean "after the final gc"
verify "after the final gc"
[ "$stored_after" -lt "$stored_before" ] ||
  die "the bucket holds $stored_after bytes after gc, $stored_before before the first run"
python3 -c "import sys; sys.exit(0 if $stored_after <= 1.25 * $live_after else 1)" ||
  die "space amplification $stored_after / $live_after after the final gc"
passed=1
echo "ok: $interrupted of $rounds gc runs killed, volume intact"
