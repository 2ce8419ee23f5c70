# Shared by the package tests (sourced): the example /etc/zerofs/zerofs.toml of a scratch
# root made runnable in WORK_DIR.
#
# scratch_config CONFIG WORK_DIR OUT: writes to OUT the config CONFIG with the directories
# systemd gives zerofs.service (/var/lib/zerofs, /var/cache/zerofs, /run/zerofs) moved
# under WORK_DIR, which it creates, and every listener on a free loopback port.
scratch_config() {
  local config=$1 dir=$2 out=$3
  mkdir -p "$dir/var/lib/zerofs" "$dir/var/cache/zerofs" "$dir/run/zerofs"
  sed -e "s|/var/lib/zerofs|$dir/var/lib/zerofs|; s|/var/cache/zerofs|$dir/var/cache/zerofs|" \
      -e "s|/run/zerofs|$dir/run/zerofs|; s|127\.0\.0\.1:[0-9]*|127.0.0.1:0|" "$config" > "$out"
}
