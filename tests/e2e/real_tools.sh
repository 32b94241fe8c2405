#!/bin/bash
# End-to-end with real tools (issue 10): the exporter started as a site starts
# it (default flags), then fio, coreutils cp and nginx, each in a fresh cgroup,
# and cgio's counters for that cgroup compared for equality with what the tool
# itself reports.
#   real_tools.sh <cgio_exporter>
#
# fio (sync, psync, pvsync2, posixaio, libaio, io_uring; buffered on tmpfs and
# direct=1 on a loop-mounted ext4 image) does small I/O of its own (shared
# libraries, zoneinfo, locale): each job runs at two sizes in two cgroups and
# cgio's difference must equal fio's difference (io_bytes, total_ios).
# cp within one tmpfs (copy_file_range): the same command run once under strace
# outside the measured cgroups tells every read/write-family call on a regular
# file and its result; cgio must count exactly those, and the two sizes'
# difference must be the files' difference.
# nginx with `sendfile on`: scraped before and after N fetches by curl (outside
# nginx's cgroup); the file bytes read must be N x size, the TCP bytes sent and
# received what curl reports, and the read and send calls what the kernel's own
# accounting of nginx's process says (/proc/<pid>/io: one syscr per sendfile,
# one syscw per sendfile or writev).
#
# Each check prints `ok|FAIL <workload>: <counter> cgio=<n> tool=<m>`; the
# script fails if any check failed. CGIO_REAL_TOOLS_ONLY=fio|cp|nginx runs one
# workload.
set -u
exporter=$1

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_require_root
for tool in fio nginx cp strace curl jq ss losetup mkfs.ext4 findmnt; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool not found (packaging/install-deps.sh --test installs it)"
    exit 1
  fi
done

