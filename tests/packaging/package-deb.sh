#!/usr/bin/env bash
# package-deb.sh BUILD_DIR SOURCE_DIR WORK_DIR LIBDIR VERSION
#
# Builds the Debian package from the existing build (cpack -G DEB, no rebuild), checks what
# it declares (dpkg-deb -I: Depends from dpkg-shlibdeps, conffiles, maintainer scripts) and
# holds (dpkg-deb -c: programs, library, headers, CMake and pkg-config files, man pages,
# docs, config, units; no tests), that apt could install it, then unpacks it into
# WORK_DIR/root (dpkg -x) and runs what it installed there: every program's --version and
# --help, the man pages, the pkg-config file (an example built against it), and the
# example /etc/zerofs/zerofs.toml with the password handed over as systemd would.
# WORK_DIR/root stays for package_systemd.
set -uo pipefail
build=$1 src=$2 work=$3 libdir=$4 version=$5
. "$(dirname "$0")/lib.sh"
need_tools cpack dpkg-deb dpkg-shlibdeps apt-get man pkg-config readelf c++
rm -rf "$work"
mkdir -p "$work"

# --- Build the package ---------------------------------------------------------------
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/cpack" > "$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"
  echo "FAIL: cpack -G DEB"
  exit 1
fi
debs=("$work"/cpack/zerofs_"$version"_*.deb)
[ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] || {
  ls -l "$work/cpack"
  echo "FAIL: no single zerofs_${version}_ARCH.deb"
  exit 1
}
deb=${debs[0]}
ok "cpack built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# --- What it declares ----------------------------------------------------------------
info=$(dpkg-deb -I "$deb")
echo "$info" | sed 's/^/  /'
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = zerofs ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), expected $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
# From dpkg-shlibdeps (the libraries the programs and libzerofs link), and fuse3 by hand.
dep_names=$(tr ',' '\n' <<< "$depends" | sed 's/^ *//; s/ .*//')
for dep in libc6 'libstdc\+\+6' libfuse3-3 'librocksdb[0-9.]+' 'libsodium[0-9]+' 'libcurl[0-9]+' \
           'libssl[0-9.]+' 'libzstd[0-9]+' 'liblz4-[0-9]+' fuse3; do
  grep -Eqx "$dep" <<< "$dep_names" || fail "Depends lacks /$dep/: $depends"
done
grep -q -- '-dev' <<< "$depends" && fail "Depends names a -dev package: $depends"
grep -q 'zerofs' <<< "$depends" && fail "the package depends on itself: $depends"
dpkg-deb -e "$deb" "$work/control"
[ "$(cat "$work/control/conffiles" 2> /dev/null)" = /etc/zerofs/zerofs.toml ] ||
  fail "conffiles: '$(cat "$work/control/conffiles" 2> /dev/null)', expected /etc/zerofs/zerofs.toml"
for script in postinst postrm; do
  [ -x "$work/control/$script" ] || fail "no executable $script"
  sh -n "$work/control/$script" || fail "$script does not parse"
done
grep -q "^libzerofs ${version%%.*} zerofs" "$work/control/shlibs" 2> /dev/null ||
  fail "no shlibs entry for libzerofs: $(cat "$work/control/shlibs" 2> /dev/null)"
grep -qx 'activate-noawait ldconfig' "$work/control/triggers" 2> /dev/null || fail "no ldconfig trigger"
ok "control data checked"

