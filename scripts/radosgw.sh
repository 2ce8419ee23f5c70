#!/usr/bin/env bash
# A throw-away single-node Ceph cluster with a radosgw S3 endpoint on loopback, for tests.
#
#   scripts/radosgw.sh start [DIR]   start it (stopping leftovers of an earlier run in DIR)
#   scripts/radosgw.sh stop  [DIR]   stop every daemon started from DIR and delete the data
#   scripts/radosgw.sh env   [DIR]   print the connection settings (KEY=VALUE lines)
#
# DIR holds all state (config, monitor store, logs, pid files, s3.env); it defaults to
# $ZEROFS_RGW_DIR, else build/test-s3 in the repository. The cluster is one monitor and one
# OSD that keeps objects in memory (memstore), with cephx off and plain crc framing, and
# radosgw on a free port of 127.0.0.1. `start` writes DIR/s3.env with
#   ZEROFS_TEST_S3_ENDPOINT ZEROFS_TEST_S3_ACCESS_KEY ZEROFS_TEST_S3_SECRET_KEY
#   ZEROFS_TEST_S3_BUCKET ZEROFS_TEST_S3_REGION
# It takes about 3 s and 150 MB. Every wait is bounded, and a watchdog stops the daemons
# after ZEROFS_RGW_TTL_S seconds (default 3 hours) in case nobody calls `stop`.
# A failed start prints the tail of the daemon logs and exits non-zero.
set -euo pipefail

cmd="${1:-}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(realpath -m -- "${2:-${ZEROFS_RGW_DIR:-$repo/build/test-s3}}")"
self="$repo/scripts/radosgw.sh"
ttl_s="${ZEROFS_RGW_TTL_S:-10800}"
bucket="zerofs-test"
region="us-east-1"
# Fixed test credentials: the cluster only listens on loopback and lives for one test run.
access_key="ZEROFSTESTACCESSKEY0"
secret_key="zerofs-test-secret-key-0123456789abcdef0"

log() { echo "radosgw.sh: $*" >&2; }

