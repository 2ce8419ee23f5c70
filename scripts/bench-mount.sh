#!/usr/bin/env bash
# bench-mount.sh [--rtt-ms MS]... [--files N] [--small-files N] [--big-mib N]
#                [--mount-options OPTS] [BUILD_DIR]
#
# zerofs-mount (FUSE) on zerofs-9p serving a fresh file:// volume over loopback TCP, against
# a local directory under /var/tmp, with the same workloads:
#   untar          a tarball of --files (default 20000) files of the source tree of
#                  tests/posix/source-tree.sh (cached in BUILD_DIR/posix-tree-N), then
#                  `sync -f`
#   create/stat/unlink  --small-files (default 10000) empty files, one directory, in that
#                  order (os.open + close, os.stat, os.unlink)
#   write          --big-mib (default 1024) MiB of incompressible data, 1 MiB writes, fsync
#   read           that file read back and compared after a remount (local: after
#                  POSIX_FADV_DONTNEED on it)
# Each --rtt-ms (default: 0 and 20) is a run on its own volume with [storage]
# simulate_rtt_ms set to it: every request to the bucket takes that much longer, as a
# remote bucket would (docs/configuration.md). --mount-options are passed as -o to
# zerofs-mount (default none). Prints a markdown table. Numbers, not assertions: run it on
# a quiet machine. BUILD_DIR defaults to ./build.
set -euo pipefail
rtts=()
files=20000
small=10000
big_mib=1024
mount_opts=""
build=build
while [ $# -gt 0 ]; do
  case $1 in
    --rtt-ms) rtts+=("$2"); shift 2 ;;
    --files) files=$2; shift 2 ;;
    --small-files) small=$2; shift 2 ;;
    --big-mib) big_mib=$2; shift 2 ;;
    --mount-options) mount_opts=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench-mount: unknown flag $1 (see --help)" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
