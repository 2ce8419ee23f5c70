#!/usr/bin/env bash
# bench-nbd.sh [ZEROFS_NBD]: NBD throughput of zerofs-nbd's memory exports next to
# `nbdkit memory` (the protocol ceiling on this machine), over loopback TCP.
#   nbdcopy: 1 GiB of random data in and out (multi-connection, 64 requests in flight)
#   fio:     4 KiB random read/write (iodepth 32) and 1 MiB sequential read/write (iodepth 8)
# Prints MB/s (and IOPS for 4 KiB). Numbers, not assertions: run it on a quiet machine.
set -euo pipefail
zerofs_nbd=${1:-build/servers/nbd/zerofs-nbd}
size_mib=${BENCH_SIZE_MIB:-1024}
runtime=${BENCH_RUNTIME_S:-10}
for p in nbdcopy nbdkit fio "$zerofs_nbd"; do
  command -v "$p" > /dev/null || { echo "bench-nbd: $p not found" >&2; exit 2; }
done
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do nbdinfo --size "$1" > /dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
now() { date +%s.%N; }
rate() { awk -v b="$1" -v a="$2" -v z="$(now)" 'BEGIN { printf "%8.0f", b / 1e6 / (z - a) }'; }

head -c "${size_mib}M" /dev/urandom > "$work/random.bin"

zport=$(free_port)
"$zerofs_nbd" --listen "127.0.0.1:$zport" --memory disk:"$((size_mib + 64))M" \
  --log-level warn &
pids+=($!)
kport=$(free_port)
nbdkit --exit-with-parent -f -p "$kport" -i 127.0.0.1 memory "$((size_mib + 64))M" &
pids+=($!)
wait_port "nbd://127.0.0.1:$zport/disk"
wait_port "nbd://127.0.0.1:$kport"

bytes=$((size_mib << 20))
printf '%-28s %12s %12s\n' "benchmark (MB/s)" "zerofs-nbd" "nbdkit-mem"
row() {  # row NAME COMMAND-WITH-@URI@
  local name=$1 cmd=$2 z k t
  t=$(now); eval "${cmd//@URI@/nbd://127.0.0.1:$zport/disk}" > /dev/null; z=$(rate "$bytes" "$t")
  t=$(now); eval "${cmd//@URI@/nbd://127.0.0.1:$kport}" > /dev/null; k=$(rate "$bytes" "$t")
  printf '%-28s %12s %12s\n' "$name" "$z" "$k"
}
row "nbdcopy write ${size_mib} MiB" "nbdcopy $work/random.bin @URI@"
row "nbdcopy read ${size_mib} MiB" "nbdcopy @URI@ $work/out.bin"

fio_row() {  # fio_row NAME RW BS DEPTH
  local name=$1 out z k
  for target in "$zport/disk" "$kport"; do
    out=$(fio --name=b --ioengine=nbd --uri="nbd://127.0.0.1:$target" --rw="$2" --bs="$3" \
      --iodepth="$4" --size="${size_mib}M" --time_based --runtime="$runtime" \
      --output-format=terse --terse-version=3 2>/dev/null)
    # terse v3: field 7 read KB/s, 8 read IOPS, 48 write KB/s, 49 write IOPS
    local mbps iops
    mbps=$(echo "$out" | awk -F';' '$1 == "3" { printf "%.0f", ($7 + $48) * 1024 / 1e6 }')
    iops=$(echo "$out" | awk -F';' '$1 == "3" { printf "%.0f", $8 + $49 }')
    if [ "$target" = "$kport" ]; then k="$mbps ($iops)"; else z="$mbps ($iops)"; fi
  done
  printf '%-28s %12s %12s\n' "$name" "$z" "$k"
}
echo "fio: MB/s (IOPS), ${runtime} s each"
fio_row "fio randread 4k qd32" randread 4k 32
fio_row "fio randwrite 4k qd32" randwrite 4k 32
fio_row "fio read 1M qd8" read 1M 8
fio_row "fio write 1M qd8" write 1M 8
