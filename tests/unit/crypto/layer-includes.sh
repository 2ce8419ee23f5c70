#!/bin/sh
# The crypto layer is bytes in, bytes out: its sources and public headers include only
# zerofs/common/, zerofs/crypto/ and zerofs/format.h (docs/architecture.md, "The edges
# between the layers"). The same check must reject the engine, which includes objstore.
#
#   layer-includes.sh <source root>
set -eu
root=${1:?usage: layer-includes.sh <source root>}

# Prints the zerofs includes of the given directories that crypto may not have.
foreign() {
  grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]zerofs/' "$@" |
    grep -vE '["<]zerofs/(common/|crypto/|format\.h[">])' || true
}

bad=$(foreign "$root/libzerofs/src/crypto" "$root/libzerofs/include/zerofs/crypto")
if [ -n "$bad" ]; then
  echo "crypto includes another layer of libzerofs:" >&2
  echo "$bad" >&2
  exit 1
fi
if [ -z "$(foreign "$root/libzerofs/src/engine")" ]; then
  echo "the check finds no foreign include in libzerofs/src/engine: it checks nothing" >&2
  exit 1
fi
echo "crypto includes only common, crypto and format.h"
