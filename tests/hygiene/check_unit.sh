#!/bin/bash
# The shipped systemd unit: `systemd-analyze verify` finds nothing wrong
# (with ExecStart pointed at the built binary), and `systemd-analyze
# security --offline` rates its exposure at most MAX (lower is tighter; a
# root service needing CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN in its bounding set
# cannot reach the 1-2 of services that need none).
# With a drop-in, the unit as that drop-in changes it is checked.
#   check_unit.sh <unit file> <cgio_exporter> <max exposure, e.g. 3.5> [drop-in]
set -euo pipefail
unit=$1 exporter=$2 max=$3 dropin=${4:-}
command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze not found (package systemd)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$exporter|" "$unit" >"$work/cgio-exporter.service"
# A drop-in's [Service] lines apply after the unit's: appended, they do the same.
[ -z "$dropin" ] || cat "$dropin" >>"$work/cgio-exporter.service"
if ! systemd-analyze verify "$work/cgio-exporter.service" >"$work/verify" 2>&1; then
  cat "$work/verify"
  echo "FAIL: systemd-analyze verify"
  exit 1
fi
if [ -s "$work/verify" ]; then
  cat "$work/verify"
  echo "FAIL: systemd-analyze verify printed warnings"
  exit 1
fi
systemd-analyze security --offline=true "$work/cgio-exporter.service" >"$work/security" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$work/security")
[ -n "$score" ] || { cat "$work/security"; echo "FAIL: no exposure level"; exit 1; }
echo "exposure level $score (at most $max)"
awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }' || { grep '✗' "$work/security"; echo "FAIL"; exit 1; }
echo ok
