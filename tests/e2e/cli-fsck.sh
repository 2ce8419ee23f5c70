#!/usr/bin/env bash
# cli-fsck.sh ZEROFS_BINARY WORK_DIR: `zerofs fsck` on a healthy file:// volume, then on
# the same volume with damage planted by hand, one kind at a time: a flipped byte in a
# segment, a segment the index refers to deleted, a segment copied to an unreferenced seq
# far beyond the end of the journal, a flipped byte in an index snapshot file. Each must be
# found (named in the output, exit code 7) and the volume must check clean once repaired.
set -uo pipefail
zerofs=$1 work=$2
. "$(dirname "$0")/cli-lib.sh"
make_volume
cfg=(--config "$work/zerofs.toml")
segments=$work/bucket/segments

# Content: a file of several extents, small files, directories, a file overwritten, one
# deleted. Every `zerofs put` is one writer session (fence segment, data, index snapshot).
head -c 300000 /dev/urandom > "$work/big"
expect 0 "put a large file" -- "$zerofs" put "${cfg[@]}" "$work/big" /big
expect 0 "mkdir" -- "$zerofs" mkdir -p "${cfg[@]}" /docs/old
for i in 1 2 3; do
  echo "file $i" > "$work/f$i"
  expect 0 "put small file $i" -- "$zerofs" put "${cfg[@]}" "$work/f$i" /docs/f$i
done
expect 0 "overwrite a file" -- "$zerofs" put "${cfg[@]}" "$work/f1" /docs/f2
expect 0 "delete a file" -- "$zerofs" rm "${cfg[@]}" /docs/f3

expect 0 "fsck of a healthy volume" -- "$zerofs" fsck "${cfg[@]}"
out_has "^clean: 0 problem" "healthy summary"
out_has "index: 6 inodes \(3 directories, 3 files" "inode totals"
expect 0 "fsck --deep of a healthy volume" -- "$zerofs" fsck --deep "${cfg[@]}"
out_has "every frame read" "deep summary"
expect 0 "fsck --json of a healthy volume" -- "$zerofs" fsck --json "${cfg[@]}"
python3 - "$work/out" <<'PY' || fail "fsck --json report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["clean"] is True and r["problems"] == 0, r
s = r["stats"]
assert s["index_checked"] and s["inodes"] == 6 and s["files"] == 3, s
assert s["objects_checked"] == s["objects"] > 0, s
assert all(f["severity"] == "note" for f in r["findings"]), r["findings"]
PY

# The segment holding the large file's data is the largest one.
victim=$(ls -S "$segments" | head -n 1)
name="segments/$victim"
cp "$segments/$victim" "$work/victim.bak"
size=$(stat -c %s "$work/victim.bak")
flip() {  # flip FILE OFFSET: inverts one byte in place
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((255 - byte)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# (a) A flipped byte inside an extent frame: found by default (every data frame is read),
# not by --quick.
flip "$segments/$victim" 1000
expect 0 "fsck --quick does not read data frames" -- "$zerofs" fsck --quick "${cfg[@]}"
out_has "data frames not read" "quick summary"
expect 7 "fsck finds a flipped byte in a data frame" -- "$zerofs" fsck "${cfg[@]}"
out_has "^problem: corrupt: $name" "corrupt segment named"
out_has "^problem: damaged-data: $name" "files with data in it reported"
out_has "^PROBLEMS FOUND" "problem summary"
expect 7 "fsck --json reports it too" -- "$zerofs" fsck --deep --json "${cfg[@]}"
python3 - "$work/out" "$name" <<'PY' || fail "fsck --json of a corrupt segment"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["clean"] is False and r["problems"] >= 1, r
assert any(f["kind"] == "corrupt" and f["object"] == sys.argv[2] for f in r["findings"]), r
PY
cp "$work/victim.bak" "$segments/$victim"
# ... and a flipped byte in the footer is found without --deep.
flip "$segments/$victim" $((size - 20))
expect 7 "fsck finds a flipped byte in a segment footer" -- "$zerofs" fsck "${cfg[@]}"
out_has "^problem: corrupt: $name" "corrupt footer named"
cp "$work/victim.bak" "$segments/$victim"
expect 0 "clean again after repair" -- "$zerofs" fsck --deep "${cfg[@]}"

# (b) A segment the index refers to, deleted.
rm "$segments/$victim"
expect 7 "fsck finds a deleted segment that the index refers to" -- "$zerofs" fsck "${cfg[@]}"
out_has "^problem: missing: $name: [0-9]+ extents of files point into this absent segment" \
  "missing segment named"
cp "$work/victim.bak" "$segments/$victim"

# (c) A leaked segment: a copy under a seq far beyond the end of the journal.
leak=0000000000100000
cp "$work/victim.bak" "$segments/$leak"
expect 7 "fsck finds a leaked segment" -- "$zerofs" fsck "${cfg[@]}"
out_has "^problem: leak: segments/$leak: lies beyond the end of the journal" "leaked segment named"
rm "$segments/$leak"

# (d) A flipped byte in an index snapshot file.
sst=$(ls -S "$work/bucket/index" | grep '\.sst$' | head -n 1)
cp "$work/bucket/index/$sst" "$work/sst.bak"
flip "$work/bucket/index/$sst" 100
expect 7 "fsck finds a corrupt index snapshot file" -- "$zerofs" fsck "${cfg[@]}"
out_has "^problem: corrupt: index/$sst" "corrupt index file named"
cp "$work/sst.bak" "$work/bucket/index/$sst"

expect 0 "clean after every repair" -- "$zerofs" fsck --deep "${cfg[@]}"

# No false alarms from what the collector and checkpoints leave: a checkpoint that keeps
# the large file's segment, the file deleted (its data dropped), sparse segments compacted
# and dead ones deleted.
expect 0 "checkpoint" -- "$zerofs" checkpoint create "${cfg[@]}" before-delete
expect 0 "delete the large file" -- "$zerofs" rm "${cfg[@]}" /big
expect 0 "fsck after a delete" -- "$zerofs" fsck "${cfg[@]}"
expect 0 "gc" -- "$zerofs" gc --grace 0 "${cfg[@]}"
expect 0 "fsck --deep after gc, with a checkpoint" -- "$zerofs" fsck --deep "${cfg[@]}"
out_has "1 checkpoints" "the checkpoint was checked"
expect 5 "fsck with a wrong password" -- env ZEROFS_PASSWORD=wrong "$zerofs" fsck "${cfg[@]}"
mkdir -p "$work/empty"
expect 3 "fsck of a bucket without a volume" -- "$zerofs" fsck --url "file://$work/empty"
expect 2 "fsck usage error" -- "$zerofs" fsck --jobs 0 "${cfg[@]}"

finish
