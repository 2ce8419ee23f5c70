#!/usr/bin/env bash
# systemd-units.sh SCRATCH_ROOT WORK_DIR LIBDIR
#
# The systemd units as the Debian package installs them (SCRATCH_ROOT is the package
# unpacked by package-deb.sh). systemd-analyze verify checks that the programs a unit runs
# exist, so it runs on copies whose /usr/bin/ programs are those of SCRATCH_ROOT, with
# MANPATH there too for the man: links of Documentation=; it must print nothing at all.
# Then: the sandbox of zerofs.service stays tight (systemd-analyze security --offline),
# its writable directories and credential match the example config, a misspelt setting
# makes verify complain (the check can fail), and the packaged server, run under strace
# with the example config (its directories moved into WORK_DIR) while it starts, serves
# NBD traffic, flushes and stops, makes only system calls the unit's filter allows, opens
# only sockets it allows and writes only where ProtectSystem=strict lets it.
set -uo pipefail
root=$1 work=$2 libdir=$3
. "$(dirname "$0")/lib.sh"
need_tools systemd-analyze strace nbdcopy python3
units=$root/lib/systemd/system
[ -f "$units/zerofs.service" ] && [ -f "$units/zerofs-mount@.service" ] ||
  { echo "FAIL: the units are not in $units (package_deb unpacks the package there)"; exit 1; }
rm -rf "$work"
mkdir -p "$work/units"
for unit in zerofs.service zerofs-mount@.service; do
  sed -E "s#^(Exec[A-Za-z]*=[-@:+!]*)/usr/bin/#\\1$root/usr/bin/#" "$units/$unit" > "$work/units/$unit"
done
grep -qxF "ExecStart=$root/usr/bin/zerofs run --config /etc/zerofs/zerofs.toml" "$work/units/zerofs.service" ||
  fail "zerofs.service does not run /usr/bin/zerofs run --config /etc/zerofs/zerofs.toml"
grep -q "^ExecStart=$root/usr/bin/zerofs-mount -f " "$work/units/zerofs-mount@.service" ||
  fail "zerofs-mount@.service does not run /usr/bin/zerofs-mount -f"

verify() {
  (cd "$work/units" && MANPATH=$root/usr/share/man systemd-analyze verify "$@" 2>&1)
}
out=$(verify zerofs.service "zerofs-mount@mnt-zerofs.service")
rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
  ok "systemd-analyze verify zerofs.service zerofs-mount@mnt-zerofs.service: clean"
else
  fail "systemd-analyze verify (exit $rc): $out"
fi

# The instance names the mount point: %f of mnt-zerofs is /mnt/zerofs.
grep -q ' %f$' "$work/units/zerofs-mount@.service" || fail "zerofs-mount@.service does not mount at %f"
[ "$(systemd-escape --path --unescape mnt-zerofs)" = /mnt/zerofs ] || fail "systemd-escape disagrees"

# A misspelt setting is reported: the verify above would have caught one.
sed 's/^ProtectSystem=/ProtectSystm=/' "$work/units/zerofs.service" > "$work/units/typo.service"
out=$(verify typo.service)
grep -q "Unknown key 'ProtectSystm'" <<< "$out" || fail "verify did not report a misspelt key: $out"

# The sandbox: systemd's own score of zerofs.service stays at "OK" (2.5 or less of 10).
if out=$(systemd-analyze security --offline=yes --threshold=25 "$work/units/zerofs.service" 2>&1); then
  ok "$(grep 'Overall exposure' <<< "$out")"
else
  echo "$out" | grep -v '✓'
  fail "systemd-analyze security: exposure above 2.5"
fi

# What the sandbox leaves writable covers what the example config writes, and the
# credential the unit loads is the password_file the config names.
config=$root/etc/zerofs/zerofs.toml
setting() { sed -n "s/^$1=//p" "$work/units/zerofs.service"; }
value() { sed -n "s/^$1 *= *\"\\(.*\\)\"$/\\1/p" "$config"; }
grep -qx 'ProtectSystem=strict' "$work/units/zerofs.service" || fail "zerofs.service lacks ProtectSystem=strict"
state=/var/lib/$(setting StateDirectory) cache=/var/cache/$(setting CacheDirectory) runtime=/run/$(setting RuntimeDirectory)
case "$(value url)" in "file://$state/"*) ;; *) fail "storage.url $(value url) is outside StateDirectory $state" ;; esac
[ "$(value dir)" = "$cache" ] || fail "cache.dir $(value dir) is not CacheDirectory $cache"
case "$(value socket)" in "$runtime/"*) ;; *) fail "control.socket $(value socket) is outside RuntimeDirectory $runtime" ;; esac
credential=$(setting LoadCredential)
[ "$credential" = "password:/etc/zerofs/password" ] || fail "LoadCredential=$credential"
[ "$(value password_file)" = "\${CREDENTIALS_DIRECTORY:-/etc/zerofs}/${credential%%:*}" ] ||
  fail "password_file $(value password_file) is not the credential ${credential%%:*} (else ${credential#*:})"
