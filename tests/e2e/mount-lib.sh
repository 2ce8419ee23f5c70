# Helpers shared by the zerofs-mount end-to-end scripts (sourced, not run). The caller sets
# ZEROFS_CLI, ZEROFS_9P, ZEROFS_MOUNT and WORK, and defines fail().

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# write_config URL: $WORK/zerofs.toml for the volume at URL ([s3] lines may follow in
# $WORK/s3.toml), password from ${ZEROFS_PASSWORD}.
write_config() {
  cat > "$WORK/zerofs.toml" <<TOML
[storage]
url = "$1"
password = "\${ZEROFS_PASSWORD}"
[cache]
dir = "$WORK/cache"
TOML
  [ -f "$WORK/s3.toml" ] && cat "$WORK/s3.toml" >> "$WORK/zerofs.toml"
  return 0
}

init_volume() {
  "$ZEROFS_CLI" init --config "$WORK/zerofs.toml" --argon2-opslimit 1 --argon2-memlimit-mib 8 \
    > "$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; return 1; }
}

# start_server PORT [FLAGS...]: zerofs-9p on 127.0.0.1:PORT, waits until it accepts
# connections.
start_server() {
  "$ZEROFS_9P" --config "$WORK/zerofs.toml" --listen "127.0.0.1:$1" "${@:2}" \
    >> "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    if (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "zerofs-9p did not start:"; tail -20 "$WORK/server.log"
  return 1
}

stop_server() {  # SIGNAL
  [ -n "${SERVER_PID:-}" ] || return 0
  kill "-$1" "$SERVER_PID" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "zerofs-9p ignored SIG$1 for 30 s"; kill -KILL "$SERVER_PID"
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

# mount_fs PORT MOUNTPOINT [OPTIONS]: in the foreground process's background, logging to
# $WORK/mount.log, and waits until the mount is there. allow_other, so that the POSIX
# suite's unprivileged user may use it (FUSE refuses every other user otherwise).
mount_fs() {
  mkdir -p "$2"
  "$ZEROFS_MOUNT" -f -o "allow_other${3:+,$3}" "127.0.0.1:$1" "$2" >> "$WORK/mount.log" 2>&1 &
  MOUNT_PID=$!
  for _ in $(seq 100); do
    if mountpoint -q "$2"; then return 0; fi
    kill -0 "$MOUNT_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "zerofs-mount did not mount:"; tail -20 "$WORK/mount.log"
  return 1
}

# unmount_fs MOUNTPOINT: umount, then the client must exit by itself.
unmount_fs() {
  [ -n "${MOUNT_PID:-}" ] || return 0
  umount "$1" || fusermount3 -u "$1" || { echo "umount failed"; umount -l "$1"; }
  for _ in $(seq 100); do kill -0 "$MOUNT_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$MOUNT_PID" 2>/dev/null; then
    echo "zerofs-mount still running 10 s after umount"; kill -KILL "$MOUNT_PID"
    wait "$MOUNT_PID" 2>/dev/null
    MOUNT_PID=
    return 1
  fi
  wait "$MOUNT_PID"
  local rc=$?
  MOUNT_PID=
  [ "$rc" -eq 0 ] || echo "zerofs-mount exited with $rc after umount"
  return "$rc"
}

cleanup_all() {  # MOUNTPOINT
  if mountpoint -q "$1" 2>/dev/null; then umount "$1" 2>/dev/null || umount -l "$1"; fi
  [ -n "${MOUNT_PID:-}" ] && kill -KILL "$MOUNT_PID" 2>/dev/null
  [ -n "${SERVER_PID:-}" ] && kill -KILL "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
}

# timed NAME COMMAND...: runs COMMAND, prints how long it took on the script's stdout
# (fd 3, even when the caller redirects COMMAND's output), returns its status.
exec 3>&1
timed() {
  local name=$1 start end rc
  shift
  start=$(date +%s%N)
  "$@"
  rc=$?
  end=$(date +%s%N)
  local ds=$(((end - start) / 100000000))
  printf '== %s: %d.%d s (exit %d)\n' "$name" "$((ds / 10))" "$((ds % 10))" "$rc" >&3
  return "$rc"
}
