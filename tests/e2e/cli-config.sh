#!/usr/bin/env bash
# cli-config.sh ZEROFS_BINARY WORK_DIR SOURCE_DIR: `zerofs config example` parses back (with
# `config check` and with a command that opens a volume from it), holds exactly the settings
# docs/configuration.md documents, and `config check` names the key of every mistake.
set -uo pipefail
zerofs=$1 work=$2 src=$3
. "$(dirname "$0")/cli-lib.sh"
make_volume

expect 0 "config example" -- "$zerofs" config example
cp "$work/out" "$work/example.toml"
expect 0 "config check of the example" -- "$zerofs" config check --config "$work/example.toml"
out_has "example.toml: ok" "check verdict"
out_has "server nfs: 127.0.0.1:2049" "check summary"
# A command that loads the example for real, pointed at the test volume by --url.
expect 0 "the example opens a volume" -- "$zerofs" ls --config "$work/example.toml" \
  --url "file://$work/bucket" /
expect 2 "the example needs ZEROFS_PASSWORD" -- env -u ZEROFS_PASSWORD "$zerofs" config check \
  --config "$work/example.toml"
err_has "ZEROFS_PASSWORD" "unset variable named"

# Every documented key is in the example and every key of the example is documented.
python3 - "$work/example.toml" "$src/docs/configuration.md" <<'PY' || fail "example vs docs"
import re, sys, tomllib
def flatten(table, prefix=""):
    for k, v in table.items():
        if isinstance(v, dict):
            yield from flatten(v, prefix + k + ".")
        else:
            yield prefix + k
example = set(flatten(tomllib.load(open(sys.argv[1], "rb"))))
text = open(sys.argv[1]).read()
example |= set("storage." + k for k in re.findall(r"^# (\w+) = ", text, re.M))  # alternatives
documented = set()
for key in re.findall(r"^\| `([a-z0-9_.<>]+)` \|", open(sys.argv[2]).read(), re.M):
    if "<name>" in key:
        documented |= {key.replace("<name>", s) for s in ("nfs", "ninep", "nbd")}
    else:
        documented.add(key)
missing = sorted(documented - example)
undocumented = sorted(example - documented)
if missing:
    print("documented in docs/configuration.md but missing from `zerofs config example` "
          "(tools/zerofs/config_cmd.cpp):", missing)
if undocumented:
    print("in `zerofs config example` but not documented in docs/configuration.md:", undocumented)
sys.exit(1 if missing or undocumented else 0)
PY

# Mistakes: each names the key (exit 2); a missing file is "not found" (exit 3).
check_bad() {  # check_bad DESCRIPTION EXPECTED-STDERR-PATTERN TOML
  printf '%s\n' "$3" > "$work/bad.toml"
  expect 2 "config check: $1" -- "$zerofs" config check --config "$work/bad.toml"
  err_has "$2" "$1: message"
}
check_bad "unknown key" "'storage.urll' is not a known setting" $'[storage]\nurll = "x"'
check_bad "unknown table" "'stroage' is not a known setting" $'[stroage]\nurl = "x"'
check_bad "wrong type" "'cache.memory_mb' must be an integer" $'[cache]\nmemory_mb = "lots"'
check_bad "out of range" "'s3.max_parallel' must be between 1 and 1024" $'[s3]\nmax_parallel = 0'
check_bad "bad compression" "'storage.compression'" $'[storage]\ncompression = "zstd:99"'
check_bad "bad URL" "'storage.url'" $'[storage]\nurl = "ftp://nowhere"'
check_bad "bad listen address" "'servers.nfs.listen'" $'[servers.nfs]\nlisten = "localhost"'
check_bad "bad TOML" "invalid TOML" $'[storage\nurl = 1'
expect 3 "config check of a missing file" -- "$zerofs" config check --config "$work/none.toml"
expect 2 "config without a subcommand" -- "$zerofs" config

finish
