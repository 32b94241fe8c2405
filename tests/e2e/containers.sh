#!/bin/bash
# End-to-end with real containers (issue 11): Debian's podman with runc and
# the cgroupfs manager (no systemd here), a busybox-static image built
# locally (tests/e2e/containers_lib.sh), cgio started with default flags
# before any container exists.
#   containers.sh <cgio_exporter>
#
# Two containers, one under podman's default parent (/libpod_parent) and one
# under a --cgroup-parent of the site's own, each held at a gate before and
# after writing and reading back a known number of bytes with dd: the
# difference between scrapes taken at the gates must be those bytes, exactly,
# under workload="podman" with the container's id; cgio_workload_info must
# name it; when it is gone, exactly one accounting record with the same
# totals and its name.
set -u
exporter=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/containers_lib.sh"
e2e_require_root
if ! why=$(podman_check); then
  [ "${CGIO_REQUIRE_ROOT_TESTS:-}" = 1 ] && e2e_fatal "cannot run containers: $why"
  echo "SKIP: $why"
  exit 77
fi

work=$(mktemp -d /tmp/cgio-e2e-containers.XXXXXX)
cleanup() {
  podman_cleanup
  e2e_stop_exporter
  rm -rf "$work"
}
trap cleanup EXIT

records=$work/accounting.jsonl
e2e_start_exporter "$exporter" "$work/log" --accounting.file="$records"
podman_image >/dev/null || e2e_fatal "cannot build the busybox image"

bytes=$((1048576 + 12345))
m() { e2e_sum "$1" "$2" workload=podman "workload_id=$3"; }
run_one() {
  local name=$1 parent=$2 id before after
  id=$(CGIO_PODMAN_RUN_EXTRA=${parent:+--cgroup-parent=$parent} podman_run_io "$name" "$bytes" gated) ||
    e2e_fatal "podman run $name"
  e2e_scrape "$work/$name.before.prom"
  podman_io_start "$name" || e2e_fatal "$name did not start its I/O"
  podman_io_wait_done "$name" || e2e_fatal "$name did not finish its I/O"
  e2e_scrape "$work/$name.after.prom"
  before=$work/$name.before.prom
  after=$work/$name.after.prom
  for counter in cgio_vfs_write_bytes_total cgio_vfs_read_bytes_total; do
    e2e_check "$name" "$counter" $(($(m "$after" $counter "$id") - $(m "$before" $counter "$id"))) "$bytes"
  done
  e2e_check "$name" "series under cgroup ${parent:-/libpod_parent}/libpod-<id>" \
    "$(grep -c "^cgio_vfs_write_bytes_total{cgroup=\"${parent:-/libpod_parent}/libpod-$id\",workload=\"podman\",workload_id=\"$id\"}" "$after")" 1
  e2e_check "$name" "cgio_workload_info name" \
    "$(sed -n "s/^cgio_workload_info{.*workload_id=\"$id\".*name=\"\([^\"]*\)\".*/\1/p" "$after")" "$name"
  podman_io_finish "$name" || e2e_fatal "$name did not exit cleanly"
  # runc removes the cgroups some 50-140 ms after the exit; then one record.
  local i
  for i in $(seq 1 50); do
    grep -q "\"workload_id\":\"$id\"" "$records" 2>/dev/null && break
    sleep 0.1
  done
  sleep 0.3
  e2e_scrape "$work/$name.ended.prom"
  e2e_check "$name" "accounting records" "$(grep -c "\"workload\":\"podman\",\"workload_id\":\"$id\"" "$records")" 1
  local rec
  rec=$(grep "\"workload_id\":\"$id\"" "$records" | head -1)
  e2e_check "$name" "record cgio_vfs_write_bytes_total" \
    "$(sed -n 's/.*"cgio_vfs_write_bytes_total":\([0-9]*\).*/\1/p' <<<"$rec")" \
    "$(m "$work/$name.ended.prom" cgio_vfs_write_bytes_total "$id")"
  e2e_check "$name" "record info.name" "$(sed -n 's/.*"info":{"name":"\([^"]*\)".*/\1/p' <<<"$rec")" "$name"
}
run_one "cgio-e2e-a-$$" ""
run_one "cgio-e2e-b-$$" "/cgio-e2e-parent-$$"

if [ "$(e2e_failures)" -ne 0 ]; then
  echo "--- cgio_exporter log"
  tail -20 "$work/log"
  echo "$(e2e_failures) check(s) failed"
  exit 1
fi
echo "all container checks passed"
