#!/bin/bash
# Checks that every quoted include naming a role folder ("cgroups/tracker.h")
# names the file's own role or one it may use (its USES in the build, taken
# transitively). Reads the table exporter/CMakeLists.txt's cgio_role()
# writes: one line per role, "<role> <dir> <used;roles>".
#   check_layers.sh <layers.txt> <source root>
# Prints every violation as file:line and exits 1 if there is one.
set -euo pipefail
layers=$1
root=$2

declare -A dir_of uses_of
while read -r role dir uses; do
  [ -n "$role" ] || continue
  dir_of[$role]=$dir
  uses_of[$role]=${uses//;/ }
done <"$layers"
[ "${#dir_of[@]}" -gt 0 ] || { echo "check_layers: no roles in $layers" >&2; exit 2; }

# The roles `role` may include: itself and everything it uses, transitively.
allowed() {
  local -A seen=()
  local stack=("$1") r u
  while [ "${#stack[@]}" -gt 0 ]; do
    r=${stack[-1]}; unset 'stack[-1]'
    [ -n "${seen[$r]:-}" ] && continue
    seen[$r]=1
    for u in ${uses_of[$r]:-}; do stack+=("$u"); done
  done
  echo "${!seen[@]}"
}

# The role whose folder is the include's first path component, if any.
declare -A role_of_prefix
for role in "${!dir_of[@]}"; do role_of_prefix[$(basename "${dir_of[$role]}")]=$role; done

violations=0
checked=0
for role in "${!dir_of[@]}"; do
  ok=" $(allowed "$role") "
  while IFS= read -r -d '' file; do
    while IFS=: read -r line text; do
      inc=${text#*\"}; inc=${inc%%\"*}
      prefix=${inc%%/*}
      [ "$prefix" != "$inc" ] || continue
      target=${role_of_prefix[$prefix]:-}
      [ -n "$target" ] || continue
      checked=$((checked + 1))
      if [[ "$ok" != *" $target "* ]]; then
        echo "${file#"$root"/}:$line: role '$role' includes \"$inc\" of role '$target', which it does not use"
        violations=$((violations + 1))
      fi
    done < <(grep -n '^#include "' "$file" || true)
  done < <(find "$root/${dir_of[$role]}" -maxdepth 1 -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.h.in' \) -print0)
done
echo "check_layers: ${#dir_of[@]} roles, $checked role includes, $violations violations"
[ "$violations" -eq 0 ]
