#!/usr/bin/env bash
# e2e-volume-clients.sh ZEROFS_NBD ZEROFS WORK_DIR: zerofs-nbd serving the exports of a
# file:// volume made with `zerofs init` and `zerofs nbd create`, driven by nbdinfo,
# nbdcopy, qemu-img and libnbd's Python bindings (nbd_volume.py); the data survives a
# restart of the server.
zerofs_nbd=$1 zerofs=$2 work=$3
source "$(dirname "$0")/e2e-lib.sh"
need nbdinfo nbdcopy qemu-img cmp timeout
py=$(find_nbd_python) || exit 1
rm -rf "$work" && mkdir -p "$work"

init_volume
create_export disk1 256M
create_export img 64M
create_export tiny 1M
create_export sem 64M
"$zerofs" nbd create --config "$work/zerofs.toml" disk1 1M > /dev/null 2>&1 &&
  fail "creating an existing export succeeded"
"$zerofs" nbd create --config "$work/zerofs.toml" a/b 1M > /dev/null 2>&1 &&
  fail "an export name with '/' was accepted"
"$zerofs" nbd list --config "$work/zerofs.toml" --json > "$work/cli-list.json" ||
  fail "zerofs nbd list"
python3 - "$work/cli-list.json" << 'PY' && ok "zerofs nbd list --json" || fail "zerofs nbd list --json content"
import json, sys
got = {e["name"]: e["size"] for e in json.load(open(sys.argv[1]))}
want = {"disk1": 256 << 20, "img": 64 << 20, "tiny": 1 << 20, "sem": 64 << 20}
if got != want: print("got", got); sys.exit(1)
PY

start_volume_server
uri="nbd://127.0.0.1:$port"

# While the server runs: listing works (a read replica); changes are refused rather than
# fencing the server.
"$zerofs" nbd list --config "$work/zerofs.toml" > "$work/cli-list.txt" 2>&1 &&
  grep -q "^disk1 " "$work/cli-list.txt" && ok "zerofs nbd list while the server runs" ||
  { fail "zerofs nbd list while the server runs"; cat "$work/cli-list.txt"; }
"$zerofs" nbd create --config "$work/zerofs.toml" extra 1M > "$work/cli-create.txt" 2>&1
rc=$?
[ "$rc" -eq 6 ] && ok "zerofs nbd create while the server runs: exit 6 (volume in use)" ||
  { fail "zerofs nbd create while the server runs: exit $rc"; cat "$work/cli-create.txt"; }

if timeout 30 nbdinfo --list --json "$uri" > "$work/list.json"; then
  python3 - "$work/list.json" << 'PY' && ok "nbdinfo --list shows every export and size" || fail "nbdinfo --list content"
import json, sys
exports = {e["export-name"]: e for e in json.load(open(sys.argv[1]))["exports"]}
want = {"disk1": 256 << 20, "img": 64 << 20, "tiny": 1 << 20, "sem": 64 << 20}
bad = [n for n, size in want.items() if n not in exports or exports[n]["export-size"] != size]
if bad or len(exports) != len(want) or any(e["is_read_only"] for e in exports.values()):
    print("unexpected listing:", json.dumps(exports, indent=1)); sys.exit(1)
PY
else
  fail "nbdinfo --list exited non-zero"
fi

# 256 MiB of random data in and back.
head -c 256M /dev/urandom > "$work/random.bin"
t=$(now)
if timeout 180 nbdcopy --flush "$work/random.bin" "$uri/disk1"; then
  s=$(elapsed "$t"); ok "nbdcopy --flush 256 MiB to disk1 in ${s}s ($(mbps $((256 << 20)) "$s") MiB/s)"
else
  fail "nbdcopy to disk1"
fi
t=$(now)
if timeout 180 nbdcopy "$uri/disk1" "$work/back.bin"; then
  s=$(elapsed "$t"); ok "nbdcopy 256 MiB from disk1 in ${s}s ($(mbps $((256 << 20)) "$s") MiB/s)"
else
  fail "nbdcopy from disk1"
fi
cmp -s "$work/random.bin" "$work/back.bin" && ok "256 MiB identical after the round trip" ||
  fail "data read back differs from data written"
rm -f "$work/back.bin"


# qemu-img: a sparse qcow2 image into an export and back out as raw.
head -c 8M /dev/urandom > "$work/src.raw"
truncate -s 40M "$work/src.raw"
head -c 4M /dev/urandom >> "$work/src.raw"
truncate -s 64M "$work/src.raw"
qemu-img convert -f raw -O qcow2 "$work/src.raw" "$work/src.qcow2" || fail "qemu-img making qcow2"
timeout 120 qemu-img convert -n -f qcow2 -O raw "$work/src.qcow2" "$uri/img" &&
  ok "qemu-img convert qcow2 -> nbd" || fail "qemu-img convert qcow2 -> nbd"
timeout 120 qemu-img convert -f raw -O raw "$uri/img" "$work/img.raw" &&
  ok "qemu-img convert nbd -> raw" || fail "qemu-img convert nbd -> raw"
cmp -s "$work/src.raw" "$work/img.raw" && ok "qemu-img round trip identical" ||
  fail "qemu-img round trip differs"

# Protocol semantics through libnbd.
timeout 180 "$py" "$(dirname "$0")/nbd_volume.py" semantics "$uri/sem" ||
  fail "nbd_volume.py semantics"

if timeout 30 nbdcopy "$work/src.raw" "$uri/tiny" 2> /dev/null; then
  fail "copying 64 MiB into a 1 MiB export succeeded"
else
  ok "copying past the end of an export fails"
fi
timeout 30 nbdinfo "$uri/no-such-export" > /dev/null 2>&1 && fail "a missing export was served" ||
  ok "a missing export is refused"

# A clean restart keeps everything.
stop_server
start_volume_server
timeout 180 nbdcopy "$uri/disk1" "$work/back.bin" && cmp -s "$work/random.bin" "$work/back.bin" &&
  ok "256 MiB identical after a restart" || fail "disk1 differs after a restart"
timeout 60 qemu-img compare -f raw -F raw "$work/src.raw" "$uri/img" > /dev/null &&
  ok "qemu-img compare after a restart" || fail "img differs after a restart"
stop_server
finish