# --- What it holds -------------------------------------------------------------------
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
want=(
  ./usr/bin/zerofs ./usr/bin/zerofs-nfs ./usr/bin/zerofs-9p ./usr/bin/zerofs-nbd ./usr/bin/zerofs-mount
  "./usr/$libdir/libzerofs.so.$version" "./usr/$libdir/libzerofs.so.${version%%.*}" "./usr/$libdir/libzerofs.so"
  ./usr/include/zerofs/objstore/object_store.h ./usr/include/zerofs/vfs/filesystem.h
  "./usr/$libdir/cmake/zerofs/zerofsConfig.cmake" "./usr/$libdir/cmake/zerofs/zerofsConfigVersion.cmake"
  "./usr/$libdir/cmake/zerofs/zerofsTargets.cmake" "./usr/$libdir/pkgconfig/zerofs.pc"
  ./usr/share/doc/zerofs/README.md ./usr/share/doc/zerofs/operations.md ./usr/share/doc/zerofs/configuration.md
  ./usr/share/doc/zerofs/examples/monitoring/zerofs-dashboard.json
  ./usr/share/doc/zerofs/examples/monitoring/zerofs-alerts.yml
  ./etc/zerofs/zerofs.toml ./lib/systemd/system/zerofs.service "./lib/systemd/system/zerofs-mount@.service"
)
programs=(zerofs zerofs-nfs zerofs-9p zerofs-nbd zerofs-mount)
for p in "${programs[@]}"; do want+=("./usr/share/man/man1/$p.1.gz"); done
for f in "${want[@]}"; do
  grep -qxF -- "$f" <<< "$contents" || fail "the package lacks $f"
done
# Exactly the five programs, and nothing of the test suite.
bins=$(grep -E '^\./usr/bin/.' <<< "$contents" | sort | tr '\n' ' ')
[ "$bins" = "./usr/bin/zerofs ./usr/bin/zerofs-9p ./usr/bin/zerofs-mount ./usr/bin/zerofs-nbd ./usr/bin/zerofs-nfs " ] ||
  fail "programs in the package: $bins"
stray=$(grep -Ei 'test|bench|fuzz|catch|posix-suite|fsx' <<< "$contents" | grep -v '^\./usr/share/doc/zerofs/')
[ -z "$stray" ] || fail "test files in the package: $stray"
ok "contents checked ($(wc -l <<< "$contents") entries)"

# apt resolves every dependency (from the installed packages or its lists) without
# downloading or changing anything.
if apt-get install -s -q "$deb" > "$work/apt.log" 2>&1 && grep -q '^Inst zerofs ' "$work/apt.log"; then
  ok "apt-get install -s accepts the package"
else
  fail "apt-get install -s: $(tail -5 "$work/apt.log")"
fi

# --- Installed into a scratch root ---------------------------------------------------
root=$work/root
dpkg -x "$deb" "$root" || { echo "FAIL: dpkg -x"; exit 1; }
export LD_LIBRARY_PATH=$root/usr/$libdir
for p in "${programs[@]}"; do
  bin=$root/usr/bin/$p
  got=$("$bin" --version 2>&1)
  [ "$got" = "$p $version" ] || fail "$p --version: '$got', expected '$p $version'"
  "$bin" --help > "$work/$p.help" 2>&1 || fail "$p --help exits $?"
  grep -q "$p" "$work/$p.help" || fail "$p --help does not name the program"
  # libzerofs from the scratch root (zerofs-mount links none), and no path into the build
  # tree.
  libs=$(ldd "$bin")
  if [ "$p" != zerofs-mount ]; then
    grep -q "libzerofs.so.${version%%.*} => $root/usr/$libdir/" <<< "$libs" ||
      fail "$p does not load the packaged libzerofs: $(grep libzerofs <<< "$libs")"
  fi
  dyn=$(readelf -d "$bin")
  grep -E 'RPATH|RUNPATH' <<< "$dyn" | grep -qF "$build" && fail "$p has a RUNPATH into the build tree"
  # zerofs-mount is the one program that needs libfuse3.
  if [ "$p" = zerofs-mount ]; then
    grep -q 'libfuse3' <<< "$libs" || fail "zerofs-mount does not link libfuse3"
  fi
done
ok "the installed programs run (--version, --help)"

# The man pages: a NAME line per program (the --name given to help2man), the usage that
# --help prints, and a page that man renders without warnings.
for p in "${programs[@]}"; do
  page=$root/usr/share/man/man1/$p.1.gz
  [ -f "$page" ] || continue
  text=$(zcat "$page")
  grep -q "^$p \\\\- " <<< "$text" || fail "$p.1 has no NAME line for $p"
  grep -q '^.SH SYNOPSIS' <<< "$text" || fail "$p.1 has no SYNOPSIS"
  grep -q '^.SH OPTIONS' <<< "$text" || fail "$p.1 has no OPTIONS"
  grep -q '^.SH "SEE ALSO"' <<< "$text" || fail "$p.1 has no SEE ALSO"
  grep -q "$version" <<< "$text" || fail "$p.1 does not carry version $version"
  rendered=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 > /dev/null)
  [ -z "$rendered" ] || fail "man warns on $p.1: $rendered"
