#!/bin/bash
# The whole test suite: installs what it needs, builds, and runs every tier
# (unit, live, e2e, bench's smoke run) with ctest. Run as root: the live, e2e
# and bench tiers load BPF programs, and here a tier that cannot run fails
# instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh --test --bench
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON -DCGIO_WERROR=ON
cmake --build build -j"$(nproc)"
cd build
# Tests pin into directories of their own and unpin them; a test binary that
# crashed leaves its programs attached, counting into maps nobody reads.
unpin_leftovers() {
  local d
  for d in /sys/fs/bpf/cgio-test-* /sys/fs/bpf/cgio-e2e-*; do
    [ -d "$d" ] && exporter/cgio_exporter --bpf.unpin --bpf.pin-path="$d" --bpf.state-file=/nonexistent >/dev/null
  done
  return 0
}
unpin_leftovers
status=0
CGIO_REQUIRE_ROOT_TESTS="${CGIO_REQUIRE_ROOT_TESTS:-1}" ctest --output-on-failure "$@" || status=$?
unpin_leftovers
exit $status
