#!/usr/bin/env bash
# Installs every package the project needs from Debian's registry, idempotently.
#   scripts/install-deps.sh [build|test|all]   (default: all)
#   scripts/install-deps.sh --list build|test  prints that group's own packages, one a line
# "build" is enough to compile and run the servers (a build without the tests,
# -DZEROFS_BUILD_TESTS=OFF, as scripts/quickstart.sh does) and to build the Debian package
# (help2man for the man pages, file and dpkg-dev for cpack); "test" (= "all") adds Catch2
# and the third-party counterparts the test suite drives: radosgw for S3, the QEMU guest with
# the Linux kernel's own NFS, 9P and NBD clients plus reference servers for them, and
# promtool, systemd-analyze, strace and man for the package's alert rules, units and man
# pages.
set -euo pipefail

group="${1:-all}"

build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcurl4-openssl-dev libssl-dev libsodium-dev libzstd-dev liblz4-dev
  librocksdb-dev libboost-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev
  libfuse3-dev fuse3 help2man file
)
test_pkgs=(
  catch2
  ceph-mon ceph-osd ceph-mgr radosgw ceph-common
  curl python3 procps iproute2 psmisc
  clang libclang-rt-14-dev
  qemu-system-x86 linux-image-amd64 busybox-static kmod nbd-client nfs-common xz-utils
  nfs-ganesha nfs-ganesha-vfs rpcbind diod nbdkit btrfs-progs e2fsprogs
  libnbd-bin python3-libnbd qemu-utils nbdfuse fio libnfs-utils libnfs-dev libnbd-dev
  stress-ng linux-source attr acl util-linux
  prometheus python3-yaml systemd man-db strace
)

if [ "$group" = --list ]; then
  case "${2:-}" in
    build) printf '%s\n' "${build_pkgs[@]}" ;;
    test) printf '%s\n' "${test_pkgs[@]}" ;;
    *) echo "install-deps: --list takes build or test" >&2; exit 2 ;;
  esac
  exit 0
fi

pkgs=("${build_pkgs[@]}")
case "$group" in
  build) ;;
  test | all) pkgs+=("${test_pkgs[@]}") ;;
  *) echo "install-deps: unknown group '$group' (expected build, test or all)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
