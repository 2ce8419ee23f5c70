#!/usr/bin/env bash
# bench-smallfiles.sh ZEROFS_NFS ZEROFS CLIENT [COUNT] [SIZE]: small-file throughput of
# zerofs-nfs over libnfs, commit=durable against commit=relaxed, on a file:// volume.
# Each file: CREATE, one WRITE UNSTABLE of SIZE bytes, COMMIT (what the Linux client sends
# for create + write + close). A benchmark, not a test: it prints files per second.
#   tests/protocols/nfs/bench-smallfiles.sh build/servers/nfs/zerofs-nfs \
#     build/tools/zerofs/zerofs build/tests/protocols/nfs/zerofs-nfs-libnfs-client 500 4096
set -uo pipefail
zerofs_nfs=$1 zerofs=$2 client=$3 count=${4:-500} size=${5:-4096}
. "$(dirname "$0")/nfs-test-lib.sh"
work=$(mktemp -d /tmp/zerofs-nfs-bench.XXXXXX)
trap 'nfs_stop KILL > /dev/null 2>&1; rm -rf "$work"' EXIT
for mode in durable relaxed; do
  rm -rf "$work/$mode" && mkdir -p "$work/$mode"
  nfs_init_volume "$zerofs" "$work/$mode" || exit 1
  nfs_start "$zerofs_nfs" "$work/$mode" "$work/$mode/server.log" --commit "$mode" || exit 1
  printf '%-8s ' "$mode"
  "$client" smallfiles 127.0.0.1 "$NFS_PORT" /bench "$count" "$size"
  nfs_stop TERM
  grep -o '"acks_without_flush":[0-9]*,"commit":"[a-z]*","commits":[0-9]*' "$work/$mode/server.log"
done
