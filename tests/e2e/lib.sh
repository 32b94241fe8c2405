# shellcheck shell=bash
# What the e2e scripts share (source this file): the exporter started as a
# site starts it, scrapes, sums of series by labels, and checks that print
# `ok|FAIL <what>: <counter> cgio=<n> want=<m>` and are counted.
#
#   e2e_require_root            exits 77 (skip) or 1 (CGIO_REQUIRE_ROOT_TESTS=1)
#   e2e_start_exporter <bin> <log> [flags...]   sets e2e_pid and e2e_port
#   e2e_restart_exporter <signal>              same flags, pins and port
#   e2e_stop_exporter                           and unpins
#   e2e_scrape <file>
#   e2e_sum <file> <metric> [label=value ...]   sum of the metric's series
#                                               carrying every label (0: none)
#   e2e_check <what> <counter> <cgio> <want>    equality
#   e2e_check_below <what> <counter> <cgio> <bound>   cgio < bound
#   e2e_failures                                how many checks failed
#   e2e_fatal <message>                         prints the exporter's log tail, exits 1

e2e_failed=0
e2e_pid=""
e2e_port=""
e2e_log=""
e2e_pins=()
e2e_args=()
e2e_bin=""

e2e_require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    if [ "${CGIO_REQUIRE_ROOT_TESTS:-}" = 1 ]; then echo "FAIL: e2e needs root"; exit 1; fi
    echo "SKIP: e2e needs root"
    exit 77
  fi
}

e2e_fatal() {
  echo "FAIL: $*"
  if [ -n "$e2e_log" ] && [ -r "$e2e_log" ]; then
    echo "--- cgio_exporter log"
    tail -20 "$e2e_log"
  fi
  e2e_stop_exporter
  exit 1
}

e2e_start_exporter() {
  local bin=$1
  e2e_log=$2
  shift 2
  # Pinned as a site's (the default), into a directory of this script's,
  # removed at stop so that no program stays attached after the test.
  e2e_bin=$bin
  e2e_pins=(--bpf.pin-path=/sys/fs/bpf/cgio-e2e-$$ --bpf.state-file=/tmp/cgio-e2e-$$.state)
  e2e_args=("$@")
  "$bin" --web.listen-address=127.0.0.1:0 "${e2e_pins[@]}" "$@" 2>"$e2e_log" &
  e2e_pid=$!
  e2e_port=""
  local _
  for _ in $(seq 1 300); do
    e2e_port=$(sed -n 's/.*msg=ready .*port=\([0-9]*\).*/\1/p' "$e2e_log")
    [ -n "$e2e_port" ] && return 0
    kill -0 "$e2e_pid" 2>/dev/null || e2e_fatal "exporter exited"
    sleep 0.1
  done
  e2e_fatal "exporter not ready"
}

# e2e_restart_exporter <signal>: stops the exporter with <signal> (TERM,
# KILL) and starts it again with the same flags, pins and port, as a
# service manager would; its log goes on in the same file.
e2e_restart_exporter() {
  local port=$e2e_port log=$e2e_log _
  kill -s "$1" "$e2e_pid" 2>/dev/null
  wait "$e2e_pid" 2>/dev/null
  echo "--- restarted after SIG$1" >>"$log"
  "$e2e_bin" --web.listen-address=127.0.0.1:"$port" "${e2e_pins[@]}" "${e2e_args[@]}" 2>>"$log" &
  e2e_pid=$!
  for _ in $(seq 1 300); do
    [ "$(grep -c 'msg=ready' "$log")" -gt "$(grep -c -- '--- restarted' "$log")" ] && return 0
    kill -0 "$e2e_pid" 2>/dev/null || e2e_fatal "exporter exited after the restart"
    sleep 0.1
  done
  e2e_fatal "exporter not ready after the restart"
}

e2e_stop_exporter() {
  if [ -n "$e2e_pid" ]; then
    kill "$e2e_pid" 2>/dev/null && wait "$e2e_pid" 2>/dev/null
    e2e_pid=""
  fi
  if [ "${#e2e_pins[@]}" -gt 0 ]; then
    "$e2e_bin" --bpf.unpin "${e2e_pins[@]}" >/dev/null || echo "WARN: could not unpin ${e2e_pins[*]}"
    e2e_pins=()
  fi
  return 0
}

e2e_scrape() {
  curl -sf "http://127.0.0.1:$e2e_port/metrics" -o "$1" || e2e_fatal "scrape failed"
}

e2e_sum() {
  local file=$1 metric=$2
  shift 2
  awk -v m="$metric{" -v want="$*" '
    BEGIN { n = split(want, w, " ") }
    index($0, m) == 1 {
      for (i = 1; i <= n; i++) {
        eq = index(w[i], "=")
        if (!index($0, substr(w[i], 1, eq - 1) "=\"" substr(w[i], eq + 1) "\"")) next
      }
      sum += $NF
    }
    END { printf "%d\n", sum }' "$file"
}

e2e_check() {
  if [ "$3" = "$4" ]; then
    echo "ok $1: $2 cgio=$3 want=$4"
  else
    echo "FAIL $1: $2 cgio=$3 want=$4"
    e2e_failed=$((e2e_failed + 1))
  fi
}

e2e_check_below() {
  if [ "$3" -lt "$4" ]; then
    echo "ok $1: $2 cgio=$3 below=$4"
  else
    echo "FAIL $1: $2 cgio=$3 below=$4"
    e2e_failed=$((e2e_failed + 1))
  fi
}

e2e_failures() { echo "$e2e_failed"; }
