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
CGIO_REQUIRE_ROOT_TESTS="${CGIO_REQUIRE_ROOT_TESTS:-1}" ctest --output-on-failure "$@"
