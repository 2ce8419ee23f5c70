#!/usr/bin/env bash
# e2e-volume-nfs.sh ZEROFS WORK_DIR: NBD exports are the files in /.nbd/ of a volume, and
# they may be made and used through a file protocol. One `zerofs run` serves a file:// volume
# over NFS and NBD; with no restart in between:
#  1. libnfs-utils' nfs-cp copies an 8 MiB file to /.nbd/vol1; nbdinfo --list then shows the
#     export vol1 of 8 MiB, and nbdcopy reads exactly the bytes NFS wrote;
#  2. libnbd writes, zeroes and trims ranges of vol1 and flushes; nfs-cp and nfs-cat read
#     the result back, byte for byte;
#  3. an export made with `zerofs nbd create` through the control socket is a file of that
#     size to NFS, reading as zeros;
# and after SIGTERM, `zerofs cat` of the stopped volume returns vol1 as NBD left it.
zerofs=$1 work=$2
source "$(dirname "$0")/e2e-lib.sh"
need nfs-cp nfs-cat nfs-ls nbdinfo nbdcopy cmp timeout
py=$(find_nbd_python) || exit 1
rm -rf "$work" && mkdir -p "$work"

init_volume
cat >> "$work/zerofs.toml" << TOML
[servers.nfs]
listen = ["127.0.0.1:0"]
[servers.nbd]
listen = ["127.0.0.1:0"]
[control]
socket = "$work/control.sock"
[log]
file = "$work/server.log"
TOML
cfg=(--config "$work/zerofs.toml")

# server_pid is e2e-lib.sh's: its cleanup kills the server on exit, stop_server stops it.
"$zerofs" run "${cfg[@]}" > "$work/run.out" 2> "$work/run.err" &
server_pid=$!
for _ in $(seq 300); do
  grep -q '^control ' "$work/run.out" 2> /dev/null && break
  kill -0 "$server_pid" 2> /dev/null || break
  sleep 0.1
done
if ! grep -q '^control ' "$work/run.out"; then
  echo "FAIL: zerofs run did not start"; cat "$work/run.err" "$work/server.log"; exit 1
