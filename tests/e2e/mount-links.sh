#!/usr/bin/env bash
# mount-links.sh ZEROFS_MOUNT ZEROFS_9P
# zerofs-mount links the 9P codec and libfuse3, never libzerofs: neither its DT_NEEDED
# entries (readelf -d) nor what the loader resolves for it (ldd) may name libzerofs,
# librocksdb, libcurl, libsodium, libzstd or liblz4. Both listings must name libfuse3, so an
# empty or unreadable listing cannot pass, and the same check must reject zerofs-9p (which
# links libzerofs), so a pattern that matches nothing cannot pass either.
set -euo pipefail
mount_bin=$1 server_bin=$2
forbidden='lib(zerofs|rocksdb|curl|sodium|zstd|lz4)[.-]'

# check BINARY: prints what is wrong with BINARY's libraries; fails if anything is.
check() {
  local binary=$1 dynamic needed resolved bad wrong=0
  if [[ ! -x $binary ]]; then
    echo "no executable at $binary"
    return 1
  fi
  # Outputs taken whole: with pipefail, `producer | grep -q` fails when grep stops early.
  dynamic=$(readelf -d "$binary")
  needed=$(grep '(NEEDED)' <<< "$dynamic" || true)
  resolved=$(ldd "$binary")
  for listing in needed resolved; do
    if ! grep -q 'libfuse3\.so' <<< "${!listing}"; then
      echo "$binary: the $listing libraries do not name libfuse3:"
      echo "${!listing}"
      wrong=1
    fi
    bad=$(grep -E "$forbidden" <<< "${!listing}" || true)
    if [[ -n $bad ]]; then
      echo "$binary: the $listing libraries name what zerofs-mount must not link:"
      echo "$bad"
      wrong=1
    fi
  done
  return "$wrong"
}

if ! report=$(check "$mount_bin"); then
  echo "$report" >&2
  exit 1
fi
# zerofs-9p links libzerofs but not libfuse3: the check must find both faults.
if report=$(check "$server_bin"); then
  echo "the check accepted $server_bin, which links libzerofs" >&2
  exit 1
fi
for expected in "do not name libfuse3" "libzerofs"; do
  case "$report" in
    *"$expected"*) ;;
    *) echo "the check of $server_bin did not report '$expected':" >&2
       echo "$report" >&2
       exit 1 ;;
  esac
done
echo "zerofs-mount links libfuse3 and none of libzerofs, RocksDB, libcurl, libsodium, zstd, lz4"
