#!/usr/bin/env bash
# e2e-clients.sh ZEROFS_NBD WORK_DIR: zerofs-nbd driven by libnbd's nbdinfo and nbdcopy and
# by qemu-img, over loopback TCP.
zerofs_nbd=$1 work=$2
source "$(dirname "$0")/e2e-lib.sh"
need nbdinfo nbdcopy qemu-img cmp timeout
rm -rf "$work" && mkdir -p "$work"

start_server --listen 127.0.0.1:0 --memory disk1:256M --memory disk2:64M:ro \
  --memory img:64M --memory tiny:1M
uri="nbd://127.0.0.1:$port"

# Every export listed with its size.
if timeout 30 nbdinfo --list --json "$uri" > "$work/list.json"; then
  python3 - "$work/list.json" << 'PY' && ok "nbdinfo --list shows every export and size" || fail "nbdinfo --list content"
import json, sys
exports = {e["export-name"]: e for e in json.load(open(sys.argv[1]))["exports"]}
want = {"disk1": 256 << 20, "disk2": 64 << 20, "img": 64 << 20, "tiny": 1 << 20}
bad = [n for n, size in want.items() if n not in exports or exports[n]["export-size"] != size]
if bad or not exports["disk2"]["is_read_only"] or exports["disk1"]["is_read_only"]:
    print("unexpected listing:", json.dumps(exports, indent=1)); sys.exit(1)
PY
else
  fail "nbdinfo --list exited non-zero"
fi
timeout 30 nbdinfo --list "$uri" | tee "$work/list.txt" | grep -E 'export=|export-size' | sed 's/^/  /'

# 256 MiB of random data to an export and back.
head -c 256M /dev/urandom > "$work/random.bin"
t=$(now)
if timeout 120 nbdcopy "$work/random.bin" "$uri/disk1"; then
  s=$(elapsed "$t"); ok "nbdcopy 256 MiB to disk1 in ${s}s ($(mbps $((256 << 20)) "$s") MiB/s)"
else
  fail "nbdcopy to disk1"
fi
t=$(now)
if timeout 120 nbdcopy "$uri/disk1" "$work/back.bin"; then
  s=$(elapsed "$t"); ok "nbdcopy 256 MiB from disk1 in ${s}s ($(mbps $((256 << 20)) "$s") MiB/s)"
else
  fail "nbdcopy from disk1"
fi
cmp -s "$work/random.bin" "$work/back.bin" && ok "256 MiB identical after the round trip" ||
  fail "data read back differs from data written"
rm -f "$work/back.bin"

# qemu-img: a sparse qcow2 image into an export, then the export back out as raw.
head -c 8M /dev/urandom > "$work/src.raw"
truncate -s 40M "$work/src.raw"
head -c 4M /dev/urandom >> "$work/src.raw"
truncate -s 64M "$work/src.raw"
qemu-img convert -f raw -O qcow2 "$work/src.raw" "$work/src.qcow2" || fail "qemu-img making qcow2"
if timeout 120 qemu-img convert -n -f qcow2 -O raw "$work/src.qcow2" "$uri/img"; then
  ok "qemu-img convert qcow2 -> nbd"
else
  fail "qemu-img convert qcow2 -> nbd"
fi
if timeout 120 qemu-img convert -f raw -O raw "$uri/img" "$work/img.raw"; then
  ok "qemu-img convert nbd -> raw"
else
  fail "qemu-img convert nbd -> raw"
fi
cmp -s "$work/src.raw" "$work/img.raw" && ok "qemu-img round trip identical" ||
  fail "qemu-img round trip differs"
timeout 60 qemu-img compare -f qcow2 -F raw "$work/src.qcow2" "$uri/img" > /dev/null &&
  ok "qemu-img compare qcow2 vs export" || fail "qemu-img compare"

# Refusals a user would notice.
if timeout 30 nbdcopy "$work/src.raw" "$uri/disk2" 2> "$work/ro.err"; then
  fail "writing to a read-only export succeeded"
else
  ok "writing to a read-only export fails"
fi
if timeout 30 nbdinfo "$uri/no-such-export" > /dev/null 2>&1; then
  fail "nbdinfo of a missing export succeeded"
else
  ok "a missing export is refused"
fi
if timeout 30 nbdcopy "$work/src.raw" "$uri/tiny" 2> /dev/null; then
  fail "copying 64 MiB into a 1 MiB export succeeded"
else
  ok "copying past the end of an export fails"
fi

stop_server
finish