fi
nfs_port=$(sed -n 's/^nfs 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/run.out")
nbd_port=$(sed -n 's/^nbd 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/run.out")
[ -n "$nfs_port" ] && [ -n "$nbd_port" ] ||
  { echo "FAIL: zerofs run printed no nfs or nbd address"; cat "$work/run.out"; exit 1; }
uri="nbd://127.0.0.1:$nbd_port"
q="version=3&nfsport=$nfs_port&mountport=$nfs_port"
# The export is "/": a file URL names it before the path, nfs://HOST//PATH (libnfs takes the
# part before the last slash as the export and checks it against EXPORT).
nfs_url() { echo "nfs://127.0.0.1//$1?$q"; }

# served NAME=SIZE...: nbdinfo --list shows exactly these exports with these sizes.
served() {
  if ! timeout 30 nbdinfo --list --json "$uri" > "$work/list.json" 2> "$work/list.err"; then
    fail "nbdinfo --list exited non-zero: $(cat "$work/list.err")"; return
  fi
  python3 - "$work/list.json" "$@" << 'PY' && ok "nbdinfo --list: ${*:-no exports}" || fail "nbdinfo --list, expected: ${*:-no exports}"
import json, sys
got = {e["export-name"]: e["export-size"] for e in json.load(open(sys.argv[1]))["exports"]}
want = {a.split("=")[0]: int(a.split("=")[1]) for a in sys.argv[2:]}
if got != want: print("  nbdinfo lists", got); sys.exit(1)
PY
}

served

# 1. A file copied into /.nbd/ over NFS is an export at once.
head -c 8M /dev/urandom > "$work/vol1.bin"
timeout 60 nfs-cp "$work/vol1.bin" "$(nfs_url .nbd/vol1)" > "$work/nfs-cp.txt" 2>&1 &&
  ok "nfs-cp of 8 MiB to /.nbd/vol1" || fail "nfs-cp to /.nbd/vol1: $(cat "$work/nfs-cp.txt")"
served "vol1=$((8 << 20))"
timeout 60 nbdcopy "$uri/vol1" "$work/vol1.nbd" && cmp -s "$work/vol1.bin" "$work/vol1.nbd" &&
  ok "nbdcopy reads vol1 as NFS wrote it" || fail "vol1 over NBD differs from what NFS wrote"

# 2. Writes over NBD are what NFS reads: 1 MiB of new data at 3 MiB, zeroes over 512 KiB at
# 5 MiB, a trim of 1 MiB at 7 MiB (NBD trimmed ranges read as zeros), then FLUSH. The
# expected image is vol1.bin with the same changes.
timeout 60 "$py" - "$uri/vol1" "$work/vol1.bin" "$work/vol1.expected" << 'PY' &&
import os, sys, nbd
uri, src, expected = sys.argv[1:4]
image = bytearray(open(src, "rb").read())
data = os.urandom(1 << 20)
h = nbd.NBD(); h.connect_uri(uri)
h.pwrite(data, 3 << 20); image[3 << 20:4 << 20] = data
h.zero(512 << 10, 5 << 20); image[5 << 20:(5 << 20) + (512 << 10)] = bytes(512 << 10)
h.trim(1 << 20, 7 << 20); image[7 << 20:8 << 20] = bytes(1 << 20)
h.flush(); h.shutdown()
open(expected, "wb").write(image)
PY
  ok "NBD write, write-zeroes and trim of vol1, then FLUSH" || fail "NBD writes to vol1"
timeout 60 nfs-cp "$(nfs_url .nbd/vol1)" "$work/vol1.nfs" > "$work/nfs-cp.txt" 2>&1 &&
  cmp -s "$work/vol1.expected" "$work/vol1.nfs" && ok "nfs-cp reads vol1 as NBD left it" ||
  fail "vol1 over NFS (nfs-cp) differs from what NBD wrote: $(cat "$work/nfs-cp.txt")"
timeout 60 nfs-cat "$(nfs_url .nbd/vol1)" 2> "$work/nfs-cat.err" | cmp -s "$work/vol1.expected" - &&
  ok "nfs-cat reads vol1 as NBD left it" ||
  fail "vol1 over NFS (nfs-cat) differs from what NBD wrote: $(cat "$work/nfs-cat.err")"

# 3. An export made through the control socket is a file to NFS.
"$zerofs" nbd create "${cfg[@]}" disk2 2M > "$work/create.txt" 2>&1 &&
  ok "zerofs nbd create disk2 2M through the control socket" ||
  fail "zerofs nbd create disk2: $(cat "$work/create.txt")"
served "vol1=$((8 << 20))" "disk2=$((2 << 20))"
timeout 30 nfs-ls "nfs://127.0.0.1//.nbd?$q" > "$work/ls.txt" 2>&1 &&
  grep -Eq "^-.* $((2 << 20)) disk2$" "$work/ls.txt" && grep -Eq "^-.* $((8 << 20)) vol1$" "$work/ls.txt" &&
  ok "nfs-ls /.nbd shows disk2 and vol1 with their sizes" ||
  { fail "nfs-ls /.nbd:"; sed 's/^/  /' "$work/ls.txt"; }
timeout 30 nfs-cat "$(nfs_url .nbd/disk2)" 2> "$work/nfs-cat.err" | cmp -s <(head -c 2M /dev/zero) - &&
  ok "nfs-cat reads disk2 as 2 MiB of zeros" || fail "nfs-cat of disk2: $(cat "$work/nfs-cat.err")"

kill -0 "$server_pid" 2> /dev/null || fail "zerofs run died"
stop_server
# The volume holds what NBD acknowledged as flushed.
"$zerofs" cat "${cfg[@]}" /.nbd/vol1 2> "$work/cat.err" | cmp -s "$work/vol1.expected" - &&
  ok "zerofs cat of the stopped volume: vol1 as NBD left it" ||
  fail "zerofs cat /.nbd/vol1 after the stop: $(cat "$work/cat.err")"
finish