[ "/etc/zerofs/${credential%%:*}" = "${credential#*:}" ] || fail "the credential's source is not the config's fallback"
ok "writable paths and the credential agree with the example config"

# The packaged server inside the unit's limits. It runs as the unit runs it (zerofs run
# --config, the password from $CREDENTIALS_DIRECTORY); `zerofs init` runs by hand first,
# as an operator would, outside the trace.
export LD_LIBRARY_PATH=$root/usr/$libdir
zerofs=$root/usr/bin/zerofs
sys=$work/sys
mkdir -p "$sys/credentials"
printf 'sandbox-test-password\n' > "$sys/credentials/password"
export CREDENTIALS_DIRECTORY=$sys/credentials
scratch_config "$root/etc/zerofs/zerofs.toml" "$sys" "$sys/zerofs.toml"
cfg=(--config "$sys/zerofs.toml")
if ! "$zerofs" init "${cfg[@]}" --argon2-opslimit 1 --argon2-memlimit-mib 8 > "$sys/init.log" 2>&1; then
  cat "$sys/init.log"
  echo "FAIL: zerofs init with the example config"
  exit 1
fi
(cd / && exec strace -f -y -qq -s 512 -o "$sys/trace" "$zerofs" run "${cfg[@]}") > "$sys/run.out" 2> "$sys/run.err" &
strace_pid=$!
trap 'kill -KILL "$strace_pid" 2> /dev/null' EXIT
if wait_for_control "$strace_pid" "$sys/run.out"; then
  nbd_addr=$(sed -n 's/^nbd //p' "$sys/run.out")
  head -c 1048576 /dev/urandom > "$sys/data"
  "$zerofs" nbd create disk 4M "${cfg[@]}" > /dev/null 2>&1 || fail "nbd create through the traced server"
  nbdcopy "$sys/data" "nbd://$nbd_addr/disk" || fail "nbdcopy to the traced server"
  "$zerofs" flush "${cfg[@]}" > /dev/null 2>&1 || fail "flush through the traced server"
  nbdcopy "nbd://$nbd_addr/disk" "$sys/back" && cmp -s "$sys/data" <(head -c 1048576 "$sys/back") ||
    fail "reading back over NBD"
  server_pid=$(pgrep -P "$strace_pid" | head -1)
  [ -n "$server_pid" ] && kill -TERM "$server_pid"
  wait "$strace_pid" || fail "the traced server exited $? after SIGTERM: $(tail -5 "$sys/run.err")"
  trap - EXIT
  if python3 "$(dirname "$0")/check-sandbox.py" "$units/zerofs.service" "$sys/trace" "$sys" \
       "$sys/var/lib/zerofs" "$sys/var/cache/zerofs" "$sys/run/zerofs" > "$sys/check.out"; then
    cat "$sys/check.out"
  else
    cat "$sys/check.out"
    fail "the server does things the unit's sandbox forbids"
  fi
  # The check can fail: without the state directory writable, or with a narrower filter.
  python3 "$(dirname "$0")/check-sandbox.py" "$units/zerofs.service" "$sys/trace" "$sys" \
    "$sys/var/cache/zerofs" "$sys/run/zerofs" > "$sys/check-ro.out"
  grep -q "writes $sys/var/lib/zerofs/bucket/" "$sys/check-ro.out" ||
    fail "the check misses the writes to the bucket: $(head -3 "$sys/check-ro.out")"
  sed 's/^SystemCallFilter=.*/SystemCallFilter=@basic-io/' "$units/zerofs.service" > "$sys/narrow.service"
  python3 "$(dirname "$0")/check-sandbox.py" "$sys/narrow.service" "$sys/trace" "$sys" \
    "$sys/var/lib/zerofs" "$sys/var/cache/zerofs" "$sys/run/zerofs" > "$sys/check-narrow.out"
  grep -q "system call openat .* is not in SystemCallFilter=" "$sys/check-narrow.out" ||
    fail "the check misses calls outside a narrower filter: $(head -3 "$sys/check-narrow.out")"
else
  fail "the traced server did not start: $(tail -5 "$sys/run.err")"
fi

finish
