#!/bin/bash
# zerofs-9p (serving an --ephemeral volume) against diod's client tools (Debian package
# diod): diodls lists a tree and diodcat reads files that a small Python 9P client
# (seed.py) created over the wire.
# Usage: e2e-diod.sh ZEROFS_9P_BINARY WORK_DIR
set -euo pipefail
bin=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
for tool in diodls diodcat python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (apt-get install diod)"; exit 1; }
done
rm -rf "$work"
mkdir -p "$work"
"$bin" --ephemeral --listen 127.0.0.1:0 --unix "$work/9p.sock" --log-level info >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q "listening on 127.0.0.1:" "$work/server.log" && break
  sleep 0.1
done
port=$(grep -o "listening on 127.0.0.1:[0-9]*" "$work/server.log" | head -1 | cut -d: -f2)
[ -n "$port" ] || { cat "$work/server.log"; echo "FAIL: server did not start"; exit 1; }

python3 "$here/seed.py" 127.0.0.1 "$port"

ls_out=$(timeout 20 diodls -s "127.0.0.1:$port" -a / -l)
echo "$ls_out"
for name in hello.txt docs big.bin; do
  grep -q "$name" <<<"$ls_out" || { echo "FAIL: diodls does not list $name"; exit 1; }
done
ls_docs=$(timeout 20 diodls -s "127.0.0.1:$port" -a / docs)
grep -q "inner.txt" <<<"$ls_docs" || { echo "FAIL: diodls docs: $ls_docs"; exit 1; }

got=$(timeout 20 diodcat -s "127.0.0.1:$port" -a / hello.txt)
[ "$got" = "hello from zerofs-9p" ] || { echo "FAIL: diodcat hello.txt gave '$got'"; exit 1; }
# A file larger than msize: diodcat reads it in many Treads.
timeout 20 diodcat -m 8192 -s "127.0.0.1:$port" -a / big.bin >"$work/big.out"
python3 - "$work/big.out" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
expected = bytes((i * 7) % 251 for i in range(300000))
sys.exit(0 if data == expected else f"FAIL: big.bin differs ({len(data)} bytes)")
PY
# A missing file is an error, and the server keeps serving.
if timeout 20 diodcat -s "127.0.0.1:$port" -a / missing 2>/dev/null; then
  echo "FAIL: diodcat of a missing file succeeded"; exit 1
fi
inner=$(timeout 20 diodcat -s "127.0.0.1:$port" -a / docs/inner.txt) || true
grep -q "inner" <<< "$inner" || {
  echo "FAIL: diodcat docs/inner.txt"; exit 1; }
if grep -q "protocol violation" "$work/server.log"; then
  cat "$work/server.log"; echo "FAIL: the server saw a protocol violation"; exit 1
fi
echo "PASS: diodls and diodcat against zerofs-9p"
