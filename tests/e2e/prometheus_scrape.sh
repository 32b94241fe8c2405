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
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
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
pid=$e2e_pid port=$e2e_port

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
