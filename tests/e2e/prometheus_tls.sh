#!/bin/bash
# End-to-end: a real Prometheus scrapes cgio over TLS with basic auth on an
# IPv6 address, configured the way operators write it (a web config file
# for cgio, a scrape_config with scheme https, tls_config and basic_auth),
# and holds the exact counts of a fresh cgroup. Around it, with curl: no or
# wrong credentials get 401 with WWW-Authenticate, plain HTTP on the TLS
# port gets no HTTP answer, and a replaced certificate is served without a
# restart.
#   prometheus_tls.sh <cgio_exporter> <cgio_trigger>
set -u
exporter=$1 trigger=$2

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_require_root
prometheus=/var/cache/cgio/tools/prometheus
promtool=/var/cache/cgio/tools/promtool
[ -x "$prometheus" ] && [ -x "$promtool" ] || e2e_fatal "prometheus/promtool not found (packaging/install-deps.sh --test)"
command -v openssl >/dev/null && command -v htpasswd >/dev/null || e2e_fatal "openssl and htpasswd (apache2-utils) needed"
[ -e /proc/net/if_inet6 ] || e2e_fatal "this kernel has no IPv6"

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

# A CA and a server certificate for localhost, 127.0.0.1 and ::1.
cert() { # name subject
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
    -keyout "$work/$1.key" -out "$work/$1.csr" 2>/dev/null || fail "openssl req $1"
  openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n') -out "$work/$1.pem" 2>/dev/null ||
    fail "openssl x509 $1"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=cgio e2e CA" -days 2 \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null || fail "openssl CA"
cert server "cgio server"
cp "$work/server.pem" "$work/tls.pem" && cp "$work/server.key" "$work/tls.key"

password="scrape-$$-secret"
printf '%s' "$password" >"$work/password"
hash=$(htpasswd -nbBC 10 prometheus "$password" | cut -d: -f2)
cat >"$work/web.yml" <<YAML
tls_server_config:
  cert_file: tls.pem
  key_file: tls.key
basic_auth_users:
  prometheus: '$hash'
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
YAML
"$promtool" check web-config "$work/web.yml" >/dev/null || fail "promtool check web-config refuses the file"

e2e_start_exporter "$exporter" "$work/log" --web.listen-address="[::1]:0" --web.config.file="$work/web.yml"
port=$(sed -n 's/.*msg=ready address=[^ ]*\[::1\]:\([0-9]*\).*/\1/p' "$work/log")
[ -n "$port" ] || fail "no [::1] address in the ready line"
url="https://[::1]:$port/metrics"

code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$work/ca.pem" "$@"; }
[ "$(code "$url")" = 401 ] || fail "no credentials: want 401"
[ "$(code -u prometheus:wrong "$url")" = 401 ] || fail "wrong password: want 401"
curl -s -D - -o /dev/null --cacert "$work/ca.pem" "$url" | grep -qi '^WWW-Authenticate: Basic' ||
  fail "401 without WWW-Authenticate: Basic"
[ "$(code -u "prometheus:$password" "$url")" = 200 ] || fail "right password: want 200"
[ "$(code -u "prometheus:$password" "https://[::1]:$port/")" = 200 ] || fail "landing page with auth: want 200"
[ "$(code "https://[::1]:$port/")" = 401 ] || fail "landing page without auth: want 401"
curl -s -D - -o /dev/null --cacert "$work/ca.pem" -u "prometheus:$password" "$url" |
  grep -qi '^X-Content-Type-Options: nosniff' || fail "configured header missing"
plain=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://[::1]:$port/metrics")
[ "$plain" = 000 ] || fail "plain HTTP on the TLS port got HTTP status $plain"
echo "ok: 401 without or with wrong credentials (with WWW-Authenticate), 200 with them, no HTTP answer to plain HTTP"

# The certificate is re-read when its files change: a new one is served
# to the next connection, without a restart.
serial() { openssl s_client -connect "[::1]:$port" -CAfile "$work/ca.pem" </dev/null 2>/dev/null |
  openssl x509 -noout -serial 2>/dev/null; }
before=$(serial)
cert renewed "cgio server"
cp "$work/renewed.key" "$work/tls.key.new" && cp "$work/renewed.pem" "$work/tls.pem.new"
mv "$work/tls.key.new" "$work/tls.key" && mv "$work/tls.pem.new" "$work/tls.pem"
after=$(serial)
want=$(openssl x509 -noout -serial -in "$work/renewed.pem")
[ -n "$before" ] && [ "$after" = "$want" ] && [ "$before" != "$after" ] ||
  fail "certificate not reloaded (before $before, after $after, want $want)"
echo "ok: a replaced certificate is served to new connections ($before -> $after)"

root=$(findmnt -n -o TARGET -t cgroup2 | head -1)
name=cgio-e2e-tls-$$
cg="$root/$name"
mkdir "$cg"
mkdir -p "$work/fs" && mount -t tmpfs cgio-e2e "$work/fs"
"$trigger" "$cg" rw "$work/fs" || fail "trigger"

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
    scheme: https
    tls_config:
      ca_file: $work/ca.pem
    basic_auth:
      username: prometheus
      password_file: $work/password
    static_configs:
      - targets: ['[::1]:$port']
YAML
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prom.log" 2>&1 &
prom_pid=$!
api="http://127.0.0.1:$prom_port/api/v1/query"
query() {
  curl -sf --get "$api" --data-urlencode "query=$1" |
    sed -n 's/.*"result":\[{"metric":{[^}]*},"value":\[[0-9.]*,"\([^"]*\)"\]}\].*/\1/p'
}
got=""
for _ in $(seq 1 120); do
  got=$(query "cgio_vfs_write_bytes_total{cgroup=\"/$name\"}")
  [ "$got" = 455 ] && break
  kill -0 "$prom_pid" 2>/dev/null || fail "Prometheus exited"
  sleep 0.5
done
[ "$(query 'up{job="cgio"}')" = 1 ] || fail "up{job=\"cgio\"} is not 1"
[ "$got" = 455 ] || fail "cgio_vfs_write_bytes_total of the cgroup is '$got' in Prometheus, want 455"
reads=$(query "cgio_vfs_read_bytes_total{cgroup=\"/$name\"}")
[ "$reads" = 455 ] || fail "cgio_vfs_read_bytes_total is '$reads', want 455"
echo "ok: Prometheus scrapes https://[::1]:$port with basic auth (up=1) and holds the exact counts (455 B written, 455 read)"
echo PASS