die() {
  log "ERROR: $*"
  for f in "$dir"/log/*.log; do
    [ -f "$f" ] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 25 "$f" >&2
  done
  stop_daemons
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A zombie has exited; only its parent (init, for a daemon) has not reaped it yet.
running() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != "Z" ]
}

# Sends TERM to the given pids, waits up to 3 s, then KILLs whatever is left.
terminate() {
  [ "$#" -eq 0 ] && return 0
  kill -TERM "$@" 2>/dev/null || true
  local pid alive
  for _ in $(seq 30); do
    alive=0
    for pid in "$@"; do running "$pid" && alive=1; done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
}

# Stops every daemon started from $dir: those with a pid file in $dir/run, and anything
# else running with $dir's config (a daemon of a start that died before its pid file was
# written). Never matches by bare program name.
stop_daemons() {
  local pid f
  if [ -f "$dir/run/watchdog.pid" ]; then
    # The watchdog leads its own process group (setsid); take its sleep along. When the
    # watchdog itself runs `stop`, it must not kill itself.
    pid="$(cat "$dir/run/watchdog.pid" 2>/dev/null || true)"
    rm -f "$dir/run/watchdog.pid"
    if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" != "$$" ]; then
      kill -TERM -- "-$pid" 2>/dev/null || true
    fi
  fi
  local candidates=()
  if [ -d "$dir/run" ]; then
    for f in "$dir"/run/*.pid; do
      [ -f "$f" ] || continue
      pid="$(cat "$f" 2>/dev/null || true)"
      [[ "$pid" =~ ^[0-9]+$ ]] && candidates+=("$pid")
    done
  fi
  if [ -f "$dir/ceph.conf" ]; then
    while read -r pid; do candidates+=("$pid"); done < <(pgrep -f -- "-c $dir/ceph.conf" || true)
  fi
  # Stop in reverse order of dependency, each stage quickly: radosgw stalls on exit while
  # an OSD is going away, and an OSD whose monitor is gone waits 5 s to report its exit.
  local gateways=() osds=() monitors=() seen=" "
  for pid in "${candidates[@]}"; do
    [ "$pid" = "$$" ] && continue
    [[ "$seen" == *" $pid "* ]] && continue
    seen+="$pid "
    running "$pid" || continue
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
      ceph-mon) monitors+=("$pid") ;;
      ceph-osd) osds+=("$pid") ;;
      *) gateways+=("$pid") ;;
    esac
  done
  terminate "${gateways[@]}"
  terminate "${osds[@]}"
  terminate "${monitors[@]}"
}

ceph_cli() { timeout 60 ceph -c "$dir/ceph.conf" --connect-timeout 30 "$@"; }

write_config() {
  local mon_port="$1" rgw_port="$2"
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon_host = v2:127.0.0.1:$mon_port
ms_bind_msgr1 = false
public_network = 127.0.0.0/8
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# Without cephx the default "secure" framing cannot be negotiated and rgw hangs.
ms_cluster_mode = crc
ms_service_mode = crc
ms_client_mode = crc
ms_mon_cluster_mode = crc
ms_mon_service_mode = crc
ms_mon_client_mode = crc
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
pid_file = $dir/run/\$name.pid
log_file = $dir/log/\$name.log
keyring = $dir/keyring
mon_data = $dir/mon/\$name
osd_data = $dir/osd/\$name
osd_objectstore = memstore
memstore_device_bytes = 2147483648
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
# A one-monitor cluster gains nothing from batching map updates; the default 1 s wait per
# update makes every pool creation take seconds.
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
osd_max_object_name_len = 460
osd_max_object_namespace_len = 64
[client.rgw.zerofs]
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw_data = $dir/rgw
rgw_enable_usage_log = false
rgw_dns_name = 127.0.0.1
EOF
}

wait_for() {
  local what="$1" seconds="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && die "$what not ready after ${seconds}s"
    sleep 0.5
  done
}

osd_up() { grep -q '^osd.0 up' <<< "$(ceph_cli osd dump 2>/dev/null)"; }
rgw_up() { curl -sS -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; }

start() {
  stop_daemons
  # Only what this script creates: DIR may be a directory that holds other things too.
  rm -rf "$dir"/{mon,osd,rgw,run,log,monmap,keyring,ceph.conf,s3.env,s3.env.tmp}
  mkdir -p "$dir"/{run,log,mon/mon.a,osd/osd.0,rgw}
  local mon_port rgw_port
  mon_port="$(free_port)"
  rgw_port="$(free_port)"
  write_config "$mon_port" "$rgw_port"
  local conf=(-c "$dir/ceph.conf")
  local t0=$SECONDS

  # Ceph's tools want a keyring file even with cephx off.
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' \
    >/dev/null || die "ceph-authtool failed"
  monmaptool --create --fsid "$(awk '/^fsid/ {print $3}' "$dir/ceph.conf")" \
    --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null || die "monmaptool failed"
  # The daemons' own chatter on stderr goes to start.log, shown by die() on failure.
  local out="$dir/log/start.log"
  ceph-mon "${conf[@]}" --mkfs -i a --monmap "$dir/monmap" >>"$out" 2>&1 \
    || die "ceph-mon --mkfs failed"
  ceph-mon "${conf[@]}" -i a </dev/null >>"$out" 2>&1 || die "ceph-mon did not start"
  wait_for "monitor" 60 ceph_cli mon stat

  local osd_uuid
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  [ "$(ceph_cli osd new "$osd_uuid")" = "0" ] || die "ceph osd new did not return id 0"
  ceph-osd "${conf[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$out" 2>&1 \
    || die "ceph-osd --mkfs failed"
  ceph-osd "${conf[@]}" -i 0 </dev/null >>"$out" 2>&1 || die "ceph-osd did not start"
  wait_for "osd.0" 60 osd_up

  # radosgw would create these pools one at a time on first use, each taking a couple of
  # seconds to become active; creating them together up front saves most of that.
  local pools=(.rgw.root default.rgw.log default.rgw.control default.rgw.meta
    default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec)
  local pool_cmds=""
  for pool in "${pools[@]}"; do
    pool_cmds+="osd pool create $pool 8"$'\n'"osd pool application enable $pool rgw"$'\n'
  done
  printf '%s' "$pool_cmds" | ceph_cli >>"$out" 2>&1 || die "creating the rgw pools failed"

  radosgw "${conf[@]}" -n client.rgw.zerofs </dev/null >>"$out" 2>&1 || die "radosgw did not start"
  wait_for "radosgw on port $rgw_port" 120 rgw_up "$rgw_port"

  timeout 60 radosgw-admin "${conf[@]}" user create --uid=zerofs-test \
    --display-name="ZeroFS tests" --access-key="$access_key" --secret="$secret_key" \
    >/dev/null || die "radosgw-admin user create failed"
  local endpoint="http://127.0.0.1:$rgw_port"
  curl -sS --fail-with-body --max-time 30 -X PUT --aws-sigv4 "aws:amz:$region:s3" \
    --user "$access_key:$secret_key" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "$endpoint/$bucket" >/dev/null || die "creating bucket $bucket failed"

  cat >"$dir/s3.env.tmp" <<EOF
ZEROFS_TEST_S3_ENDPOINT=$endpoint
ZEROFS_TEST_S3_ACCESS_KEY=$access_key
ZEROFS_TEST_S3_SECRET_KEY=$secret_key
ZEROFS_TEST_S3_BUCKET=$bucket
ZEROFS_TEST_S3_REGION=$region
EOF
  mv "$dir/s3.env.tmp" "$dir/s3.env"

  # The watchdog is detached from the caller's session so that it neither keeps a test
  # runner waiting on its output nor dies with it.
  setsid bash -c "sleep $ttl_s; exec '$self' stop '$dir'" </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/run/watchdog.pid"
  log "radosgw ready at $endpoint (bucket $bucket) in $((SECONDS - t0))s; state in $dir"
}

stop() {
  stop_daemons
  if [ -d "$dir" ]; then
    # Keep the logs of the run; drop the (large) daemon state.
    rm -rf "$dir"/{mon,osd,rgw,run,monmap,keyring,s3.env}
  fi
  log "stopped ($dir)"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  env)
    [ -f "$dir/s3.env" ] || { log "no $dir/s3.env; run '$self start $dir' first"; exit 1; }
    cat "$dir/s3.env"
    ;;
  *)
    echo "usage: $0 start|stop|env [DIR]" >&2
    exit 2
    ;;
esac
