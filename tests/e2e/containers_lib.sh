# shellcheck shell=bash
# Containers for end-to-end tests: a local busybox image, and containers that
# do an exact amount of file I/O, run by podman with runc and the cgroupfs
# driver. Sourced, never run; safe under `set -u` (and `set -e`); defines only
# cgio_podman and podman_* names (and _cgio_podman_* internals).
#
#   source tests/e2e/containers_lib.sh
#   trap podman_cleanup EXIT            # or call podman_cleanup from your trap
#   why=$(podman_check) || { echo "SKIP: $why"; exit 77; }
#   podman_image >/dev/null             # imports the image once, reuses it after
#   id=$(podman_run_io io1 1048576)     # foreground: writes+reads 1 MiB, exits
#   id=$(podman_run_io io2 4096 gated)  # detached; waits before and after its I/O
#   ...scrape...; podman_io_start io2; podman_io_wait_done io2
#   ...scrape...; podman_io_finish io2
#
# Measured on this host (podman 4.3.1, runc 1.1.5, hybrid cgroups): runc puts
# the container in /libpod_parent/libpod-<id> (or <--cgroup-parent>/libpod-<id>)
# in every v1 hierarchy and in cgroup2; conmon goes to <parent>/conmon in the
# v1 controllers only and stays in its caller's cgroup2. Before the entrypoint
# runs, runc init reads about 11.3 KB of regular files (/proc, /etc/passwd) in
# the new cgroup; a gated container's "before" scrape already includes that.
#
# Every podman call goes through cgio_podman, which prepends CGIO_PODMAN_FLAGS.
# The defaults are what this host needs (crun refuses hybrid cgroups, PID 1 is
# not systemd, no journald); set the variable before sourcing to change them,
# e.g. add `--root DIR --runroot DIR` for a private store.
: "${CGIO_PODMAN_FLAGS:=--runtime runc --cgroup-manager=cgroupfs --events-backend=file}"
# Flags for every `podman run`: raising rlimits is refused here, and without a
# network the container's only I/O is the workload's.
: "${CGIO_PODMAN_RUN_FLAGS:=--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network=none}"
# More `podman run` flags, e.g. --cgroup-parent=/cgio-test (absolute path with
# the cgroupfs manager; podman_cleanup removes the parent if it made it).
: "${CGIO_PODMAN_RUN_EXTRA:=}"
: "${CGIO_PODMAN_IMAGE:=localhost/cgio-e2e-busybox:latest}"
# The workload's file inside the container (on the container's overlay rootfs:
# podman mounts no tmpfs on / or /tmp) and its dd block size.
: "${CGIO_PODMAN_IO_FILE:=/cgio-io.bin}"
: "${CGIO_PODMAN_IO_BLOCK:=65536}"
# 1 keeps an image this shell imported at cleanup (for faster reruns).
: "${CGIO_PODMAN_KEEP_IMAGE:=0}"

# State lives in files under one directory per top-level shell, not in shell
# variables: callers capture ids with $(...), which runs these functions in
# subshells, and $$ is the same in every subshell. Created on first use.
_cgio_podman_work=${TMPDIR:-/tmp}/cgio-e2e-podman.$$

# cgio_podman <args...>: podman with the common global flags.
cgio_podman() {
  # shellcheck disable=SC2086 # the flags are a word list on purpose
  podman $CGIO_PODMAN_FLAGS "$@"
}

# podman_check: returns 0 if containers can run here, else prints why and
# returns 1.
podman_check() {
  local tool
  if [ "$(id -u)" -ne 0 ]; then echo "containers need root"; return 1; fi
  for tool in podman runc flock timeout findmnt; do
    command -v "$tool" >/dev/null || { echo "$tool not found"; return 1; }
  done
  [ -n "$(_cgio_podman_busybox)" ] || { echo "no static busybox (install busybox-static)"; return 1; }
  [ -n "$(_cgio_podman_cgroup2)" ] || { echo "no cgroup2 mount"; return 1; }
}

