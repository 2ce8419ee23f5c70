#!/usr/bin/env bash
# bench-nbd.sh [ZEROFS_NBD [ZEROFS]]: NBD throughput of zerofs-nbd over loopback TCP, for
#   volume   an export of a file:// volume (zerofs init + zerofs nbd create), the real thing
#   memory   a --memory export (the server's own ceiling, no storage engine)
#   nbdkit   `nbdkit memory` (the protocol ceiling on this machine)
# Rows:
#   nbdcopy: BENCH_SIZE_MIB (default 1024) of random data in (--flush: durable at the end)
#            and out, multi-connection, 64 requests in flight; "cold" reads follow a
#            restart of the volume server with its cache directory wiped (index and data
#            come back from the bucket), "warm" ones repeat them
#   fio:     4 KiB random read (cold, then warm) and write at iodepth 32, 1 MiB sequential
#            read and write at iodepth 8, BENCH_RUNTIME_S (default 10) each
# Prints MB/s (and IOPS for fio). Numbers, not assertions: run it on a quiet machine.
# ZEROFS defaults to the zerofs tool of the same build directory.
set -euo pipefail
zerofs_nbd=${1:-build/servers/nbd/zerofs-nbd}
zerofs=${2:-$(dirname "$zerofs_nbd")/../../tools/zerofs/zerofs}
size_mib=${BENCH_SIZE_MIB:-1024}
runtime=${BENCH_RUNTIME_S:-10}
for p in nbdcopy nbdinfo nbdkit fio "$zerofs_nbd" "$zerofs"; do
  command -v "$p" > /dev/null || { echo "bench-nbd: $p not found" >&2; exit 2; }
done
work=$(mktemp -d)
pids=()
vpid=""
cleanup() {
  for p in "${pids[@]}" $vpid; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do nbdinfo --size "$1" > /dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
now() { date +%s.%N; }
rate() { awk -v b="$1" -v a="$2" -v z="$(now)" 'BEGIN { printf "%.0f", b / 1e6 / (z - a) }'; }

head -c "${size_mib}M" /dev/urandom > "$work/random.bin"
export_mib=$((size_mib + 64))

# The volume.
mkdir -p "$work/bucket"
cat > "$work/zerofs.toml" << TOML
[storage]
url = "file://$work/bucket"
password = "\${ZEROFS_PASSWORD}"
[cache]
dir = "$work/cache"
TOML
export ZEROFS_PASSWORD=bench-nbd
"$zerofs" init --config "$work/zerofs.toml" > /dev/null
"$zerofs" nbd create --config "$work/zerofs.toml" disk "${export_mib}M" > /dev/null
vport=$(free_port)
start_volume() {
  "$zerofs_nbd" --config "$work/zerofs.toml" --listen "127.0.0.1:$vport" --log-level warn \
    2>> "$work/volume.log" &
  vpid=$!
  wait_port "nbd://127.0.0.1:$vport/disk" ||
    { echo "bench-nbd: the volume server did not start:" >&2; cat "$work/volume.log" >&2; exit 1; }
}
# Cold: stop the server, drop its cache directory (index and data), start again.
restart_cold() {
  kill -TERM "$vpid"
  wait "$vpid" || true
  rm -rf "$work/cache"
  sync
  start_volume
}
start_volume

mport=$(free_port)
"$zerofs_nbd" --listen "127.0.0.1:$mport" --memory disk:"${export_mib}M" --log-level warn &
pids+=($!)
kport=$(free_port)
nbdkit --exit-with-parent -f -p "$kport" -i 127.0.0.1 memory "${export_mib}M" &
pids+=($!)
wait_port "nbd://127.0.0.1:$mport/disk"
wait_port "nbd://127.0.0.1:$kport"
targets=("$vport/disk" "$mport/disk" "$kport")

bytes=$((size_mib << 20))
printf '%-30s %16s %16s %16s\n' "benchmark" "volume" "memory" "nbdkit-memory"
nbdcopy_row() {  # nbdcopy_row NAME COMMAND-WITH-@URI@ [volume-only]
  local name=$1 cmd=$2 cells=() t target
  for target in "${targets[@]}"; do
    if [ -n "${3:-}" ] && [ "$target" != "${targets[0]}" ]; then cells+=("-"); continue; fi
    t=$(now)
    eval "${cmd//@URI@/nbd://127.0.0.1:$target}" > /dev/null
    cells+=("$(rate "$bytes" "$t") MB/s")
  done
  printf '%-30s %16s %16s %16s\n' "$name" "${cells[@]}"
}
nbdcopy_row "nbdcopy write ${size_mib} MiB" "nbdcopy --flush $work/random.bin @URI@"
nbdcopy_row "nbdcopy read (warm)" "nbdcopy @URI@ $work/out.bin"
restart_cold
nbdcopy_row "nbdcopy read (cold)" "nbdcopy @URI@ $work/out.bin" volume-only
cmp -s -n "$bytes" "$work/random.bin" "$work/out.bin" || { echo "bench-nbd: data read back differs" >&2; exit 1; }
rm -f "$work/out.bin"

fio_row() {  # fio_row NAME RW BS DEPTH [volume-only]
  local name=$1 cells=() out target
  for target in "${targets[@]}"; do
    if [ -n "${5:-}" ] && [ "$target" != "${targets[0]}" ]; then cells+=("-"); continue; fi
    out=$(fio --name=b --ioengine=nbd --uri="nbd://127.0.0.1:$target" --rw="$2" --bs="$3" \
      --iodepth="$4" --size="${size_mib}M" --time_based --runtime="$runtime" \
      --output-format=terse --terse-version=3 2>/dev/null)
    # terse v3: field 7 read KB/s, 8 read IOPS, 48 write KB/s, 49 write IOPS
    cells+=("$(echo "$out" | awk -F';' '$1 == "3" {
      printf "%.0f MB/s %.0fk", ($7 + $48) * 1024 / 1e6, ($8 + $49) / 1000 }')")
  done
  printf '%-30s %16s %16s %16s\n' "$name" "${cells[@]}"
}
echo "fio: MB/s and thousands of IOPS, ${runtime} s each"
restart_cold
fio_row "fio randread 4k qd32 (cold)" randread 4k 32 volume-only
fio_row "fio randread 4k qd32 (warm)" randread 4k 32
fio_row "fio randwrite 4k qd32" randwrite 4k 32
fio_row "fio read 1M qd8" read 1M 8
fio_row "fio write 1M qd8" write 1M 8
