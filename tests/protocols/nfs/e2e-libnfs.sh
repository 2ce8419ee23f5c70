#!/usr/bin/env bash
# e2e-libnfs.sh ZEROFS_NFS ZEROFS WORK_DIR: zerofs-nfs serving a file:// volume (made with
# `zerofs init`) driven by libnfs-utils' nfs-ls, nfs-cp and nfs-cat over loopback TCP, MOUNT
# and NFS on one port, no portmapper; then a restart serves the same files.
# (Debian 12's libnfs-utils has no nfs-stat; nfs-ls shows the attributes.)
set -uo pipefail
zerofs_nfs=$1 zerofs=$2 work=$3
. "$(dirname "$0")/nfs-test-lib.sh"
trap 'nfs_stop KILL > /dev/null 2>&1' EXIT
for p in nfs-ls nfs-cp nfs-cat cmp timeout; do
  command -v "$p" > /dev/null || { echo "FAIL: $p not installed (scripts/install-deps.sh test)"; exit 1; }
done
rm -rf "$work" && mkdir -p "$work"
nfs_init_volume "$zerofs" "$work" || exit 1
nfs_start "$zerofs_nfs" "$work" "$work/server.log" || exit 1
port=$NFS_PORT
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

# The URL forms users type: nfs://HOST//FILE, and nfs://HOST/FILE, for which libnfs mounts
# the empty path (the server answers it with the root export). libnfs itself then refuses an
# empty export when it checks the export list for nested exports ("Export is empty"), so that
# form needs auto-traverse-mounts=0 (servers/nfs/README.md).
short_url() { echo "nfs://127.0.0.1/$1?$q&auto-traverse-mounts=0"; }
if timeout 60 nfs-cp "$work/small.bin" "$(short_url short.bin)" > "$work/cp-short.txt" 2>&1; then
  ok "nfs-cp to nfs://HOST/FILE"
else
  fail "nfs-cp to nfs://HOST/FILE: $(cat "$work/cp-short.txt")"
fi
for form in short_url url; do
  if timeout 30 nfs-cat "$($form short.bin)" > "$work/cat-$form.bin" 2> "$work/cat-$form.err" &&
     cmp -s "$work/small.bin" "$work/cat-$form.bin"; then
    ok "nfs-cat $($form short.bin | sed 's/?.*//') returns the file's bytes"
  else
    fail "nfs-cat $($form short.bin): $(cat "$work/cat-$form.err")"
  fi
done

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

# The server shuts down cleanly on SIGTERM, closing the volume.
if nfs_stop TERM; then ok "clean exit on SIGTERM"; else fail "exit status $? after SIGTERM"; fi
grep -q "nfs: volume closed" "$work/server.log" || fail "the volume was not closed on SIGTERM"
grep -q "commit=durable" "$work/server.log" || fail "the start line does not name the commit mode"
if grep -q "protocol violation" "$work/server.log"; then
  fail "the server saw protocol violations:"; grep "protocol violation" "$work/server.log"
fi

# A new server on the same volume serves the same files, with attributes (nfs-ls).
nfs_start "$zerofs_nfs" "$work" "$work/server2.log" --commit relaxed || exit 1
q="version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT"
grep -q "commit=relaxed" "$work/server2.log" || fail "--commit relaxed is not in the start line"
if timeout 30 nfs-cp "$(url big.bin)" "$work/big.again" > "$work/cp-again.txt" 2>&1 &&
   cmp -s "$work/big.bin" "$work/big.again"; then
  ok "big.bin byte-identical after a restart"
else
  fail "big.bin after a restart: $(cat "$work/cp-again.txt")"
fi
if timeout 30 nfs-ls "nfs://127.0.0.1/?$q" > "$work/ls2.txt" 2>&1 &&
   grep -E "^-rw.* small\.bin$|small\.bin" "$work/ls2.txt" | grep -q 1000; then
  ok "nfs-ls after a restart shows small.bin with its size"
else
  fail "nfs-ls after a restart:"; sed 's/^/  /' "$work/ls2.txt"
fi
nfs_stop TERM || fail "second server exit status"
grep -q '"commit":"relaxed"' "$work/server2.log" || fail "the stats line does not show commit=relaxed"

if [ "$failures" -ne 0 ]; then
  echo "e2e-libnfs: $failures failures; server log:"; sed 's/^/  server: /' "$work/server.log"
  exit 1
fi
echo "e2e-libnfs: all passed"
