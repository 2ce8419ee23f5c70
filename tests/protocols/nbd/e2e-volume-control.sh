#!/usr/bin/env bash
# e2e-volume-control.sh ZEROFS_NBD ZEROFS WORK_DIR: `zerofs nbd create|list|resize|delete`
# through the control socket of a running zerofs-nbd (--control-socket) on a file:// volume.
# Every change is served at once, with no restart: nbdinfo --list shows each step. Named by
# --control-socket alone (no volume options, so the command cannot have opened the volume
# itself) or by [control] socket in --config. Data survives a resize; a deleted export stays
# usable by a client already connected, is refused to new ones, and its storage is released
# once that client leaves. Errors exit with the documented codes (docs/cli.md): 1 for an
# existing name, 3 for a missing export, 2 for a bad name or size or a shrink without
# --shrink. After SIGTERM, the volume opened offline lists what the server made.
zerofs_nbd=$1 zerofs=$2 work=$3
source "$(dirname "$0")/e2e-lib.sh"
need nbdinfo nbdcopy cmp timeout
py=$(find_nbd_python) || exit 1
rm -rf "$work" && mkdir -p "$work"

init_volume
sock="$work/control.sock"
# A second config naming the socket: the CLI finds the server through [control] socket.
cp "$work/zerofs.toml" "$work/client.toml"
printf '[control]\nsocket = "%s"\n' "$sock" >> "$work/client.toml"
start_volume_server --control-socket "$sock"
uri="nbd://127.0.0.1:$port"

# cli EXIT DESCRIPTION ARGS...: `zerofs ARGS` with stdout in $work/out, stderr in $work/err.
cli() {
  local want=$1 what=$2
  shift 2
  timeout 60 "$zerofs" "$@" > "$work/out" 2> "$work/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    ok "$what (exit $got)"
  else
    fail "$what: exit $got, expected $want"
    sed 's/^/  stdout: /' "$work/out"; sed 's/^/  stderr: /' "$work/err"
  fi
}
err_has() { grep -q -- "$1" "$work/err" || { fail "$2: stderr lacks '$1'"; sed 's/^/  stderr: /' "$work/err"; }; }

# served NAME=SIZE...: nbdinfo --list shows exactly these exports with these sizes (none
# with no arguments).
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

# listed_json NAME=SIZE...: the last command printed exactly these exports as JSON.
listed_json() {
  python3 - "$work/out" "$@" << 'PY' && ok "zerofs nbd list --json: ${*:-[]}" || fail "zerofs nbd list --json, expected: ${*:-[]}"
import json, sys
got = {e["name"]: e["size"] for e in json.load(open(sys.argv[1]))}
want = {a.split("=")[0]: int(a.split("=")[1]) for a in sys.argv[2:]}
if got != want: print("  listed", got); sys.exit(1)
PY
}

M=$((1 << 20))
served
cli 0 "nbd list --json of an empty volume" nbd list --control-socket "$sock" --json
listed_json

# create: by --control-socket alone, and through [control] socket of a config.
cli 0 "nbd create disk1 64M by --control-socket" nbd create --control-socket "$sock" disk1 64M
grep -q "created export disk1" "$work/out" || fail "create output: $(cat "$work/out")"
served "disk1=$((64 * M))"
cli 0 "nbd create disk2 1M through [control] socket of --config" \
  nbd create --config "$work/client.toml" disk2 1M
served "disk1=$((64 * M))" "disk2=$M"
# Without a reachable socket the command would open the volume itself, and the server holds it.
cli 6 "nbd create with a config naming no control socket: volume in use" \
  nbd create --config "$work/zerofs.toml" --control-socket "$work/no-such.sock" disk9 1M
served "disk1=$((64 * M))" "disk2=$M"

# list, as text and JSON.
cli 0 "nbd list" nbd list --control-socket "$sock"
grep -Eq "^disk1 +$((64 * M)) +64\.0 MiB$" "$work/out" && grep -Eq "^disk2 +$M +1\.0 MiB$" "$work/out" &&
  ok "nbd list shows both exports with their sizes" || { fail "nbd list output"; cat "$work/out"; }
cli 0 "nbd list --json" nbd list --config "$work/client.toml" --json
listed_json "disk1=$((64 * M))" "disk2=$M"

