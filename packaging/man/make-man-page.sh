#!/bin/sh
# make-man-page.sh HELP2MAN PROGRAM DESCRIPTION INCLUDE OUTPUT.1.gz
#
# The man page of PROGRAM from its --help and --version (help2man), with the example
# lines under an "Example:" heading kept as they are printed (help2man would let roff
# fill them into one paragraph), compressed as Debian ships man pages.
set -eu
help2man=$1 program=$2 description=$3 include=$4 output=$5
page=${output%.gz}
# A sanitizer build's leak check must not fail the page.
ASAN_OPTIONS=detect_leaks=0 "$help2man" --no-info --no-discard-stderr --section=1 \
  --name="$description" --include="$include" --output="$page.raw" "$program"
awk '
  /^\.SS "Examples?:"$/ { print; example = 1; next }
  example && /^\.IP$/   { print; print ".nf"; verbatim = 1; example = 0; next }
  verbatim && /^\./     { print ".fi"; verbatim = 0 }
  { print }
  END { if (verbatim) print ".fi" }
' "$page.raw" > "$page"
rm -f "$page.raw"
gzip -9 -n -f "$page"
