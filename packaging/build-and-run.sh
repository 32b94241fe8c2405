#!/bin/bash
# Quick start: install the dependencies, build, and run cgio_exporter in the
# foreground on :10120. Extra arguments go to the exporter. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF
cmake --build build -j"$(nproc)"
exec build/exporter/cgio_exporter "$@"