# Errors, each with its documented exit code; nothing changes.
cli 1 "nbd create of an existing name" nbd create --control-socket "$sock" disk1 8M
err_has "exists" "existing name message"
cli 3 "nbd delete of a missing export" nbd delete --control-socket "$sock" nope
err_has "no export 'nope'" "missing export message"
cli 3 "nbd resize of a missing export" nbd resize --control-socket "$sock" nope 1M
cli 2 "nbd create of a name with '/'" nbd create --control-socket "$sock" a/b 1M
cli 2 "nbd create of a size not a multiple of 512" nbd create --control-socket "$sock" odd 1000
cli 2 "nbd resize smaller without --shrink" nbd resize --control-socket "$sock" disk1 32M
served "disk1=$((64 * M))" "disk2=$M"

# resize keeps the data: 16 MiB written, grown to 128 MiB, then shrunk to 32 MiB.
head -c 16M /dev/urandom > "$work/random.bin"
timeout 60 nbdcopy --flush "$work/random.bin" "$uri/disk1" || fail "nbdcopy to disk1"
cli 0 "nbd resize disk1 128M" nbd resize --control-socket "$sock" disk1 128M
served "disk1=$((128 * M))" "disk2=$M"
timeout 60 nbdcopy "$uri/disk1" "$work/back.bin" || fail "nbdcopy from disk1"
cmp -s "$work/random.bin" <(head -c 16M "$work/back.bin") &&
  head -c 112M /dev/zero | cmp -s - <(tail -c +$((16 * M + 1)) "$work/back.bin") &&
  ok "after growing: the 16 MiB intact, the rest zeros" || fail "disk1 after growing"
cli 0 "nbd resize --shrink disk1 32M" nbd resize --control-socket "$sock" disk1 32M --shrink
served "disk1=$((32 * M))" "disk2=$M"
timeout 60 nbdcopy "$uri/disk1" "$work/back.bin" || fail "nbdcopy from disk1"
[ "$(stat -c %s "$work/back.bin")" -eq $((32 * M)) ] && cmp -s "$work/random.bin" <(head -c 16M "$work/back.bin") &&
  ok "after shrinking: 32 MiB, the 16 MiB intact" || fail "disk1 after shrinking"

# live_bytes_now: the running server's live bytes (`zerofs stats`), -1 when unknown.
live_bytes_now() {
  "$zerofs" stats --control-socket "$sock" --json 2> /dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["space"]["live_bytes"])' 2> /dev/null ||
    echo -1
}
live=$(live_bytes_now)
[ "$live" -ge $((16 * M)) ] && ok "live bytes with disk1's 16 MiB: $live" ||
  fail "live bytes with disk1's 16 MiB: $live"

# delete while a client is connected: that client keeps the device, a new one is refused,
# and the storage goes once the client leaves.
timeout 120 "$py" - "$uri/disk1" "$zerofs" "$sock" << 'PY' && ok "delete of an export in use" || fail "delete of an export in use"
import subprocess, sys, nbd
uri, zerofs, sock = sys.argv[1:4]
h = nbd.NBD(); h.connect_uri(uri)
before = h.pread(1 << 20, 0)
r = subprocess.run([zerofs, "nbd", "delete", "--control-socket", sock, "disk1"],
                   capture_output=True, text=True, timeout=60)
if r.returncode != 0: sys.exit(f"delete exited {r.returncode}: {r.stderr}")
if h.pread(1 << 20, 0) != before: sys.exit("the connected client reads other data after the delete")
h.pwrite(b"z" * 4096, 0); h.flush()
if h.pread(4096, 0) != b"z" * 4096: sys.exit("the connected client cannot write after the delete")
try:
    nbd.NBD().connect_uri(uri)
    sys.exit("a new client opened the deleted export")
except nbd.Error:
    pass
h.shutdown()
PY
served "disk2=$M"
live=-1
for _ in $(seq 60); do
  live=$(live_bytes_now)
  [ "$live" -ge 0 ] && [ "$live" -lt "$M" ] && break
  sleep 0.5
done
[ "$live" -ge 0 ] && [ "$live" -lt "$M" ] && ok "disk1's storage released: live bytes $live" ||
  fail "disk1's storage not released 30 s after its last client left: live bytes $live"

cli 0 "nbd delete disk2" nbd delete --config "$work/client.toml" disk2
served
cli 0 "nbd list --json after deleting everything" nbd list --control-socket "$sock" --json
listed_json
cli 0 "nbd create disk3 2M" nbd create --control-socket "$sock" disk3 2M
served "disk3=$((2 * M))"

# The changes are the volume's: after SIGTERM, offline commands see them.
stop_server
[ -e "$sock" ] && fail "the control socket was left behind"
cli 0 "offline nbd list --json after the server stopped" nbd list --config "$work/zerofs.toml" --json
listed_json "disk3=$((2 * M))"
finish