# _cgio_podman_busybox: the path of a statically linked busybox, or nothing.
_cgio_podman_busybox() {
  local b
  for b in ${CGIO_BUSYBOX:-} /bin/busybox /usr/bin/busybox; do
    [ -x "$b" ] || continue
    # The image has no libraries: only a static busybox runs in it.
    case $(LC_ALL=C ldd "$b" 2>&1) in
      *'not a dynamic executable'* | *'statically linked'*) echo "$b"; return 0 ;;
    esac
  done
}

_cgio_podman_cgroup2() { findmnt -n -o TARGET -t cgroup2 | head -1; }

# _cgio_podman_workdir: prints the state directory, creating it (mode 700,
# refusing a symlink or someone else's directory).
_cgio_podman_workdir() {
  local w=$_cgio_podman_work
  if [ ! -d "$w" ]; then mkdir -m 700 "$w" 2>/dev/null || true; fi
  if [ ! -d "$w" ] || [ -L "$w" ] || [ ! -O "$w" ]; then
    echo "containers_lib: cannot use $w" >&2
    return 1
  fi
  echo "$w"
}

# podman_image [name]: prints the image name, first importing it if it does not
# exist: a root filesystem of busybox-static with a symlink per applet in /bin.
# A lock makes parallel callers import it once.
podman_image() {
  local name=${1:-$CGIO_PODMAN_IMAGE} busybox work rootfs applet rc=0
  if cgio_podman image exists "$name"; then echo "$name"; return 0; fi
  busybox=$(_cgio_podman_busybox)
  [ -n "$busybox" ] || { echo "podman_image: no static busybox" >&2; return 1; }
  work=$(_cgio_podman_workdir) || return 1
  rootfs=$work/rootfs.$BASHPID
  (
    flock 9
    if cgio_podman image exists "$name"; then exit 0; fi
    mkdir -p "$rootfs"/{bin,dev,etc,proc,root,sys,tmp} || exit 1
    chmod 1777 "$rootfs/tmp"
    cp "$busybox" "$rootfs/bin/busybox" || exit 1
    for applet in $("$busybox" --list); do
      [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet" || exit 1
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
    echo 'root:x:0:' >"$rootfs/etc/group"
    tar -C "$rootfs" -cf "$rootfs.tar" . || exit 1
    cgio_podman import --change 'CMD ["/bin/sh"]' "$rootfs.tar" "$name" \
      >"$work/import.log" 2>&1 || exit 1
    exit 3 # imported here
  ) 9>"${TMPDIR:-/tmp}/cgio-e2e-podman-image.lock" || rc=$?
  rm -rf "$rootfs" "$rootfs.tar"
  case $rc in
    0) ;;
    3) echo "$name" >>"$work/images" ;;
    *) echo "podman_image: import of $name failed: $(tail -n 3 "$work/import.log" 2>/dev/null)" >&2
       return 1 ;;
  esac
  echo "$name"
}

# _cgio_podman_parent: the cgroup parent podman will use (from --cgroup-parent
# in the run flags, else podman's cgroupfs default).
_cgio_podman_parent() {
  local parent=/libpod_parent prev="" f
  # shellcheck disable=SC2086 # flag lists
  for f in $CGIO_PODMAN_RUN_FLAGS $CGIO_PODMAN_RUN_EXTRA; do
    case $f in --cgroup-parent=*) parent=${f#--cgroup-parent=} ;; esac
    if [ "$prev" = --cgroup-parent ]; then parent=$f; fi
    prev=$f
  done
  echo "/${parent#/}"
}

# _cgio_podman_note_parent <parent>: records, per cgroup hierarchy, the topmost
# directory of <parent> that does not exist yet, for podman_cleanup to remove
# (podman and runc create the parent and <parent>/conmon and never remove them).
_cgio_podman_note_parent() {
  local parent=$1 work mnt p top
  work=$(_cgio_podman_workdir) || return 1
  while read -r mnt; do
    p=$parent top=""
    while [ -n "$p" ] && [ "$p" != / ]; do
      if [ -d "$mnt$p" ]; then break; fi
      top=$p
      p=$(dirname "$p")
    done
    if [ -n "$top" ]; then echo "$mnt$top" >>"$work/cgroups"; fi
  done < <(findmnt -n -o TARGET -t cgroup,cgroup2)
  return 0
}

