#!/usr/bin/env bash
# e2e-semantics.sh ZEROFS_NBD WORK_DIR: protocol semantics through libnbd (nbd_semantics.py)
# over loopback TCP.
zerofs_nbd=$1 work=$2
source "$(dirname "$0")/e2e-lib.sh"
rm -rf "$work" && mkdir -p "$work"
py=$(find_nbd_python) || exit 1

start_server --listen 127.0.0.1:0 --memory disk:64M --memory slowzero:16M:slow-zero \
  --memory aligned:16M:min-block=512 --memory ro:1M:ro
timeout 120 "$py" "$(dirname "$0")/nbd_semantics.py" "nbd://127.0.0.1:$port" ||
  fail "nbd_semantics.py"
stop_server
finish
