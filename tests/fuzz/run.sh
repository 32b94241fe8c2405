#!/bin/bash
# Builds the libFuzzer targets of tests/fuzz with clang (address and
# undefined-behaviour sanitizers, in build-fuzz) and runs each for a while,
# starting from its committed seed corpus. Fails on any finding (a crash,
# a sanitizer report, a broken invariant, a leak, a timeout). Nothing is
# written into the repository: new corpus entries go to
# build-fuzz/corpus/<name>/, findings to build-fuzz/findings/<name>/.
#   tests/fuzz/run.sh [seconds per target] [target names...]
# Default: 10 s per target, every target (CI). A longer session, e.g. an
# hour on the journal: tests/fuzz/run.sh 3600 journal. To keep a finding as
# a regression input, copy it into tests/fuzz/corpus/<name>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
seconds=${1:-10}
shift || true
case "$seconds" in '' | *[!0-9]*) echo "run.sh: seconds per target must be a number: $seconds" >&2; exit 2 ;; esac
build=build-fuzz
# Without -Werror: under clang's -Wpedantic libbpf's LIBBPF_OPTS macro warns
# (GNU statement expression); the default build keeps warnings errors.
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCGIO_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCGIO_WERROR=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target cgio_fuzz
built=$(date +%s)

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for exe in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$exe" ] && targets+=("${exe##*/fuzz_}")
  done
fi
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
rc=0
for name in "${targets[@]}"; do
  exe="$build/tests/fuzz/fuzz_$name"
  seeds="tests/fuzz/corpus/$name"
  [ -x "$exe" ] && [ -d "$seeds" ] || { echo "run.sh: no target or corpus named $name" >&2; exit 2; }
  corpus="$build/corpus/$name" findings="$build/findings/$name"
  mkdir -p "$corpus" "$findings"
  # The first corpus directory receives new entries; the seeds are only read.
  if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$corpus" "$seeds" >"$build/findings/$name.log" 2>&1; then
    echo "run.sh: $name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/findings/$name.log" |
      grep -o '[0-9]*$') runs, $(ls "$corpus" | wc -l) corpus entries, no finding"
  else
    rc=1
    echo "run.sh: $name: FINDING, see $build/findings/$name.log and $findings/" >&2
    grep -E 'ERROR|fuzz invariant|SUMMARY|Test unit written' "$build/findings/$name.log" | head -5 >&2
  fi
done
end=$(date +%s)
echo "run.sh: build $((built - start)) s, fuzzing $((end - built)) s, $([ "$rc" = 0 ] && echo passed || echo FAILED)"
exit "$rc"
