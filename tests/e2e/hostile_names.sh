#!/bin/bash
# End-to-end: cgroups named with quotes, backslashes, a newline, `{}=,`,
# bytes that are not UTF-8, a 255-byte name and 30 levels of nesting, each
# doing I/O known to the byte while the exporter (default flags) runs.
# promtool must accept the whole scrape, and each cgroup's series (found by
# its escaped label, web/label_value.h) must hold exactly its bytes.
#   hostile_names.sh <cgio_exporter> <cgio_trigger>
set -u
exporter=$1 trigger=$2

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_require_root
promtool=/var/cache/cgio/tools/promtool
[ -x "$promtool" ] || e2e_fatal "promtool not found (packaging/install-deps.sh --test)"

work=$(mktemp -d)
root=$(findmnt -n -o TARGET -t cgroup2 | head -1)
base="$root/cgio-e2e-names-$$"
cleanup() {
  e2e_stop_exporter
  # Deepest first.
  [ -d "$base" ] && find "$base" -depth -type d -exec rmdir {} + 2>/dev/null
  mountpoint -q "$work/fs" && umount "$work/fs"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/fs" && mount -t tmpfs cgio-e2e "$work/fs"

e2e_start_exporter "$exporter" "$work/log"
mkdir "$base" || e2e_fatal "cannot make $base"

# name (bytes) | the label value as the exposition text must show it
names=() labels=()
add() { names+=("$1"); labels+=("$2"); }
add 'q"uote' 'q\"uote'
add 'back\slash' 'back\\slash'
add $'new\nline' 'new\nline'
add '{}=,' '{}=,'
add $'bad\xff\xfe' 'bad\\xff\\xfe'
add $'lead\xc3(' 'lead\\xc3('
add $'x\x80\\y' 'x\\x80\\x5cy'
add "$(printf 'n%.0s' $(seq 1 255))" "$(printf 'n%.0s' $(seq 1 255))"
deep=""
for i in $(seq 1 30); do deep="$deep/d$i"; done
add "${deep#/}" "${deep#/}"

prefix="/cgio-e2e-names-$$/"
for i in "${!names[@]}"; do
  cg="$base/${names[$i]}"
  # The kernel refuses some names (a newline: EINVAL); those cannot exist to be exported.
  mkdir -p "$cg" 2>/dev/null || { echo "note: the kernel refuses name #$i"; unset "names[$i]" "labels[$i]"; continue; }
  "$trigger" "$cg" rw "$work/fs" || e2e_fatal "trigger in name #$i"
done

sleep 1
e2e_scrape "$work/m"
if ! "$promtool" check metrics <"$work/m" >"$work/promtool" 2>&1; then
  cat "$work/promtool"
  e2e_fatal "promtool refuses the scrape"
fi
echo "ok promtool: accepts the scrape ($(wc -l <"$work/m") lines)"
for i in "${!names[@]}"; do
  want_label="cgroup=\"$prefix${labels[$i]}\""
  got=$(grep -F "cgio_vfs_write_bytes_total{$want_label" "$work/m" | awk '{ s += $NF } END { print s + 0 }')
  e2e_check "name$i" "write bytes of ${want_label:0:60}" "$got" 455
done
[ "$(e2e_failures)" = 0 ] || exit 1
echo PASS
