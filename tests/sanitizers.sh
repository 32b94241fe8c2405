#!/bin/bash
# The unit tier and a short live run (live.counts, live.lifecycle) built
# with AddressSanitizer (and its leak checker) and UndefinedBehaviorSanitizer,
# warnings as errors, in build-sanitize. Every finding stops the program
# that made it (halt_on_error, -fno-sanitize-recover=all) and fails this
# script. The live tests start the exporter as a child process: it inherits
# the options below through the environment, and writes its reports, like
# every sanitized program here, into build-sanitize/sanitizer-reports, which
# must stay empty (a child's report would otherwise pass unseen when its
# test only scrapes it). Run as root after tests/run.sh (or
# packaging/install-deps.sh --test --bench). CI runs it after tests/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
build=build-sanitize
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
  -DCGIO_SANITIZE=address,undefined -DCGIO_WERROR=ON
# Only what the two tiers run (the exporter and the trigger come with the
# live tests), the fuzz targets' corpus replays (unit.fuzz_replay_*), not
# the benchmarks: CI time.
cmake --build "$build" -j"$(nproc)" --target cgio_unit_tests cgio_live_tests cgio_fuzz

reports="$PWD/$build/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
chmod 1777 "$reports"  # tests also run code as nobody
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"

rc=0
cd "$build"
ctest -L unit --output-on-failure -j"$(nproc)" || rc=$?
CGIO_REQUIRE_ROOT_TESTS="${CGIO_REQUIRE_ROOT_TESTS:-1}" \
  ctest -R '^live\.(counts|lifecycle)$' --output-on-failure || rc=$?

shopt -s nullglob
found=("$reports"/*)
if [ "${#found[@]}" -gt 0 ]; then
  echo "sanitizers.sh: ${#found[@]} sanitizer report(s):" >&2
  for f in "${found[@]}"; do
    echo "=== $f" >&2
    cat "$f" >&2
  done
  rc=1
fi
echo "sanitizers.sh: $(( $(date +%s) - start )) s, $([ "$rc" = 0 ] && echo passed || echo FAILED)"
exit "$rc"
