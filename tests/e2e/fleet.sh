#!/bin/bash
# A fleet on one host: three cgio exporters stand for three nodes, each with
# the cgroup subtree of its "node" recognised as Slurm jobs
# (--cgroup.workload-pattern; the other nodes' cgroups are plain cgroups to
# it, which the unit rules leave out), one real Prometheus (Debian's) scrapes
# them with dashboards/rules/cgio.rules.yml loaded. Job 4242 runs on all
# three nodes, job 4243 on node 2 only and ends (its series are gone after
# --cgroup.retain-ended=2s). Then every query of every dashboard panel and
# every recording rule is evaluated through Prometheus's HTTP API: each must
# parse and return data, every rule must evaluate without error, and the job
# totals (the rules and the Job dashboard's panels) must equal the bytes the
# workload did.
#   fleet.sh <cgio_exporter> <cgio_trigger>
set -u
exporter=$1 trigger=$2

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
e2e_require_root
prometheus=/var/cache/cgio/tools/prometheus
[ -x "$prometheus" ] || { echo "FAIL: $prometheus not found (packaging/install-deps.sh --test unpacks it)"; exit 1; }

work=$(mktemp -d)
root=$(findmnt -n -o TARGET -t cgroup2 | head -1)
base="$root/cgio-fleet-$$"
pids=() holders=()
cleanup() {
  local p i
  [ -n "${prom_pid:-}" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
  for p in "${holders[@]}"; do kill "$p" 2>/dev/null; done
  for i in "${!pids[@]}"; do kill "${pids[$i]}" 2>/dev/null && wait "${pids[$i]}" 2>/dev/null; done
  for i in 1 2 3; do
    "$exporter" --bpf.unpin --bpf.pin-path="/sys/fs/bpf/cgio-e2e-fleet-$$-$i" \
      --bpf.state-file="$work/state-$i" >/dev/null 2>&1
  done
  [ -d "$base" ] && find "$base" -depth -type d -exec rmdir {} + 2>/dev/null
  mountpoint -q "$work/fs" && umount "$work/fs"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  local i
  echo "FAIL: $*"
  for i in 1 2 3; do echo "--- exporter $i log"; tail -8 "$work/log-$i" 2>/dev/null; done
  echo "--- prometheus log"; tail -20 "$work/prom.log" 2>/dev/null
  exit 1
}

mkdir -p "$work/fs" && mount -t tmpfs cgio-fleet "$work/fs" || fail "tmpfs"
mkdir "$base" || fail "mkdir $base"
ports=()
for i in 1 2 3; do
  mkdir -p "$base/node$i/slurm"
  flags=(--web.listen-address=127.0.0.1:0 --bpf.pin-path="/sys/fs/bpf/cgio-e2e-fleet-$$-$i"
    --bpf.state-file="$work/state-$i"
    "--cgroup.workload-pattern=^/cgio-fleet-$$/node$i/(?<workload>slurm)/job_(?<workload_id>[0-9]+)")
  [ "$i" = 1 ] && flags+=(--vfs.mountpoints="$work/fs")  # the Node dashboard's per-filesystem panel
  [ "$i" = 2 ] && flags+=(--cgroup.retain-ended=2s)       # job 4243's series go soon after it ends
  "$exporter" "${flags[@]}" 2>"$work/log-$i" &
  pids+=($!)
done
for i in 1 2 3; do
  port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*msg=ready .*port=\([0-9]*\).*/\1/p' "$work/log-$i")
    [ -n "$port" ] && break
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || fail "exporter $i exited"
    sleep 0.1
  done
  [ -n "$port" ] || fail "exporter $i not ready"
  ports+=("$port")
done

# The jobs' cgroups, each with a task holding the environment Slurm gives a
# job's tasks (cgio_workload_info's user comes from it): a sleep started
# outside and moved in, so that its own start-up I/O is not the job's.
job() { # job <node> <id>
  mkdir "$base/node$1/slurm/job_$2" || fail "mkdir job_$2 on node $1"
  env -i SLURM_JOB_ID="$2" SLURM_JOB_USER=alice SLURM_JOB_UID=1001 SLURM_JOB_ACCOUNT=phys sleep 600 &
  local pid=$! n
  holders+=("$pid")
  # Only once it sleeps (x86_64 clock_nanosleep 230 or nanosleep 35): the dynamic
  # loader's opens and reads are over by then.
  for _ in $(seq 1 100); do
    read -r n _ <"/proc/$pid/syscall" 2>/dev/null
    [ "${n:-}" = 230 ] || [ "${n:-}" = 35 ] && break
    sleep 0.05
  done
  [ "${n:-}" = 230 ] || [ "${n:-}" = 35 ] || fail "the holder of job_$2 never went to sleep (syscall ${n:-?})"
  echo "$pid" >"$base/node$1/slurm/job_$2/cgroup.procs" || fail "moving the holder into job_$2"
}
for i in 1 2 3; do job "$i" 4242; done
job 2 4243
# Node i does the rw scenario i times in job 4242 (455 bytes written and read,
# 5 writes, 6 reads, an open that creates, an unlink each time); node 1 also
# a TCP transfer (10,000 bytes each way in 4 calls); job 4243 once on node 2.
for i in 1 2 3; do
  for _ in $(seq 1 "$i"); do "$trigger" "$base/node$i/slurm/job_4242" rw "$work/fs" || fail "trigger"; done
done
"$trigger" "$base/node1/slurm/job_4242" tcp4 || fail "trigger tcp4"
"$trigger" "$base/node2/slurm/job_4243" rw "$work/fs" || fail "trigger"

prom_port=""
for p in $(seq 19190 19290); do
  if ! ss -Hltn "sport = :$p" | grep -q .; then prom_port=$p; break; fi
done
[ -n "$prom_port" ] || fail "no free port for Prometheus in 19190-19290"
cp "$src/dashboards/rules/cgio.rules.yml" "$work/"
# The scrape configuration the README gives, with the test's three targets.
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - cgio.rules.yml
scrape_configs:
  - job_name: cgio
    static_configs:
      - targets: ['127.0.0.1:${ports[0]}', '127.0.0.1:${ports[1]}', '127.0.0.1:${ports[2]}']
YAML
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prom.log" 2>&1 &
prom_pid=$!
api="http://127.0.0.1:$prom_port/api/v1"

# query <expr>: the API's JSON answer (status, result) on stdout.
query() { curl -s --get "$api/query" --data-urlencode "query=$1"; }
# value <expr>: the value of a query with exactly one result, else nothing.
value() { query "$1" | jq -r 'if .status == "success" and (.data.result | length) == 1 then .data.result[0].value[1] else empty end'; }
# wait_value <expr> <want>: up to 60 s for the query to give <want>; prints what it gives.
wait_value() {
  local v=""
  for _ in $(seq 1 120); do
    v=$(value "$1")
    [ "$v" = "$2" ] && break
    kill -0 "$prom_pid" 2>/dev/null || fail "Prometheus exited"
    sleep 0.5
  done
  echo "$v"
}

up=$(wait_value 'sum(up{job="cgio"})' 3)
[ "$up" = 3 ] || fail "Prometheus scrapes $up of the 3 exporters"
# Names come from the holders' environment (retried while a unit has none).
users=$(wait_value 'count(cgio_workload_info{workload="slurm", workload_id="4242", user="alice"})' 3)
[ "$users" = 3 ] || fail "cgio_workload_info names user alice on $users of 3 nodes"

# Job 4243 ends: once its final totals are in the rules, its cgroup goes; the
# raw series are gone after the 2 s retention, the recorded totals remain.
t=$(wait_value 'instance_workload:cgio_vfs_write_bytes:sum{workload_id="4243"}' 455)
[ "$t" = 455 ] || fail "job 4243's write bytes in the rules are $t, want 455"
kill "${holders[3]}" && wait "${holders[3]}" 2>/dev/null
rmdir "$base/node2/slurm/job_4243" || fail "rmdir job_4243"
for _ in $(seq 1 60); do
  [ "$(query 'cgio_vfs_write_bytes_total{workload_id="4243"}' | jq '.data.result | length')" = 0 ] && break
  sleep 0.5
done
[ "$(query 'cgio_vfs_write_bytes_total{workload_id="4243"}' | jq '.data.result | length')" = 0 ] ||
  fail "job 4243's series are still there 30 s after it ended (--cgroup.retain-ended=2s)"
sleep 3 # a few rule evaluations after job 4243 went, so [1m] rates have two points everywhere

checks=0 failures=0
check() { # check <what> <got> <want>
  checks=$((checks + 1))
  if [ "$2" = "$3" ]; then echo "ok $1: $2"; else echo "FAIL $1: got '$2' want '$3'"; failures=$((failures + 1)); fi
}

# 1. Every recording rule returns data, every rule (alerts too) evaluates
# without error.
rules=$(curl -s "$api/rules")
n_rules=$(jq '[.data.groups[].rules[]] | length' <<<"$rules")
bad=$(jq -r '.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.health) \(.lastError)"' <<<"$rules")
check "rules loaded by Prometheus" "$n_rules" "$(grep -c -E '^ +- (alert|expr):' "$work/cgio.rules.yml")"
check "rules evaluating with an error" "${bad:-none}" none
while read -r record; do
  n=$(query "$record" | jq '.data.result | length')
  check "recording rule $record returns data" "$([ "${n:-0}" -gt 0 ] && echo yes || echo "no ($n series)")" yes
done < <(jq -r '.data.groups[].rules[] | select(.type == "recording") | .name' <<<"$rules")

# 2. Every dashboard query, with the variables as Grafana would fill them
# ("All" is .+), parses and returns data.
vars=(--var __rate_interval=1m --var __range=1h --var job=.+ --var instance=.+ --var topn=50
  --var workload=slurm --var workload_id=4242)
exprs=$(/usr/bin/python3 "$src/tests/dashboards/lint_dashboards.py" --exprs "$src"/dashboards/cgio-*.json "${vars[@]}") ||
  fail "listing the dashboards' queries"
while IFS=$'\t' read -r file title ref expr; do
  answer=$(query "$expr")
  status=$(jq -r '.status' <<<"$answer")
  n=$(jq '.data.result | length' <<<"$answer")
  if [ "$status" != success ]; then
    check "$(basename "$file") '$title' $ref parses" "$(jq -r '.error' <<<"$answer")" success
  else
    check "$(basename "$file") '$title' $ref returns data" "$([ "$n" -gt 0 ] && echo yes || echo no)" yes
  fi
done <<<"$exprs"

# 3. Job totals, from the rules and from the Job dashboard's panels, equal
# the workload's bytes and calls: 1 + 2 + 3 rw runs, one TCP transfer.
declare -A want=(
  [vfs_read_bytes]=2730 [vfs_write_bytes]=2730 [vfs_reads]=36 [vfs_writes]=30 [vfs_opens]=6
  [vfs_metadata_ops]=12 [vfs_errors]=0
)
for q in "${!want[@]}"; do
  check "workload:cgio_$q:sum of job 4242" "$(value "workload:cgio_$q:sum{workload=\"slurm\", workload_id=\"4242\"}")" "${want[$q]}"
done
for q in net_sent_bytes net_received_bytes; do
  check "workload:cgio_$q:sum of job 4242 (tcp, ipv4)" \
    "$(value "workload:cgio_$q:sum{workload=\"slurm\", workload_id=\"4242\", protocol=\"tcp\", family=\"ipv4\"}")" 10000
done
for q in net_sends net_receives; do
  check "workload:cgio_$q:sum of job 4242 (tcp, ipv4)" \
    "$(value "workload:cgio_$q:sum{workload=\"slurm\", workload_id=\"4242\", protocol=\"tcp\", family=\"ipv4\"}")" 4
done
declare -A panel=(
  [Read]=2730 [Written]=2730 ["Read calls"]=36 ["Write calls"]=30 [Opens]=6 ["Metadata operations"]=12
  [Sent]=10000 [Received]=10000
)
for title in "${!panel[@]}"; do
  expr=$(awk -F'\t' -v t="$title" '$1 ~ /cgio-job.json$/ && $2 == t { print $4 }' <<<"$exprs")
  check "Job dashboard '$title' of job 4242" "$(value "$expr")" "${panel[$title]}"
done
# Per node, in the Job dashboard's "Per node" table (query A: read bytes).
expr=$(awk -F'\t' '$1 ~ /cgio-job.json$/ && $2 == "Per node" && $3 == "A" { print $4 }' <<<"$exprs")
per_node=$(query "$expr" | jq -r '[.data.result[] | .value[1]] | sort_by(tonumber) | join(",")')
check "Job dashboard 'Per node' read bytes of job 4242" "$per_node" "455,910,1365"
# The ended job, from the rules after its own series are gone.
vars_4243=("${vars[@]/workload_id=4242/workload_id=4243}")
expr=$(/usr/bin/python3 "$src/tests/dashboards/lint_dashboards.py" --exprs "$src/dashboards/cgio-job.json" "${vars_4243[@]}" |
  awk -F'\t' '$2 == "Written" { print $4 }')
check "Job dashboard 'Written' of job 4243, ended" "$(value "$expr")" 455
check "user:cgio_vfs_write_bytes:rate5m names alice" \
  "$(query 'user:cgio_vfs_write_bytes:rate5m' | jq -r '[.data.result[].metric.user] | join(",")')" alice

echo "$checks checks, $failures failed"
[ "$failures" = 0 ] || fail "$failures of $checks checks failed"
echo "ok: 3 exporters, $n_rules rules, $(wc -l <<<"$exprs") dashboard queries evaluated by Prometheus; job totals exact"
