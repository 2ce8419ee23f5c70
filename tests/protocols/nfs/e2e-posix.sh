#!/usr/bin/env bash
# e2e-posix.sh ZEROFS_NFS ZEROFS CLIENT WORK_DIR: the libnfs test client's POSIX checks
# (libnfs_client.cpp "posix") against zerofs-nfs serving a file:// volume.
set -uo pipefail
zerofs_nfs=$1 zerofs=$2 client=$3 work=$4
. "$(dirname "$0")/nfs-test-lib.sh"
trap 'nfs_stop KILL > /dev/null 2>&1' EXIT
rm -rf "$work" && mkdir -p "$work"
nfs_init_volume "$zerofs" "$work" || exit 1
nfs_start "$zerofs_nfs" "$work" "$work/server.log" || exit 1
timeout 600 "$client" posix 127.0.0.1 "$NFS_PORT"
rc=$?
nfs_stop TERM || { echo "FAIL: server exit status"; rc=1; }
if [ "$rc" -ne 0 ]; then
  echo "e2e-posix: failed (status $rc); server log tail:"; tail -30 "$work/server.log" | sed 's/^/  server: /'
  exit 1
fi
echo "e2e-posix: all passed"