# podman_cgroup_path <id>: the container's cgroup path relative to each
# hierarchy's root, as runc creates it: <parent>/libpod-<id>.
podman_cgroup_path() {
  echo "$(_cgio_podman_parent)/libpod-$1" | sed 's|^//*|/|'
}

# podman_run_io <name> <bytes> [gated]: runs container <name>, which writes
# exactly <bytes> bytes (zeros) to CGIO_PODMAN_IO_FILE and reads them back, then
# creates /cgio-ctl/io-done; prints the container's full id.
# Its regular-file I/O is exactly: write() calls of CGIO_PODMAN_IO_BLOCK bytes
# (the last one shorter) summing to <bytes>, then read() calls of the same
# sizes plus one read() returning 0 at EOF. The other side of each dd is
# /dev/zero or /dev/null (character devices). The shell itself does no read()
# or write(): a redirection of `:` only opens, and io-done is created by open.
#   default: foreground; returns once the container has exited. It is not
#            removed (--rm is not used), so its id stays inspectable until
#            podman_cleanup; its cgroups are gone by then (runc delete).
#   gated:   detached; the container blocks before its I/O until
#            podman_io_start <name>, and after it, cgroups still alive, until
#            podman_io_finish <name>. Blocking on a fifo's open needs no read().
podman_run_io() {
  local name=$1 bytes=$2 mode=${3:-} image work ctl id rc=0 script
  case $bytes in ''|*[!0-9]*) echo "podman_run_io: bad byte count '$bytes'" >&2; return 1 ;; esac
  case $mode in ''|gated) ;; *) echo "podman_run_io: unknown mode '$mode'" >&2; return 1 ;; esac
  image=$(podman_image "$CGIO_PODMAN_IMAGE") || return 1
  work=$(_cgio_podman_workdir) || return 1
  ctl=$work/ctl.$name
  rm -rf "$ctl" && mkdir "$ctl" || return 1
  if [ "$mode" = gated ]; then mkfifo "$ctl/start" "$ctl/finish" || return 1; fi
  _cgio_podman_note_parent "$(_cgio_podman_parent)" || return 1
  # $1 file, $2 block size, $3 bytes. `[` and `:` are ash builtins: no exec.
  # shellcheck disable=SC2016 # expanded by the container's shell
  script='c=/cgio-ctl
if [ -p $c/start ]; then : <$c/start; fi
dd if=/dev/zero of="$1" bs="$2" count="$3" iflag=count_bytes status=none || exit 1
dd if="$1" of=/dev/null bs="$2" status=none || exit 1
: >$c/io-done
if [ -p $c/finish ]; then : <$c/finish; fi'
  echo "$name" >>"$work/containers"
  # shellcheck disable=SC2086 # flag lists
  cgio_podman run ${mode:+--detach} --name "$name" --cidfile "$ctl/cid" \
    $CGIO_PODMAN_RUN_FLAGS $CGIO_PODMAN_RUN_EXTRA \
    --volume "$ctl:/cgio-ctl" "$image" \
    /bin/sh -c "$script" sh "$CGIO_PODMAN_IO_FILE" "$CGIO_PODMAN_IO_BLOCK" "$bytes" \
    >"$ctl/podman.out" 2>"$ctl/podman.err" || rc=$?
  id=$(cat "$ctl/cid" 2>/dev/null)
  if [ "$rc" -ne 0 ] || [ -z "$id" ]; then
    echo "podman_run_io: podman run $name failed (rc=$rc):" \
      "$(cat "$ctl/podman.err" "$ctl/podman.out" 2>/dev/null | tail -n 3 | tr '\n' ' ')" >&2
    return 1
  fi
  echo "$id"
}

