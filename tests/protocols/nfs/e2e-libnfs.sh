#!/usr/bin/env bash
# e2e-libnfs.sh ZEROFS_NFS WORK_DIR: zerofs-nfs (in-memory tree) driven by libnfs's
# nfs-ls, nfs-cp and nfs-cat over loopback TCP, MOUNT and NFS on one port, no portmapper.
set -uo pipefail
zerofs_nfs=$1 work=$2
failures=0
server_pid=""
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -9 "$server_pid"; fi
}
trap cleanup EXIT
for p in nfs-ls nfs-cp nfs-cat cmp timeout; do
  command -v "$p" > /dev/null || { echo "FAIL: $p not installed (scripts/install-deps.sh test)"; exit 1; }
done
rm -rf "$work" && mkdir -p "$work"

"$zerofs_nfs" --listen 127.0.0.1:0 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.log" 2> /dev/null && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/server.log" | head -1 | sed 's/.*://')
if [ -z "$port" ]; then
  echo "FAIL: zerofs-nfs did not start"; sed 's/^/  server: /' "$work/server.log"; exit 1
fi
q="version=3&nfsport=$port&mountport=$port"
root="nfs://127.0.0.1/?$q"
# The export is "/", so a file URL names it before the file: nfs://HOST//FILE (libnfs
# takes the part before the last slash as the export and checks it against EXPORT).
url() { echo "nfs://127.0.0.1//$1?$q"; }

# The empty root lists without error.
if timeout 30 nfs-ls "$root" > "$work/ls0.txt" 2>&1; then
  ok "nfs-ls of the empty root"
else
  fail "nfs-ls of the empty root: $(cat "$work/ls0.txt")"
fi

# Files in (several sizes, including one above the 1 MiB transfer size) and back out.
head -c 0 /dev/urandom > "$work/empty.bin"
head -c 1000 /dev/urandom > "$work/small.bin"
head -c $((5 * 1024 * 1024 + 123)) /dev/urandom > "$work/big.bin"
for f in empty small big; do
  if ! timeout 60 nfs-cp "$work/$f.bin" "$(url $f.bin)" > "$work/cp-in-$f.txt" 2>&1; then
    fail "nfs-cp $f.bin in: $(cat "$work/cp-in-$f.txt")"; continue
  fi
  if ! timeout 60 nfs-cp "$(url $f.bin)" "$work/$f.back" > "$work/cp-out-$f.txt" 2>&1; then
    fail "nfs-cp $f.bin out: $(cat "$work/cp-out-$f.txt")"; continue
  fi
  if cmp -s "$work/$f.bin" "$work/$f.back"; then
    ok "$f.bin ($(stat -c %s "$work/$f.bin") bytes) copied in and out byte-identical"
  else
    fail "$f.bin differs after the round trip"
  fi
done

# nfs-cat streams the same bytes.
if timeout 30 nfs-cat "$(url small.bin)" > "$work/cat.bin" 2> "$work/cat.err" &&
   cmp -s "$work/small.bin" "$work/cat.bin"; then
  ok "nfs-cat returns the file's bytes"
else
  fail "nfs-cat: $(cat "$work/cat.err")"
fi

# The listing shows every file with its size.
if timeout 30 nfs-ls "$root" > "$work/ls1.txt" 2>&1; then
  for f in empty small big; do
    size=$(stat -c %s "$work/$f.bin")
    if grep -E "[[:space:]]$size[[:space:]].*$f\.bin$|$size .*$f\.bin" "$work/ls1.txt" > /dev/null; then
      ok "nfs-ls lists $f.bin with size $size"
    else
      fail "nfs-ls does not list $f.bin with size $size:"; sed 's/^/  /' "$work/ls1.txt"
    fi
  done
else
  fail "nfs-ls after the copies: $(cat "$work/ls1.txt")"
fi

# A file that does not exist is an error, not empty output.
if timeout 30 nfs-cat "$(url missing.bin)" > /dev/null 2>&1; then
  fail "nfs-cat of a missing file succeeded"
else
  ok "nfs-cat of a missing file fails"
fi

# The server shuts down cleanly on SIGTERM.
kill -TERM "$server_pid"
for _ in $(seq 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then
  fail "zerofs-nfs still running 15 s after SIGTERM"
else
  wait "$server_pid"; rc=$?
  [ "$rc" -eq 0 ] && ok "clean exit on SIGTERM" || fail "exit status $rc after SIGTERM"
fi
if grep -q "protocol violation" "$work/server.log"; then
  fail "the server saw protocol violations:"; grep "protocol violation" "$work/server.log"
fi

# --config: [servers.nfs] listen is honoured.
printf '[servers.nfs]\nlisten = ["127.0.0.1:0"]\n' > "$work/zerofs.toml"
"$zerofs_nfs" --config "$work/zerofs.toml" > "$work/server2.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/server2.log" 2> /dev/null && break
  sleep 0.1
done
port2=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/server2.log" | head -1 | sed 's/.*://')
if [ -n "$port2" ] &&
   timeout 30 nfs-ls "nfs://127.0.0.1/?version=3&nfsport=$port2&mountport=$port2" > /dev/null; then
  ok "--config [servers.nfs] listen serves on 127.0.0.1:$port2"
else
  fail "--config: $(cat "$work/server2.log")"
fi
kill -TERM "$server_pid" 2> /dev/null
wait "$server_pid" 2> /dev/null

if [ "$failures" -ne 0 ]; then
  echo "e2e-libnfs: $failures failures; server log:"; sed 's/^/  server: /' "$work/server.log"
  exit 1
fi
echo "e2e-libnfs: all passed"