done
# An example keeps its lines (roff would fill them into one).
MANWIDTH=80 man -l "$root/usr/share/man/man1/zerofs-mount.1.gz" 2> /dev/null |
  grep -q '^ *fusermount3 -u /mnt/zerofs$' || fail "zerofs-mount.1 runs its example lines together"
[ "$(MANPATH=$root/usr/share/man man -w zerofs 2>&1)" = "$root/usr/share/man/man1/zerofs.1.gz" ] ||
  fail "man -w zerofs with MANPATH in the scratch root: $(MANPATH=$root/usr/share/man man -w zerofs 2>&1)"
ok "man pages checked"

# pkg-config: the moved install still names itself (paths relative to the .pc file), and
# an outside program builds and runs against it.
export PKG_CONFIG_PATH=$root/usr/$libdir/pkgconfig
[ "$(pkg-config --modversion zerofs)" = "$version" ] || fail "pkg-config --modversion: $(pkg-config --modversion zerofs)"
cflags=$(pkg-config --cflags zerofs) libs=$(pkg-config --libs zerofs)
for var in includedir:include "libdir:$libdir"; do
  got=$(pkg-config --variable="${var%%:*}" zerofs)
  [ "$(realpath -m "$got")" = "$(realpath -m "$root/usr/${var#*:}")" ] || fail "pkg-config ${var%%:*} is $got, not in the scratch root"
done
# shellcheck disable=SC2086
if c++ -std=c++20 $cflags "$src/examples/embed-objstore/main.cpp" -o "$work/embed-objstore" $libs 2> "$work/cxx.log"; then
  out=$("$work/embed-objstore" memory://example 2>&1)
  case "$out" in
    *"read 'bucket' from a 13-byte object; replaced it"*) ok "an example built with pkg-config runs" ;;
    *) fail "the pkg-config example printed: $out" ;;
  esac
else
  fail "building the example with pkg-config: $(head -20 "$work/cxx.log")"
fi

# The example /etc/zerofs/zerofs.toml: valid, its password_file names the credential
# zerofs.service hands over, and a volume made and served with it starts (the systemd paths
# moved into WORK_DIR, the ports to free ones).
creds=$work/credentials
mkdir -p "$creds"
printf 'package-test-password\n' > "$creds/password"
zerofs=$root/usr/bin/zerofs
if CREDENTIALS_DIRECTORY=$creds "$zerofs" config check "$root/etc/zerofs/zerofs.toml" > "$work/check.out" 2>&1; then
  grep -q 'storage: file:///var/lib/zerofs/bucket' "$work/check.out" || fail "config check: $(cat "$work/check.out")"
  ok "the example config is valid with the credential"
else
  fail "zerofs config check of the example: $(cat "$work/check.out")"
fi
scratch_config "$root/etc/zerofs/zerofs.toml" "$work" "$work/zerofs.toml"
export CREDENTIALS_DIRECTORY=$creds
if "$zerofs" init --config "$work/zerofs.toml" --argon2-opslimit 1 --argon2-memlimit-mib 8 > "$work/init.log" 2>&1 &&
   timeout 60 "$zerofs" run --config "$work/zerofs.toml" --exit-after-start > "$work/run.out" 2> "$work/run.err"; then
  for line in '^nfs 127\.0\.0\.1:[0-9]+$' '^9p 127\.0\.0\.1:[0-9]+$' '^nbd 127\.0\.0\.1:[0-9]+$' "^control $work/run/zerofs/control.sock$"; do
    grep -Eq "$line" "$work/run.out" || fail "zerofs run with the example config printed no /$line/: $(cat "$work/run.out")"
  done
  ok "zerofs run starts with the example config and the credential"
else
  fail "zerofs init/run with the example config: $(cat "$work/init.log" "$work/run.err" 2> /dev/null | tail -20)"
fi
unset CREDENTIALS_DIRECTORY

finish
