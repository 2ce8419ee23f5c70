#!/usr/bin/env bash
# cli-fs.sh ZEROFS_BINARY WORK_DIR: `zerofs ls|cat|get|put|mkdir|rm` on a file:// bucket,
# without a server, and the exit codes they document (docs/cli.md).
set -uo pipefail
zerofs=$1 work=$2
. "$(dirname "$0")/cli-lib.sh"
make_volume
cfg=(--config "$work/zerofs.toml")

head -c 200000 /dev/urandom > "$work/blob"
printf 'hello, zerofs\n' > "$work/small"

# A volume never written to reads as empty.
expect 0 "ls of a new volume" -- "$zerofs" ls "${cfg[@]}" /
[ -s "$work/out" ] && fail "ls of a new volume printed: $(cat "$work/out")"
expect 3 "cat in a new volume" -- "$zerofs" cat "${cfg[@]}" /nothing

expect 0 "put a file" -- "$zerofs" put "${cfg[@]}" "$work/blob" /blob
expect 0 "mkdir -p" -- "$zerofs" mkdir -p "${cfg[@]}" /a/b/c
expect 0 "mkdir -p of an existing directory" -- "$zerofs" mkdir -p "${cfg[@]}" /a/b
expect 1 "mkdir of an existing directory" -- "$zerofs" mkdir "${cfg[@]}" /a
err_has "EEXIST" "mkdir message"
expect 3 "mkdir under a missing parent" -- "$zerofs" mkdir "${cfg[@]}" /x/y
expect 0 "put into a directory keeps the name" -- "$zerofs" put "${cfg[@]}" "$work/small" /a/b/
printf 'from stdin\n' | expect 0 "put from stdin" -- "$zerofs" put "${cfg[@]}" - /a/in.txt

expect 0 "ls /" -- "$zerofs" ls "${cfg[@]}" /
[ "$(sort "$work/out" | tr '\n' ' ')" = "a blob " ] || fail "ls / lists: $(cat "$work/out")"
expect 0 "ls -l" -- "$zerofs" ls -l "${cfg[@]}" /
out_has '^-rw-r--r-- +1 +0 +0 +200000 .* blob$' "ls -l file line"
out_has '^drwxr-xr-x +3 +0 +0 .* a$' "ls -l directory line (nlink 2 + 1 subdirectory)"
expect 0 "ls --json of a file" -- "$zerofs" ls --json "${cfg[@]}" /a/in.txt
python3 - "$work/out" <<'PY' || fail "ls --json content"
import json, sys
entries = json.load(open(sys.argv[1]))
assert len(entries) == 1, entries
e = entries[0]
assert e["name"] == "in.txt" and e["type"] == "file" and e["size"] == 11, e
assert e["mode"] == "0644" and e["uid"] == 0 and e["nlink"] == 1, e
PY
expect 3 "ls of a missing path" -- "$zerofs" ls "${cfg[@]}" /nope
err_has "ENOENT" "ls missing message"

expect 0 "cat" -- "$zerofs" cat "${cfg[@]}" /a/b/small /a/in.txt
[ "$(cat "$work/out")" = "$(printf 'hello, zerofs\nfrom stdin')" ] || fail "cat bytes: $(cat "$work/out")"
expect 1 "cat of a directory" -- "$zerofs" cat "${cfg[@]}" /a
err_has "EISDIR" "cat directory message"
expect 0 "get to a file" -- "$zerofs" get "${cfg[@]}" /blob "$work/blob.back"
cmp -s "$work/blob" "$work/blob.back" || fail "get: bytes differ"
expect 0 "get to stdout" -- "$zerofs" get "${cfg[@]}" /blob -
cmp -s "$work/blob" "$work/out" || fail "get -: bytes differ"
expect 3 "get of a missing file" -- "$zerofs" get "${cfg[@]}" /nope "$work/nope"
[ ! -e "$work/nope" ] && [ ! -e "$work/nope.zerofs-get" ] || fail "failed get left a file"

# A checkpoint keeps the state it froze, whatever happens later.
expect 0 "checkpoint" -- "$zerofs" checkpoint create "${cfg[@]}" frozen
# Overwrite: put truncates.
expect 0 "put over an existing file" -- "$zerofs" put "${cfg[@]}" "$work/small" /blob
expect 0 "cat the overwritten file" -- "$zerofs" cat "${cfg[@]}" /blob
cmp -s "$work/small" "$work/out" || fail "overwrite: bytes differ"

expect 0 "cat --checkpoint sees the old content" -- "$zerofs" cat --checkpoint frozen "${cfg[@]}" /blob
cmp -s "$work/blob" "$work/out" || fail "cat --checkpoint: bytes differ"
expect 3 "ls --checkpoint of a missing checkpoint" -- "$zerofs" ls --checkpoint nope "${cfg[@]}" /

expect 1 "rm of a directory without -r" -- "$zerofs" rm "${cfg[@]}" /a
err_has "use rm -r" "rm directory message"
expect 0 "rm a file" -- "$zerofs" rm "${cfg[@]}" /a/in.txt
expect 3 "rm it again" -- "$zerofs" rm "${cfg[@]}" /a/in.txt
expect 0 "rm -r" -- "$zerofs" rm -r "${cfg[@]}" /a
expect 0 "ls after rm" -- "$zerofs" ls "${cfg[@]}" /
[ "$(cat "$work/out")" = "blob" ] || fail "ls after rm: $(cat "$work/out")"

# Without --config: --url and the password from the environment or --password-file.
expect 0 "--url with ZEROFS_PASSWORD" -- "$zerofs" cat --url "file://$work/bucket" /blob
printf 'cli-test-password\n' > "$work/pwfile"
expect 0 "--url with --password-file" -- env -u ZEROFS_PASSWORD "$zerofs" cat \
  --url "file://$work/bucket" --password-file "$work/pwfile" /blob

# Errors every volume command shares.
expect 5 "wrong password" -- env ZEROFS_PASSWORD=wrong "$zerofs" ls "${cfg[@]}" /
err_has "wrong password" "wrong-password message"
expect 5 "wrong password, writer" -- env ZEROFS_PASSWORD=wrong "$zerofs" mkdir "${cfg[@]}" /z
mkdir -p "$work/empty"
expect 3 "no volume in the bucket" -- "$zerofs" ls --url "file://$work/empty" /
err_has "zerofs init" "missing-volume hint"
expect 2 "no password at all" -- env -u ZEROFS_PASSWORD "$zerofs" ls --url "file://$work/bucket" /
err_has "no volume password" "no-password message"
printf '[storage]\nurll = "file:///x"\n' > "$work/bad.toml"
expect 2 "unknown config key" -- "$zerofs" ls --config "$work/bad.toml" /
err_has "'storage.urll' is not a known setting" "bad key is named"
expect 2 "a malformed URL" -- "$zerofs" ls --url "ftp://nowhere" /
expect 3 "passwd without a volume" -- env ZEROFS_NEW_PASSWORD=x "$zerofs" passwd "${cfg[@]}" \
  --url "file://$work/empty"
expect 3 "init with a missing config file" -- "$zerofs" init --config "$work/none.toml"
expect 2 "usage: put without a path" -- "$zerofs" put "${cfg[@]}" "$work/small"
expect 2 "usage: unknown flag" -- "$zerofs" ls --frobnicate "${cfg[@]}" /

finish
