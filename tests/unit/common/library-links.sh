#!/usr/bin/env bash
# library-links.sh LIBZEROFS ZEROFS
# libzerofs reads no config file: its DT_NEEDED entries (readelf -d) must not name toml++,
# which the programs link through zerofs_server_common. The same check must find toml++ in
# the zerofs tool, so a pattern that matches nothing cannot pass.
set -euo pipefail
library=$1 program=$2
pattern='libtomlplusplus[.]so'

# needed FILE: the DT_NEEDED entries of FILE (fails when there are none).
needed() {
  local dynamic entries
  dynamic=$(readelf -d "$1")
  entries=$(grep '(NEEDED)' <<< "$dynamic" || true)
  if [[ -z $entries ]]; then
    echo "$1: no DT_NEEDED entries" >&2
    return 1
  fi
  echo "$entries"
}

lib_needed=$(needed "$library")
prog_needed=$(needed "$program")
if grep -qE "$pattern" <<< "$lib_needed"; then
  echo "$library links toml++; the config parser belongs in zerofs_server_common:" >&2
  echo "$lib_needed" >&2
  exit 1
fi
if ! grep -qE "$pattern" <<< "$prog_needed"; then
  echo "$program does not name toml++, so the check cannot tell:" >&2
  echo "$prog_needed" >&2
  exit 1
fi
echo "libzerofs links no toml++; the zerofs tool does"