[ ${#rtts[@]} -gt 0 ] || rtts=(0 20)
for n in "$files" "$small" "$big_mib" "${rtts[@]}"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "bench-mount: '$n' is not a number" >&2; exit 2; }
done
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
zerofs=$build/tools/zerofs/zerofs
zerofs_9p=$build/servers/ninep/zerofs-9p
zerofs_mount=$build/tools/zerofs-mount/zerofs-mount
for p in "$zerofs" "$zerofs_9p" "$zerofs_mount"; do
  [ -x "$p" ] || { echo "bench-mount: $p not found (build it first)" >&2; exit 2; }
done
for p in python3 tar mountpoint; do
  command -v "$p" > /dev/null || { echo "bench-mount: $p not found" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || [ -u "$(command -v fusermount3)" ] ||
  { echo "bench-mount: needs root or fusermount3" >&2; exit 2; }

work=$(mktemp -d /var/tmp/zerofs-bench-mount.XXXXXX)
mnt=$work/mnt
server_pid="" mount_pid=""
cleanup() {
  if mountpoint -q "$mnt" 2> /dev/null; then umount "$mnt" 2> /dev/null || umount -l "$mnt"; fi
  [ -n "$mount_pid" ] && kill "$mount_pid" 2> /dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null
  wait 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export ZEROFS_PASSWORD=bench-mount
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# The tarball, from the cached tree.
"$src/tests/posix/source-tree.sh" "$build/posix-tree-$files" "$files" > /dev/null
count=$(find "$build/posix-tree-$files" -type f | wc -l)  # with source-tree.sh's marker
tar -cf "$work/tree.tar" -C "$build/posix-tree-$files" .
tree_mb=$(find "$build/posix-tree-$files" -type f -printf '%s\n' |
  awk '{ b += $1 } END { printf "%.0f", b / 1e6 }')
echo "bench-mount: $count files, $tree_mb MB in the tarball; $small small files;" \
  "$big_mib MiB file; rtt ${rtts[*]} ms; mount options '${mount_opts:-none}'" >&2

cat > "$work/io.py" << 'PY'
# io.py small DIR N | write FILE MIB | read FILE MIB [drop]
import os, sys, time
def rate(n, t): return n / t if t > 0 else float("inf")
cmd = sys.argv[1]
if cmd == "small":
    d, n = sys.argv[2], int(sys.argv[3])
    os.makedirs(d)
    names = [f"{d}/f{i:06d}" for i in range(n)]
    t = time.monotonic()
    for p in names:
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    c = time.monotonic() - t
    t = time.monotonic()
    for p in names:
        os.stat(p)
    s = time.monotonic() - t
    t = time.monotonic()
    for p in names:
        os.unlink(p)
    u = time.monotonic() - t
    print(f"{rate(n, c):.0f} {rate(n, s):.0f} {rate(n, u):.0f}")
    sys.exit(0)
# The data: incompressible chunks made before the clock starts; a crc32 per chunk, kept
# beside this script (not on the filesystem measured), checks the read.
import json, zlib
path, mib, sums = sys.argv[2], int(sys.argv[3]), sys.argv[4]
if cmd == "write":
    chunks = [os.urandom(1 << 20) for _ in range(mib)]
    with open(sums, "w") as f:
        json.dump([zlib.crc32(c) for c in chunks], f)
    t = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for c in chunks:
        if os.write(fd, c) != len(c):
            sys.exit("short write")
    os.fsync(fd)
    os.close(fd)
    w = time.monotonic() - t
    print(f"{rate(mib * 1.048576, w):.0f}")
else:
    with open(sums) as f:
        crcs = json.load(f)
    fd = os.open(path, os.O_RDONLY)
    if len(sys.argv) > 5:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    buf = bytearray(1 << 20)
    t = time.monotonic()
    for i in range(mib):
        n = os.readv(fd, [buf])
        if n != len(buf) or zlib.crc32(buf) != crcs[i]:
            sys.exit(f"read back: MiB {i} differs ({n} bytes)")
    if os.read(fd, 1):
        sys.exit("read back: longer than written")
    r = time.monotonic() - t
    os.close(fd)
    print(f"{rate(mib * 1.048576, r):.0f}")
PY

declare -A result
# workloads TARGET DIR REMOUNT_CMD: the four workloads in DIR, results under TARGET.
workloads() {
  local target=$1 dir=$2 remount=$3 t
  echo "== $target: untar" >&2
  mkdir -p "$dir/untar"
  t=$(now)
  tar -xf "$work/tree.tar" -C "$dir/untar"
  sync -f "$dir/untar"
  local s
  s=$(since "$t")
  local got
  got=$(find "$dir/untar" -type f | wc -l)
  [ "$got" -eq "$count" ] || { echo "bench-mount: $target: untar made $got files, not $count" >&2; exit 1; }
  result[untar|$target]=$(awk -v n="$count" -v s="$s" 'BEGIN { printf "%.0f files/s (%.0f s)", n / s, s }')
  echo "== $target: $small small files" >&2
  local out c st u
  out=$(python3 "$work/io.py" small "$dir/small" "$small")
  read -r c st u <<< "$out"
  result[create|$target]="$c/s" result[stat|$target]="$st/s" result[unlink|$target]="$u/s"
  echo "== $target: write $big_mib MiB" >&2
  result[write|$target]="$(python3 "$work/io.py" write "$dir/big" "$big_mib" "$work/sums.json") MB/s"
  $remount
  echo "== $target: read $big_mib MiB" >&2
  result[read|$target]="$(python3 "$work/io.py" read "$dir/big" "$big_mib" "$work/sums.json" drop) MB/s"
  rm -f "$work/sums.json"
}

targets=(local)
local_dir=$work/local
mkdir -p "$local_dir"
workloads local "$local_dir" true
rm -rf "$local_dir"

start_mount() {
  mkdir -p "$mnt"
  "$zerofs_mount" -f ${mount_opts:+-o "$mount_opts"} "127.0.0.1:$port" "$mnt" \
    >> "$dir/mount.log" 2>&1 &
  mount_pid=$!
  for _ in $(seq 100); do mountpoint -q "$mnt" && return 0; sleep 0.1; done
  echo "bench-mount: zerofs-mount did not mount:" >&2; tail "$dir/mount.log" >&2; exit 1
}
stop_mount() {
  umount "$mnt"
  wait "$mount_pid" || { echo "bench-mount: zerofs-mount exit status $?" >&2; exit 1; }
  mount_pid=""
}
remount() { stop_mount; start_mount; }

for rtt in "${rtts[@]}"; do
  dir=$work/rtt-$rtt
  mkdir -p "$dir/bucket"
  cat > "$dir/zerofs.toml" << TOML
[storage]
url = "file://$dir/bucket"
password = "\${ZEROFS_PASSWORD}"
simulate_rtt_ms = $rtt
[cache]
dir = "$dir/cache"
TOML
  "$zerofs" init --config "$dir/zerofs.toml" > "$dir/init.log" 2>&1 ||
    { cat "$dir/init.log" >&2; exit 1; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$zerofs_9p" --config "$dir/zerofs.toml" --listen "127.0.0.1:$port" --log-level warn \
    >> "$dir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do (echo > "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break; sleep 0.1; done
  start_mount
  target="mount (rtt $rtt)"
  targets+=("$target")
  workloads "$target" "$mnt" remount
  stop_mount
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "bench-mount: zerofs-9p exit status $?" >&2; exit 1; }
  server_pid=""
  rm -rf "$dir"
done

header="| workload |" sep="|---|"
for t in "${targets[@]}"; do header+=" $t |"; sep+="---|"; done
echo "$header"
echo "$sep"
row() {  # KEY LABEL
  local line="| $2 |" t
  for t in "${targets[@]}"; do line+=" ${result[$1|$t]} |"; done
  echo "$line"
}
row untar "untar $count files ($tree_mb MB) + sync -f"
row create "create $small empty files"
row stat "stat $small files"
row unlink "unlink $small files"
row write "write $big_mib MiB (1 MiB writes) + fsync"
row read "read $big_mib MiB back (after remount)"
