#!/usr/bin/env bash
# e2e-unix.sh ZEROFS_NBD WORK_DIR: zerofs-nbd on a Unix socket, driven by nbdinfo, nbdcopy
# and libnbd (nbd_semantics.py), with a TCP listener beside it.
zerofs_nbd=$1 work=$2
source "$(dirname "$0")/e2e-lib.sh"
need nbdinfo nbdcopy cmp timeout
rm -rf "$work" && mkdir -p "$work"
py=$(find_nbd_python) || exit 1
sock="$work/nbd.sock"

start_server --unix "$sock" --listen 127.0.0.1:0 --memory disk:64M \
  --memory slowzero:16M:slow-zero --memory aligned:16M:min-block=512 --memory ro:1M:ro
[ -S "$sock" ] && ok "socket $sock created" || fail "no socket at $sock"

timeout 30 nbdinfo --list "nbd+unix:///?socket=$sock" > "$work/list.txt" ||
  fail "nbdinfo --list over the Unix socket"
grep -q 'export="disk"' "$work/list.txt" && grep -q 'export-size: 67108864' "$work/list.txt" &&
  ok "nbdinfo --list over the Unix socket" || fail "listing content"

head -c 64M /dev/urandom > "$work/random.bin"
timeout 60 nbdcopy "$work/random.bin" "nbd+unix:///disk?socket=$sock" || fail "nbdcopy in"
# Read back over TCP: both listeners serve the same exports.
timeout 60 nbdcopy "nbd://127.0.0.1:$port/disk" "$work/back.bin" || fail "nbdcopy out over TCP"
cmp -s "$work/random.bin" "$work/back.bin" && ok "64 MiB via Unix socket, back via TCP, identical" ||
  fail "data differs"

timeout 120 "$py" "$(dirname "$0")/nbd_semantics.py" "nbd+unix:///?socket=$sock" > "$work/semantics.out" ||
  { fail "nbd_semantics.py over the Unix socket"; cat "$work/semantics.out"; }
grep -q "all semantics checks passed" "$work/semantics.out" && ok "semantics over the Unix socket"

stop_server
[ ! -e "$sock" ] && ok "socket removed on shutdown" || fail "socket left behind"
finish