work=$(mktemp -d /tmp/cgio-e2e-tools.XXXXXX)
root=$(findmnt -n -o TARGET -t cgroup2 | head -1)
prefix=cgio-e2e-tools-$$
cgroups=()
loopdev=""
cleanup() {
  [ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  e2e_stop_exporter
  local cg
  for cg in "${cgroups[@]}"; do rmdir "$cg" 2>/dev/null; done
  mountpoint -q "$work/ext4" && umount "$work/ext4"
  [ -n "$loopdev" ] && losetup -d "$loopdev"
  mountpoint -q "$work/fs" && umount "$work/fs"
  rm -rf "$work"
}
trap cleanup EXIT
fatal() { e2e_fatal "$@"; }

failures=0
# check <workload> <counter> <cgio> <tool>: equality.
check() {
  if [ "$3" = "$4" ]; then
    echo "ok $1: $2 cgio=$3 tool=$4"
  else
    echo "FAIL $1: $2 cgio=$3 tool=$4"
    failures=$((failures + 1))
  fi
}
# check_range <workload> <counter> <cgio> <min> <max>: min <= cgio <= max.
check_range() {
  if [ "$3" -ge "$4" ] && [ "$3" -le "$5" ]; then
    echo "ok $1: $2 cgio=$3 tool=$4..$5"
  else
    echo "FAIL $1: $2 cgio=$3 tool=$4..$5"
    failures=$((failures + 1))
  fi
}

# --- the exporter, before any workload exists --------------------------------
e2e_start_exporter "$exporter" "$work/log"
port=$e2e_port

# scrape <file>: the exporter's /metrics.
scrape() {
  curl -sf "http://127.0.0.1:$port/metrics" -o "$1" || fatal "scrape failed"
}
# value <scrape file> <metric> <cgroup name> [label=value ...]: the sum of the
# metric's series for cgroup="/<name>" that carry every given label (0 when none).
value() {
  local file=$1 metric=$2 name=$3
  shift 3
  awk -v m="$metric{" -v c="cgroup=\"/$name\"" -v extra="$*" '
    BEGIN { n = split(extra, want, " ") }
    index($0, m) == 1 && index($0, c) {
      for (i = 1; i <= n; i++) {
        split(want[i], kv, "=")
        if (!index($0, kv[1] "=\"" kv[2] "\"")) next
      }
      sum += $NF
    }
    END { printf "%d\n", sum }' "$file"
}
# new_cgroup <name>: creates $root/<name> (removed at exit).
new_cgroup() {
  mkdir "$root/$1" || fatal "mkdir $root/$1"
  cgroups+=("$root/$1")
}
# in_cgroup <name> <command...>: runs the command as a member of the cgroup
# (the subshell joins it, then becomes the command).
in_cgroup() {
  local name=$1
  shift
  (echo "$BASHPID" >"$root/$name/cgroup.procs" && exec "$@")
}

mkdir -p "$work/fs" "$work/ext4"
mount -t tmpfs cgio-e2e-tools "$work/fs" || fatal "mount tmpfs"
only=${CGIO_REAL_TOOLS_ONLY:-}

scrape "$work/start.prom"
echo "programs (cgio_bpf_program_status):" \
  "$(sed -n 's/^cgio_bpf_program_status{.*program="\([^"]*\)".*status="attached".*} 1$/\1/p' "$work/start.prom" | sort -u | tr '\n' ' ')"

# --- fio -----------------------------------------------------------------------
# fio_totals <json>: "<read bytes> <read ios> <write bytes> <write ios>" over all jobs.
fio_totals() {
  jq -r '[([.jobs[].read.io_bytes] | add), ([.jobs[].read.total_ios] | add),
          ([.jobs[].write.io_bytes] | add), ([.jobs[].write.total_ios] | add),
          ([.jobs[].error] | add)] | @tsv' <<<"$1"
}
# fio_run <cgroup name> <engine> <dir> <direct> <size>: in that (existing) cgroup,
# a write job on a new file, then (stonewall) a read job on the pre-laid-out
# <dir>/data; prints fio_totals.
fio_run() {
  local name=$1 engine=$2 dir=$3 direct=$4 size=$5 depth=()
  case $engine in libaio | io_uring | posixaio) depth=(--iodepth=4) ;; esac
  local json
  json=$(in_cgroup "$name" fio --output-format=json --ioengine="$engine" "${depth[@]}" --bs=4k \
    --size="$size" --direct="$direct" --name=w --rw=write --filename="$dir/w.$name" \
    --name=r --rw=read --filename="$dir/data" --stonewall 2> >(cat >"$work/$name.err"))
  rm -f "$dir/w.$name"
  fio_totals "$json"
}
fio_workload() {
  local fs=$1 dir=$2 direct=$3 engine
  for engine in sync psync pvsync2 posixaio libaio io_uring; do
    local w="fio $engine $fs direct=$direct" a=$prefix-fio-$engine-$fs-16m b=$prefix-fio-$engine-$fs-32m
    local ta tb
    new_cgroup "$a"
    new_cgroup "$b"
    ta=$(fio_run "$a" "$engine" "$dir" "$direct" 16M) && tb=$(fio_run "$b" "$engine" "$dir" "$direct" 32M)
    read -r rb_a ri_a wb_a wi_a err_a <<<"$ta"
    read -r rb_b ri_b wb_b wi_b err_b <<<"$tb"
    if [ -z "${err_b:-}" ] || [ "$err_a" != 0 ] || [ "$err_b" != 0 ]; then
      echo "FAIL $w: fio failed ($ta / $tb):"
      cat "$work/$a.err" "$work/$b.err"
      failures=$((failures + 1))
      continue
    fi
    scrape "$work/fio.prom"
    m() { echo $(($(value "$work/fio.prom" "$1" "$b") - $(value "$work/fio.prom" "$1" "$a"))); }
    check "$w" "read_bytes(32M-16M)" "$(m cgio_vfs_read_bytes_total)" $((rb_b - rb_a))
    check "$w" "reads(32M-16M)" "$(m cgio_vfs_reads_total)" $((ri_b - ri_a))
    check "$w" "write_bytes(32M-16M)" "$(m cgio_vfs_write_bytes_total)" $((wb_b - wb_a))
    check "$w" "writes(32M-16M)" "$(m cgio_vfs_writes_total)" $((wi_b - wi_a))
    check "$w" "read_errors+write_errors(32M)" \
      $(($(value "$work/fio.prom" cgio_vfs_read_errors_total "$b") + $(value "$work/fio.prom" cgio_vfs_write_errors_total "$b"))) 0
  done
}
if [ -z "$only" ] || [ "$only" = fio ]; then
  head -c $((32 << 20)) /dev/urandom >"$work/fs/data"
  # A real block device for direct=1: an ext4 image on a loop device.
  truncate -s 160M "$work/ext4.img"
  loopdev=$(losetup -f --show "$work/ext4.img") || fatal "losetup"
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$loopdev" || fatal "mkfs.ext4"
  mount -t ext4 "$loopdev" "$work/ext4" || fatal "mount ext4"
  cp "$work/fs/data" "$work/ext4/data" && sync
  fio_workload tmpfs "$work/fs" 0
  fio_workload ext4 "$work/ext4" 1