_cgio_podman_ctl() { echo "$_cgio_podman_work/ctl.$1"; }

# podman_io_start <name> [timeout s]: releases a gated container into its I/O
# (opens the start fifo for writing, which blocks until the container opens it).
podman_io_start() {
  # shellcheck disable=SC2016 # $0 is the inner shell's
  timeout "${2:-30}" sh -c ': >"$0"' "$(_cgio_podman_ctl "$1")/start" ||
    { echo "podman_io_start: $1 did not reach its start gate" >&2; return 1; }
}

# podman_io_wait_done <name> [timeout s]: waits until the container's I/O is over.
podman_io_wait_done() {
  local done_file i
  done_file=$(_cgio_podman_ctl "$1")/io-done
  for ((i = 0; i < ${2:-30} * 20; i++)); do
    if [ -e "$done_file" ]; then return 0; fi
    sleep 0.05
  done
  echo "podman_io_wait_done: $1 did not finish its I/O" >&2
  return 1
}

# podman_io_finish <name> [timeout s]: lets a gated container exit and returns
# its exit status. Its cgroups disappear some 50-140 ms later (runc delete, run
# by `podman container cleanup`, conmon's exit command).
podman_io_finish() {
  local rc
  # shellcheck disable=SC2016 # $0 is the inner shell's
  timeout "${2:-30}" sh -c ': >"$0"' "$(_cgio_podman_ctl "$1")/finish" ||
    { echo "podman_io_finish: $1 did not reach its finish gate" >&2; return 1; }
  # shellcheck disable=SC2086 # timeout cannot run the cgio_podman function
  rc=$(timeout "${2:-30}" podman $CGIO_PODMAN_FLAGS wait "$1") || return 1
  return "$rc"
}

# podman_pid <name>: the host pid of the container's entrypoint (0 when stopped).
podman_pid() {
  cgio_podman inspect --format '{{.State.Pid}}' "$1"
}

# podman_cgroup2 <name>: the running entrypoint's cgroup2 path relative to the
# cgroup2 mount (the `0::` line of /proc/<pid>/cgroup).
podman_cgroup2() {
  local pid
  pid=$(podman_pid "$1") || return 1
  [ "$pid" -gt 0 ] 2>/dev/null || { echo "podman_cgroup2: $1 is not running" >&2; return 1; }
  sed -n 's/^0:://p' "/proc/$pid/cgroup"
}

# podman_cgroup_id <name>: the running container's cgroup id, as
# bpf_get_current_cgroup_id() reports it (the cgroup2 directory's inode).
podman_cgroup_id() {
  local rel
  rel=$(podman_cgroup2 "$1") || return 1
  stat -c %i "$(_cgio_podman_cgroup2)$rel"
}

# podman_cleanup: removes the containers and images made through this library,
# the cgroup parents it caused to be created (only if empty), and its state
# directory. Idempotent; never fails; fit for an EXIT trap.
podman_cleanup() {
  local work=$_cgio_podman_work c i d
  if [ ! -d "$work" ] || [ -L "$work" ] || [ ! -O "$work" ]; then return 0; fi
  if [ -f "$work/containers" ]; then
    while read -r c; do
      cgio_podman rm --force --volumes --time 0 "$c" >/dev/null 2>&1 || true
    done <"$work/containers"
  fi
  # Not rmi --force: that would also remove other tests' containers.
  if [ -f "$work/images" ] && [ "$CGIO_PODMAN_KEEP_IMAGE" != 1 ]; then
    while read -r i; do cgio_podman rmi "$i" >/dev/null 2>&1 || true; done <"$work/images"
  fi
  if [ -f "$work/cgroups" ]; then
    # rmdir fails on a cgroup that still has members or children: only empty
    # leftovers (<parent>/conmon, <parent>) go, deepest first.
    sort -u "$work/cgroups" | while read -r c; do
      find "$c" -depth -type d 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null || true; done
    done || true
  fi
  rm -rf "$work"
  return 0
}
