# shellcheck shell=bash
# Helpers for scripts that run-in-guest runs inside the QEMU guest (source this file).
# The host's loopback is $VM_HOST (10.0.2.2). Every helper returns non-zero on failure
# and says why on stderr; none of them retries forever (the guest's timeout bounds hangs
# of a dead server on a hard NFS mount).
#
#   vm_mount_nfs PORT MOUNTPORT MNT [EXPORT] [OPTIONS]   NFSv3 over TCP, no locking
#   vm_mount_9p  PORT MNT [ANAME] [OPTIONS]              9P2000.L over TCP
#   vm_umount    MNT                                     unmount (fails if busy)
#   vm_nbd_attach PORT EXPORT [DEVICE] [NBD-CLIENT-ARGS...]   prints the device
#   vm_nbd_detach [DEVICE]                               flush and disconnect
#   vm_modprobe  MODULE...                               load modules (e.g. btrfs)
#   vm_in_guest                                          fails unless run by run-in-guest

VM_HOST="${VM_HOST:-10.0.2.2}"

vm_log() { echo "guest: $*" >&2; }

vm_in_guest() {
  if [ "${ZEROFS_VM_GUEST:-}" != 1 ]; then
    vm_log "this script runs inside the guest: tests/vm/run-in-guest $0"
    return 1
  fi
}

vm_modprobe() {
  local m
  for m in "$@"; do
    modprobe "$m" || { vm_log "cannot load module $m"; return 1; }
  done
}

# vm_mount_nfs PORT MOUNTPORT MNT [EXPORT] [OPTIONS]
# EXPORT defaults to /; OPTIONS (comma-separated) are appended, e.g. "actimeo=0,soft".
# retry=0: mount.nfs gives up at once when the server is not there (instead of 2 minutes).
vm_mount_nfs() {
  local port="$1" mport="$2" mnt="$3" export="${4:-/}" extra="${5:-}"
  local opts="vers=3,proto=tcp,mountproto=tcp,nolock,retry=0,port=$port,mountport=$mport"
  [ -n "$extra" ] && opts="$opts,$extra"
  mkdir -p "$mnt"
  mount -t nfs -o "$opts" "$VM_HOST:$export" "$mnt" ||
    { vm_log "NFS mount of $VM_HOST:$export (port $port, mount port $mport) on $mnt failed"; return 1; }
}

# vm_mount_9p PORT MNT [ANAME] [OPTIONS]
# ANAME is the attach name (the export path for diod); OPTIONS are appended, e.g.
# "cache=loose" or "access=user".
vm_mount_9p() {
  local port="$1" mnt="$2" aname="${3:-}" extra="${4:-}"
  local opts="trans=tcp,version=9p2000.L,port=$port"
  [ -n "$aname" ] && opts="$opts,aname=$aname"
  [ -n "$extra" ] && opts="$opts,$extra"
  mkdir -p "$mnt"
  mount -t 9p -o "$opts" "$VM_HOST" "$mnt" ||
    { vm_log "9P mount of $VM_HOST port $port${aname:+ aname $aname} on $mnt failed"; return 1; }
}

vm_umount() {
  local mnt="$1"
  umount "$mnt" || { vm_log "umount $mnt failed"; return 1; }
}

# vm_nbd_attach PORT EXPORT [DEVICE] [NBD-CLIENT-ARGS...]
# Connects DEVICE (default /dev/nbd0) to the named export and waits until it has a size.
vm_nbd_attach() {
  local port="$1" export="$2" dev="${3:-/dev/nbd0}" size
  shift 2
  if [ $# -gt 0 ]; then shift; fi
  vm_modprobe nbd || return 1
  nbd-client "$VM_HOST" "$port" "$dev" -N "$export" "$@" >&2 ||
    { vm_log "nbd-client $VM_HOST $port $dev -N $export failed"; return 1; }
  for _ in $(seq 100); do
    size="$(blockdev --getsize64 "$dev" 2>/dev/null || echo 0)"
    [ "$size" -gt 0 ] && { echo "$dev"; return 0; }
    sleep 0.1
  done
  vm_log "$dev has no size after connecting"
  return 1
}

vm_nbd_detach() {
  local dev="${1:-/dev/nbd0}"
  blockdev --flushbufs "$dev" 2>/dev/null
  nbd-client -d "$dev" >&2 || { vm_log "nbd-client -d $dev failed"; return 1; }
}
