#!/usr/bin/env bash
# bench-nfs.sh [ZEROFS_NFS [ZEROFS [NFS_LOAD]]]: NFSv3 throughput of zerofs-nfs over loopback
# TCP, measured by nfs_load (libnfs, one connection and thread each), on a fresh file://
# volume per commit mode:
#   durable   COMMIT waits until the data is in the bucket (the default)
#   relaxed   COMMIT answers at once; data reaches the bucket with the next flush
# For each mode and each connection count (BENCH_CONNECTIONS, default "1 16"):
#   small files/s  create + 4 KiB WRITE UNSTABLE + close (libnfs COMMITs at close, as a Linux
#                  client does), for BENCH_SECONDS (default 10), every file read back after
#   write MB/s     BENCH_MIB (default 256) MiB split over the connections, one file each,
#                  1 MiB WRITEs, one COMMIT at the end
#   read MB/s      the same files read back right after (warm) and compared byte for byte
# Prints nfs_load's rows, each server's COMMIT counters, then a markdown table. Numbers, not
# assertions: run it on a quiet machine. The server has no simulated bucket latency, so the
# file:// bucket is the local disk. Any failed call or mismatch read back stops the script.
# ZEROFS and NFS_LOAD default to the tools of the same build directory.
set -euo pipefail
zerofs_nfs=${1:-build/servers/nfs/zerofs-nfs}
build_dir=$(dirname "$zerofs_nfs")/../..
zerofs=${2:-$build_dir/tools/zerofs/zerofs}
nfs_load=${3:-$build_dir/tests/bench/nfs_load}
seconds=${BENCH_SECONDS:-10}
mib=${BENCH_MIB:-256}
connections=${BENCH_CONNECTIONS:-1 16}
for p in "$zerofs_nfs" "$zerofs" "$nfs_load"; do
  [ -x "$p" ] || { echo "bench-nfs: $p not found (build it first)" >&2; exit 2; }
done
# nfs_start / nfs_stop: zerofs-nfs on a free loopback port, found in its log.
. "$(dirname "$0")/../tests/protocols/nfs/nfs-test-lib.sh"
export ZEROFS_PASSWORD=bench-nfs
work=$(mktemp -d /var/tmp/zerofs-bench-nfs.XXXXXX)
trap 'nfs_stop KILL > /dev/null 2>&1 || true; rm -rf "$work"' EXIT

rows=()
for mode in durable relaxed; do
  dir=$work/$mode
  mkdir -p "$dir/bucket" "$dir/cache"
  cat > "$dir/zerofs.toml" << TOML
[storage]
url = "file://$dir/bucket"
password = "\${ZEROFS_PASSWORD}"
[cache]
dir = "$dir/cache"
[servers.nfs]
listen = ["127.0.0.1:0"]
TOML
  "$zerofs" init --config "$dir/zerofs.toml" > "$dir/init.log" 2>&1 ||
    { cat "$dir/init.log" >&2; exit 1; }
  nfs_start "$zerofs_nfs" "$dir" "$dir/server.log" --commit "$mode" >&2 || exit 1
  for c in $connections; do
    echo "== commit=$mode, $c connections"
    "$nfs_load" --port "$NFS_PORT" --connections "$c" --seconds "$seconds" --mib "$mib" \
      --dir "/c$c" --keep | tee "$dir/load-$c.txt"
    small=$(awk '$1 == "small-files" { print $6 }' "$dir/load-$c.txt")
    write=$(awk '$1 == "seq-write" { print $6 }' "$dir/load-$c.txt")
    read=$(awk '$1 == "seq-read" { print $6 }' "$dir/load-$c.txt")
    p99=$(awk '$1 == "small-files" { print $9 }' "$dir/load-$c.txt")
    rows+=("| $mode | $c | $small | $p99 | $write | $read |")
  done
  nfs_stop TERM || { echo "bench-nfs: zerofs-nfs exit status $?" >&2; exit 1; }
  echo "server ($mode): $(grep -o '"acks_without_flush":[0-9]*,"commit":"[a-z]*","commits":[0-9]*' \
    "$dir/server.log")"
  rm -rf "$dir"
done

echo
echo "| mode | connections | small files/s | small file p99 ms | write MB/s | read MB/s |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
