#!/bin/bash
# End-to-end with a real Prometheus server (Debian's package): it scrapes
# cgio as it would in production (HTTP/1.1, gzip), and the values it stores
# for a fresh cgroup whose I/O is known to the byte must be exact.
#   prometheus_scrape.sh <cgio_exporter> <cgio_trigger>
set -u
exporter=$1 trigger=$2

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_require_root
prometheus=/var/cache/cgio/tools/prometheus
if [ ! -x "$prometheus" ]; then
  echo "FAIL: $prometheus not found (packaging/install-deps.sh --test unpacks it)"
  exit 1
fi

work=$(mktemp -d)
cg=""
cleanup() {
  [ -n "${prom_pid:-}" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
  e2e_stop_exporter
  [ -n "$cg" ] && rmdir "$cg" 2>/dev/null
  mountpoint -q "$work/fs" && umount "$work/fs"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- cgio_exporter log"; tail -20 "$work/log"
  echo "--- prometheus log"; tail -20 "$work/prom.log" 2>/dev/null
  exit 1
}

e2e_start_exporter "$exporter" "$work/log"
port=$e2e_port

root=$(findmnt -n -o TARGET -t cgroup2 | head -1)
name=cgio-e2e-prom-$$
cg="$root/$name"
mkdir "$cg"
mkdir -p "$work/fs" && mount -t tmpfs cgio-e2e "$work/fs"
"$trigger" "$cg" rw "$work/fs" && "$trigger" "$cg" tcp4 && "$trigger" "$cg" udp6 || fail "trigger"

# A free port for Prometheus: the first in a range nothing listens on.
prom_port=""
for p in $(seq 19090 19190); do
  if ! ss -Hltn "sport = :$p" | grep -q .; then prom_port=$p; break; fi
done
[ -n "$prom_port" ] || fail "no free port for Prometheus in 19090-19190"
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: cgio
    static_configs:
      - targets: ['127.0.0.1:$port']
YAML
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prom.log" 2>&1 &
prom_pid=$!

api="http://127.0.0.1:$prom_port/api/v1/query"
# The value of an instant query with one result, or nothing.
query() {
  curl -sf --get "$api" --data-urlencode "query=$1" \
    | sed -n 's/.*"result":\[{"metric":{[^}]*},"value":\[[0-9.]*,"\([^"]*\)"\]}\].*/\1/p'
}
# Waits up to 60 s for the query to return one value; prints it.
wait_value() {
  local v=""
  for _ in $(seq 1 120); do
    v=$(query "$1")
    [ -n "$v" ] && { echo "$v"; return 0; }
    kill -0 "$prom_pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

up=$(wait_value 'up{job="cgio"}') || fail "Prometheus has no up{job=\"cgio\"}"
# up is 0 while a scrape fails; give it a few more intervals.
for _ in $(seq 1 20); do [ "$up" = 1 ] && break; sleep 0.5; up=$(query 'up{job="cgio"}'); done
[ "$up" = 1 ] || fail "up{job=\"cgio\"} is $up: Prometheus cannot scrape cgio"

sel="cgroup=\"/$name\""
checks=(
  "cgio_vfs_write_bytes_total{$sel} 455"
  "cgio_vfs_writes_total{$sel} 5"
  "cgio_vfs_read_bytes_total{$sel} 455"
  "cgio_vfs_reads_total{$sel} 6"
  "cgio_vfs_opens_total{$sel} 1"
  "cgio_vfs_creates_total{$sel} 1"
  "cgio_vfs_unlinks_total{$sel} 1"
  "cgio_net_sent_bytes_total{$sel,protocol=\"tcp\",family=\"ipv4\"} 10000"
  "cgio_net_sends_total{$sel,protocol=\"tcp\",family=\"ipv4\"} 4"
  "cgio_net_received_bytes_total{$sel,protocol=\"tcp\",family=\"ipv4\"} 10000"
  "cgio_net_receives_total{$sel,protocol=\"tcp\",family=\"ipv4\"} 4"
  "cgio_net_sent_bytes_total{$sel,protocol=\"udp\",family=\"ipv6\"} 600"
  "cgio_net_received_bytes_total{$sel,protocol=\"udp\",family=\"ipv6\"} 600"
)
for c in "${checks[@]}"; do
  q=${c% *} want=${c##* }
  got=$(wait_value "$q") || fail "Prometheus has no sample for $q"
  [ "$got" = "$want" ] || fail "$q is $got in Prometheus, want $want"
done
samples=$(query 'scrape_samples_scraped{job="cgio"}')
echo "ok: Prometheus scraped cgio (up=1, $samples samples a scrape) and holds the exact counts (${#checks[@]} checked)"

# Restarts while Prometheus scrapes (SIGTERM, then SIGKILL), with I/O before,
# between and after: pinned counting loses nothing and no counter resets.
for sig in TERM KILL; do
  "$trigger" "$cg" rw "$work/fs" || fail "trigger"
  e2e_restart_exporter "$sig"
done
"$trigger" "$cg" rw "$work/fs" || fail "trigger"
q="cgio_vfs_write_bytes_total{$sel}"
for _ in $(seq 1 60); do
  got=$(query "$q")
  [ "$got" = $((455 * 4)) ] && break
  sleep 0.5
done
[ "$got" = $((455 * 4)) ] || fail "$q is $got in Prometheus after two restarts, want $((455 * 4))"
sleep 2 # a few more scrapes of the restarted exporter
# resets() drops the metric name: one query per counter.
total=0
for metric in cgio_vfs_reads_total cgio_vfs_read_bytes_total cgio_vfs_writes_total cgio_vfs_write_bytes_total \
  cgio_vfs_opens_total cgio_vfs_creates_total cgio_vfs_unlinks_total cgio_net_sends_total cgio_net_sent_bytes_total \
  cgio_net_receives_total cgio_net_received_bytes_total; do
  n=$(query "sum(resets($metric[10m]))")
  [ -n "$n" ] || fail "no value for sum(resets($metric[10m]))"
  [ "$n" = 0 ] || fail "Prometheus saw $n resets of $metric across the restarts"
  total=$((total + n))
done
echo "ok: across a SIGTERM and a SIGKILL restart Prometheus holds $got write bytes (4 x 455) and saw $total resets of 11 counters"
