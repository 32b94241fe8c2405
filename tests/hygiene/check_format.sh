#!/bin/bash
# Fails when a tracked C or C++ source differs from what clang-format makes
# of it (.clang-format at the top for C++, bpf/.clang-format and
# tests/trigger/.clang-format for the kernel-style C).
#   check_format.sh <source root>       lists the files to reformat
#   check_format.sh <source root> --fix reformats them
set -euo pipefail
root=$1
cd "$root"
fmt=$(command -v clang-format || command -v clang-format-14 || true)
[ -n "$fmt" ] || { echo "check_format: clang-format not installed (packaging/install-deps.sh --test)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' ':!:tests/hygiene/fixture/*')
[ "${#files[@]}" -gt 0 ] || { echo "check_format: no sources found under $root" >&2; exit 2; }
if [ "${2:-}" = "--fix" ]; then
  "$fmt" -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! "$fmt" --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "needs clang-format: $f"
    bad=$((bad + 1))
  fi
done
echo "check_format: ${#files[@]} files, $bad to reformat (tests/hygiene/check_format.sh . --fix)"
[ "$bad" -eq 0 ]
