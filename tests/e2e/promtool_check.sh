#!/bin/bash
# End-to-end: start the exporter, put I/O in a fresh cgroup so every family
# has series, scrape /metrics over HTTP and lint it with Prometheus'
# promtool, which must report nothing.
#   promtool_check.sh <cgio_exporter> <cgio_trigger>
set -u
exporter=$1 trigger=$2

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_require_root
promtool=$(command -v promtool || true)
[ -z "$promtool" ] && [ -x /var/cache/cgio/tools/promtool ] && promtool=/var/cache/cgio/tools/promtool
if [ -z "$promtool" ]; then
  echo "FAIL: promtool not found (packaging/install-deps.sh --test unpacks it to /var/cache/cgio/tools)"
  exit 1
fi

work=$(mktemp -d)
cg=""
cleanup() {
  e2e_stop_exporter
  [ -n "$cg" ] && rmdir "$cg" 2>/dev/null
  mountpoint -q "$work/fs" && umount "$work/fs"
  rm -rf "$work"
}
trap cleanup EXIT

e2e_start_exporter "$exporter" "$work/log"
port=$e2e_port

root=$(findmnt -n -o TARGET -t cgroup2 | head -1)
cg="$root/cgio-e2e-$$"
mkdir "$cg"
mkdir -p "$work/fs" && mount -t tmpfs cgio-e2e "$work/fs"
"$trigger" "$cg" rw "$work/fs" && "$trigger" "$cg" tcp4 && "$trigger" "$cg" udp6 \
  || { echo "FAIL: trigger"; exit 1; }

curl -sf "http://127.0.0.1:$port/metrics" -o "$work/metrics" || { echo "FAIL: scrape"; exit 1; }
series=$(grep -c '^cgio_' "$work/metrics")
lint=$("$promtool" check metrics < "$work/metrics" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$lint" ]; then
  echo "FAIL: promtool check metrics (rc=$rc):"
  echo "$lint"
  exit 1
fi
grep -q "cgio_vfs_write_bytes_total{cgroup=\"/cgio-e2e-$$\",workload=\"cgroup\",workload_id=\"/cgio-e2e-$$\"} 455" "$work/metrics" \
  || { echo "FAIL: the cgroup's counters are missing from the scrape"; exit 1; }
echo "ok: promtool check metrics reports nothing on a scrape of $series cgio series"
