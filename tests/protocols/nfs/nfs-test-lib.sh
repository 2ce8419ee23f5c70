# Helpers for the NFS shell tests (sourced): a file:// volume made with `zerofs init`, and
# zerofs-nfs started on it on a free loopback port.
#
#   nfs_init_volume ZEROFS WORK            writes $WORK/zerofs.toml, inits $WORK/bucket
#   nfs_start ZEROFS_NFS WORK LOG [ARGS]   starts the server; sets NFS_PID and NFS_PORT
#   nfs_stop [SIGNAL]                      stops it (TERM by default), waits; returns its status
#   fail MESSAGE / ok MESSAGE              one check's result; $failures counts the failed
#
# The password travels in ZEROFS_PASSWORD (the config refers to it), never on a command line.

export ZEROFS_PASSWORD=${ZEROFS_PASSWORD:-nfs-test-password}
NFS_PID=""
NFS_PORT=""
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

nfs_init_volume() {
  local zerofs=$1 work=$2
  mkdir -p "$work/bucket" "$work/cache"
  cat > "$work/zerofs.toml" <<TOML
[storage]
url = "file://$work/bucket"
password = "\${ZEROFS_PASSWORD}"
[cache]
dir = "$work/cache"
memory_mb = 64
[servers.nfs]
listen = ["127.0.0.1:0"]
TOML
  "$zerofs" init --config "$work/zerofs.toml" --argon2-opslimit 1 --argon2-memlimit-mib 8 \
    > "$work/init.log" 2>&1 || { echo "FAIL: zerofs init: $(cat "$work/init.log")"; return 1; }
}

nfs_start() {
  local bin=$1 work=$2 log=$3
  shift 3
  "$bin" --config "$work/zerofs.toml" "$@" > "$log" 2>&1 &
  NFS_PID=$!
  NFS_PORT=""
  for _ in $(seq 300); do
    NFS_PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$log" 2> /dev/null | head -1 | sed 's/.*://')
    [ -n "$NFS_PORT" ] && grep -q "nfs: serving" "$log" && return 0
    kill -0 "$NFS_PID" 2> /dev/null || break
    sleep 0.1
  done
  echo "FAIL: zerofs-nfs did not start:"
  sed 's/^/  server: /' "$log"
  return 1
}

nfs_stop() {
  local sig=${1:-TERM} rc
  [ -n "$NFS_PID" ] || return 0
  kill "-$sig" "$NFS_PID" 2> /dev/null
  for _ in $(seq 300); do kill -0 "$NFS_PID" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$NFS_PID" 2> /dev/null; then
    echo "FAIL: zerofs-nfs still running 30 s after SIG$sig"
    kill -9 "$NFS_PID"
  fi
  wait "$NFS_PID"
  rc=$?
  NFS_PID=""
  return $rc
}
