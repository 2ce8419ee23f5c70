#!/usr/bin/env bash
# README command 1: installs what is needed, builds, creates a volume in a local-directory
# bucket, serves it with `zerofs run` (NFS, 9P and NBD in one process) and mounts it with
# `zerofs-mount`, so you get a working filesystem.
#
#   scripts/quickstart.sh           set up (once), start, mount; prints how to use it
#   scripts/quickstart.sh stop      unmount and stop the server (the data stays)
#   scripts/quickstart.sh --check   start, mount, write and read a file through the mount,
#                                   then unmount and stop (what the test suite runs)
#
# Everything lives in $ZEROFS_QUICKSTART_DIR (default /var/tmp/zerofs-quickstart): the
# bucket, a generated password in a 0600 file, the config, the cache, the log and the mount
# point. Ports: NFS 2049, 9P 5564, NBD 10809, metrics 9091 on 127.0.0.1 (--check picks free
# ones). BUILD_DIR (default build) is where the binaries are built.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-start}
case "$mode" in
  start | stop | --check) ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "quickstart: unknown argument '$mode' (expected stop or --check)" >&2; exit 2 ;;
esac

dir=${ZEROFS_QUICKSTART_DIR:-/var/tmp/zerofs-quickstart}
build=${BUILD_DIR:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
zerofs="$build/tools/zerofs/zerofs"
mount_bin="$build/tools/zerofs-mount/zerofs-mount"
mnt="$dir/mnt"
pidfile="$dir/run.pid"

unmount() {
  if mountpoint -q "$mnt" 2>/dev/null; then
    fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || umount -l "$mnt" || true
  fi
}

stop_server() {
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "quickstart: the server did not stop within 30 s; killing it" >&2
        kill -KILL "$pid" || true
      fi
    fi
    rm -f "$pidfile"
  fi
}

if [ "$mode" = stop ]; then
  unmount
  stop_server
  echo "== stopped; the volume stays in $dir/bucket (run scripts/quickstart.sh to start again)"
  exit 0
fi

echo "== installing build dependencies (Debian packages)"
scripts/install-deps.sh build
echo "== building zerofs and zerofs-mount (log: $dir/build.log)"
mkdir -p "$dir"
# Only what the build group installed is needed: a new build directory is configured
# without the test suite (which needs the test packages, scripts/install-deps.sh test); an
# existing one keeps its configuration. Either way only the two programs run here are built.
{
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DZEROFS_BUILD_TESTS=OFF -DZEROFS_BUILD_BENCH=OFF
  fi
  cmake --build "$build" --parallel "$(nproc)" --target zerofs_cli zerofs-mount
} > "$dir/build.log" 2>&1 || {
  tail -n 40 "$dir/build.log"
  echo "quickstart: the build failed; the whole log is in $dir/build.log" >&2
  exit 1
}

# A second start while one runs would fight over the cache and the ports: stop it first.
unmount
stop_server

if [ "$mode" = --check ]; then
  nfs_port=0 ninep_port=0 nbd_port=0 metrics_port=0
else
  nfs_port=2049 ninep_port=5564 nbd_port=10809 metrics_port=9091
fi
mkdir -p "$dir/bucket" "$dir/cache" "$mnt"
chmod 0700 "$dir"
if [ ! -s "$dir/password" ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 > "$dir/password")
fi
cat > "$dir/zerofs.toml" <<TOML
# Written by scripts/quickstart.sh; see docs/configuration.md for every key.
[storage]
url = "file://$dir/bucket"
password_file = "$dir/password"

[cache]
dir = "$dir/cache"

[servers.nfs]
listen = ["127.0.0.1:$nfs_port"]

[servers.ninep]
listen = ["127.0.0.1:$ninep_port"]

[servers.nbd]
listen = ["127.0.0.1:$nbd_port"]

[control]
socket = "$dir/control.sock"

[metrics]
listen = "127.0.0.1:$metrics_port"

[log]
file = "$dir/zerofs.log"
TOML

if [ -f "$dir/bucket/zerofs.key" ]; then
  echo "== the volume exists already in $dir/bucket"
else
  echo "== creating a volume in $dir/bucket (password in $dir/password, mode 0600)"
  "$zerofs" init --config "$dir/zerofs.toml"
fi

echo "== starting: zerofs run --config $dir/zerofs.toml (log: $dir/zerofs.log)"
nohup "$zerofs" run --config "$dir/zerofs.toml" > "$dir/run.out" 2> "$dir/run.err" < /dev/null &
echo $! > "$pidfile"
for _ in $(seq 1 600); do
  grep -q '^control ' "$dir/run.out" 2>/dev/null && break
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    cat "$dir/run.err" >&2
    tail -n 20 "$dir/zerofs.log" >&2 2>/dev/null || true
    echo "quickstart: the server exited; see above" >&2
    rm -f "$pidfile"
    exit 1
  fi
  sleep 0.1
done
grep -q '^control ' "$dir/run.out" || { echo "quickstart: the server did not start in 60 s" >&2; exit 1; }
endpoint() { sed -n "s/^$1 \\([^,]*\\).*/\\1/p" "$dir/run.out"; }
ninep_at=$(endpoint 9p)
nfs_at=$(endpoint nfs)
nbd_at=$(endpoint nbd)
metrics_at="127.0.0.1:$metrics_port"

echo "== mounting: zerofs-mount $ninep_at $mnt"
"$mount_bin" "$ninep_at" "$mnt"
for _ in $(seq 1 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt" || { echo "quickstart: the mount did not appear" >&2; exit 1; }

if [ "$mode" = --check ]; then
  stamp="quickstart check $(date -u +%FT%TZ)"
  echo "$stamp" > "$mnt/hello.txt"
  sync "$mnt/hello.txt"
  [ "$(cat "$mnt/hello.txt")" = "$stamp" ] || { echo "quickstart: read back differs" >&2; exit 1; }
  ls -la "$mnt"
  "$zerofs" stats --config "$dir/zerofs.toml" > /dev/null
  unmount
  stop_server
  echo "== quickstart check passed: served, mounted, wrote and read back, stopped cleanly"
  exit 0
fi

[ -e "$mnt/README.txt" ] || cat > "$mnt/README.txt" <<TXT
This file lives in a ZeroFS volume: its bytes are compressed, encrypted and stored as
objects in $dir/bucket.
TXT
nfs_port=${nfs_at##*:}
cat <<EOF

ZeroFS is running.

  The filesystem is mounted at   $mnt
      ls -la $mnt

  NFSv3 on $nfs_at:
      mount -t nfs -o vers=3,proto=tcp,nolock,port=$nfs_port,mountport=$nfs_port 127.0.0.1:/ /mnt
  9P2000.L on $ninep_at (the Linux kernel client, or zerofs-mount as above):
      mount -t 9p -o trans=tcp,port=${ninep_at##*:},version=9p2000.L,access=user 127.0.0.1 /mnt
  NBD on $nbd_at: create a block device, then attach it:
      $zerofs nbd create disk0 1G --config $dir/zerofs.toml
      nbd-client 127.0.0.1 ${nbd_at##*:} /dev/nbd0 -N disk0
  Counters:       $zerofs stats --config $dir/zerofs.toml
  Metrics:        curl http://$metrics_at/metrics
  Log:            $dir/zerofs.log

  Stop (the data stays in the bucket):   scripts/quickstart.sh stop
EOF
