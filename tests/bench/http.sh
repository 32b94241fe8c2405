#!/bin/bash
# The HTTP layer under idle clients and load, for one or more exporter
# binaries side by side in one run (e.g. a build of main against this tree):
#   tests/bench/http.sh build/exporter/cgio_exporter [/path/to/other/cgio_exporter ...]
# For each binary: the time of one gzip scrape with 4 idle connections open,
# with 500 half-sent requests and 300 idle connections open (curl gives up
# at 30 s), and ab's throughput at 1 and 16 concurrent keep-alive scrapes.
# Prints a markdown table. Run as root (the exporter loads its programs).
set -u
[ "$(id -u)" = 0 ] || { echo "http.sh: run as root" >&2; exit 1; }
command -v ab >/dev/null || { echo "http.sh: ab not found (apache2-utils)" >&2; exit 1; }
ulimit -n 4096
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

scrape_ms() {
  local t
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 -H 'Accept-Encoding: gzip' "$1")
  if [ "${t%% *}" = 200 ]; then awk -v s="${t#* }" 'BEGIN { printf "%.1f\n", s * 1000 }'; else echo "failed (${t#* } s)"; fi
}

ab_rate() {
  # -s: a request ab waits for longer than 10 s fails the run (civetweb's
  # four workers held by keep-alive connections never answer the rest).
  timeout 120 ab -k -s 10 -n "$2" -c "$3" -H 'Accept-Encoding: gzip' "$1" 2>/dev/null |
    awk '/^Requests per second:/ { print $4 }'
}

echo "| exporter | scrape, 4 idle conns (ms) | scrape, 800 idle/half-sent (ms) | ab -c 1 (scrapes/s) | ab -c 16 (scrapes/s) |"
echo "|---|---|---|---|---|"
for bin in "$@"; do
  "$bin" --web.listen-address=127.0.0.1:0 --bpf.pin-path=none 2>"$work/log" &
  pid=$!
  port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*msg=ready .*port=\([0-9]*\).*/\1/p' "$work/log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "http.sh: $bin did not start" >&2; exit 1; }
  url="http://127.0.0.1:$port/metrics"
  scrape_ms "$url" >/dev/null
  c1=$(ab_rate "$url" 200 1)
  c16=$(ab_rate "$url" 400 16)
  fds=()
  for ((i = 0; i < 4; i++)); do exec {fd}<>"/dev/tcp/127.0.0.1/$port"; fds+=("$fd"); done
  idle=$(scrape_ms "$url")
  for ((i = 0; i < 800; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || break
    [ $((i % 8)) -lt 5 ] && printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n' >&"$fd" 2>/dev/null
    fds+=("$fd")
  done
  crowd=$(scrape_ms "$url")
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  kill "$pid"; wait "$pid" 2>/dev/null; pid=""
  echo "| $("$bin" --version | head -1) ($bin) | $idle | $crowd | ${c1:-failed} | ${c16:-failed} |"
done