fi

# --- cp within one tmpfs (copy_file_range) -------------------------------------
# strace_expect <strace -y log>: "<reads> <read bytes> <read errors> <writes>
# <write bytes> <write errors>" of the read/write-family and copy_file_range
# calls on regular files (paths, not pseudo filesystems or devices).
strace_expect() {
  awk '
    function regular(a) { return a ~ /^[0-9]+<\// && a !~ /^[0-9]+<\/(proc|sys|dev)\// }
    / = / {
      line = $0; sub(/^[0-9]+ +/, "", line)
      call = line; sub(/\(.*/, "", call)
      ret = line; sub(/.* = /, "", ret); sub(/ .*/, "", ret)
      args = line; sub(/^[^(]*\(/, "", args); split(args, a, ", ")
      r = 0; w = 0
      if (call ~ /^(read|pread64|readv|preadv|preadv2)$/) r = regular(a[1])
      else if (call ~ /^(write|pwrite64|writev|pwritev|pwritev2)$/) w = regular(a[1])
      else if (call == "copy_file_range") { r = regular(a[1]); w = regular(a[3]) }
      if (r) { reads++; if (ret + 0 >= 0) rb += ret; else re++ }
      if (w) { writes++; if (ret + 0 >= 0) wb += ret; else we++ }
    }
    END { printf "%d %d %d %d %d %d\n", reads, rb, re, writes, wb, we }' "$1"
}
traced=read,pread64,readv,preadv,preadv2,write,pwrite64,writev,pwritev,pwritev2,copy_file_range
if [ -z "$only" ] || [ "$only" = cp ]; then
  declare -A cp_size
  for size in 16 32; do
    src=$work/fs/cp-src-$size
    head -c $((size << 20)) /dev/urandom >"$src"
    cp_size[$size]=$((size << 20))
    strace -f -qq -y -s 0 -e trace="$traced" -o "$work/cp-$size.strace" cp "$src" "$work/fs/cp-twin-$size" \
      || fatal "cp under strace"
    rm -f "$work/fs/cp-twin-$size"
    new_cgroup "$prefix-cp-$size"
    in_cgroup "$prefix-cp-$size" cp "$src" "$work/fs/cp-dst-$size" || fatal "cp"
    cmp -s "$src" "$work/fs/cp-dst-$size" || fatal "cp made a different copy"
  done
  scrape "$work/cp.prom"
  declare -A cp_got
  for size in 16 32; do
    read -r reads rb re writes wb we < <(strace_expect "$work/cp-$size.strace")
    n=$prefix-cp-$size
    v() { value "$work/cp.prom" "$1" "$n"; }
    check "cp ${size}M" reads "$(v cgio_vfs_reads_total)" "$reads"
    check "cp ${size}M" read_bytes "$(v cgio_vfs_read_bytes_total)" "$rb"
    check "cp ${size}M" read_errors "$(v cgio_vfs_read_errors_total)" "$re"
    check "cp ${size}M" writes "$(v cgio_vfs_writes_total)" "$writes"
    check "cp ${size}M" write_bytes "$(v cgio_vfs_write_bytes_total)" "$wb"
    check "cp ${size}M" write_errors "$(v cgio_vfs_write_errors_total)" "$we"
    cp_got[$size.rb]=$(v cgio_vfs_read_bytes_total)
    cp_got[$size.wb]=$(v cgio_vfs_write_bytes_total)
  done
  check cp "read_bytes(32M-16M)" $((cp_got[32.rb] - cp_got[16.rb])) $((cp_size[32] - cp_size[16]))
  check cp "write_bytes(32M-16M)" $((cp_got[32.wb] - cp_got[16.wb])) $((cp_size[32] - cp_size[16]))
fi

# --- nginx with sendfile -------------------------------------------------------
if [ -z "$only" ] || [ "$only" = nginx ]; then
  fetches=20
  size=$((1 << 20)) # below nginx's sendfile_max_chunk (2m): one sendfile a response when the socket takes it
  head -c "$size" /dev/urandom >"$work/fs/file"
  ngx_port=""
  for p in $(seq 18080 18180); do
    if ! ss -Hltn "sport = :$p" | grep -q .; then ngx_port=$p; break; fi
  done
  [ -n "$ngx_port" ] || fatal "no free port for nginx in 18080-18180"
  ngx=$work/nginx
  mkdir -p "$ngx"
  cat >"$ngx/nginx.conf" <<CONF
daemon off;
master_process off;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  default_type application/octet-stream;
  client_body_temp_path $ngx/body;
  proxy_temp_path $ngx/proxy;
  fastcgi_temp_path $ngx/fastcgi;
  uwsgi_temp_path $ngx/uwsgi;
  scgi_temp_path $ngx/scgi;
  server {
    listen 127.0.0.1:$ngx_port;
    root $work/fs;
  }
}
CONF
  n=$prefix-nginx
  new_cgroup "$n"
  # Not through in_cgroup: $! must be nginx itself.
  (echo "$BASHPID" >"$root/$n/cgroup.procs" && exec nginx -e "$ngx/error.log" -p "$ngx/" -c "$ngx/nginx.conf") \
    > >(cat >"$ngx/stdout") 2> >(cat >"$ngx/stderr") &
  nginx_pid=$!
  url=http://127.0.0.1:$ngx_port/file
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$ngx_port/" && break
    kill -0 "$nginx_pid" 2>/dev/null || { cat "$ngx/stderr" "$ngx/error.log"; fatal "nginx exited"; }
    sleep 0.1
  done
  sleep 0.2
  log_before=$(stat -c %s "$ngx/error.log")
  # The kernel's own task I/O accounting: sendfile adds a read call (syscr) and a
  # write call (syscw), its bytes to rchar and wchar; writev on the socket a syscw;
  # recvfrom nothing.
  read -r _ rchar_before _ wchar_before _ syscr_before _ syscw_before _ < <(tr '\n' ' ' <"/proc/$nginx_pid/io")
  scrape "$work/nginx-before.prom"
  body=0 sent=0 request=0
  for _ in $(seq 1 "$fetches"); do
    read -r h d q < <(curl -sf -o /dev/null -w '%{size_header} %{size_download} %{size_request}\n' "$url") \
      || fatal "curl $url"
    body=$((body + d)) sent=$((sent + h + d)) request=$((request + q))
  done
  sleep 0.3 # nginx's last syscalls return after curl has the bytes
  scrape "$work/nginx-after.prom"
  read -r _ rchar_after _ wchar_after _ syscr_after _ syscw_after _ < <(tr '\n' ' ' <"/proc/$nginx_pid/io")
  log_after=$(stat -c %s "$ngx/error.log")
  d() { echo $(($(value "$work/nginx-after.prom" "$@") - $(value "$work/nginx-before.prom" "$@"))); }
  tcp4=(protocol=tcp family=ipv4)
  w="nginx sendfile ${fetches}x$size"
  [ "$body" = $((fetches * size)) ] || fatal "curl received $body body bytes, not $fetches x $size"
  writes=$(d cgio_vfs_writes_total "$n")
  write_bytes=$(d cgio_vfs_write_bytes_total "$n")
  check "$w" read_bytes "$(d cgio_vfs_read_bytes_total "$n")" $((fetches * size))
  check "$w" "read_bytes (rchar)" "$(d cgio_vfs_read_bytes_total "$n")" $((rchar_after - rchar_before))
  check "$w" "reads (sendfile calls, syscr)" "$(d cgio_vfs_reads_total "$n")" $((syscr_after - syscr_before))
  check "$w" "sent_bytes (curl)" "$(d cgio_net_sent_bytes_total "$n" "${tcp4[@]}")" "$sent"
  check "$w" "sent_bytes (wchar - file writes)" "$(d cgio_net_sent_bytes_total "$n" "${tcp4[@]}")" \
    $((wchar_after - wchar_before - write_bytes))
  check "$w" "received_bytes (curl)" "$(d cgio_net_received_bytes_total "$n" "${tcp4[@]}")" "$request"
  sends=$(d cgio_net_sends_total "$n" "${tcp4[@]}")
  # Per response: one writev (the header), then sendfile until the file is sent;
  # calls, never the kernel's internal chunks.
  check_range "$w" sends "$sends" $((fetches * 2)) $((fetches * 4))
  check "$w" "sends (writev+sendfile calls, syscw - file writes)" "$sends" $((syscw_after - syscw_before - writes))
  check "$w" "write_bytes (error.log)" "$write_bytes" $((log_after - log_before))
  kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  nginx_pid=""
fi

if [ "$failures" -ne 0 ]; then
  echo "FAIL: $failures checks failed"
  echo "--- cgio_exporter log"; tail -20 "$work/log"
  exit 1
fi
echo "ok: every real-tools check passed"
