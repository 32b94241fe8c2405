#!/bin/bash
# Builds the Debian package from the checkout with Debian's own tooling
# (dpkg-buildpackage, debhelper):
#   packaging/build-deb.sh [--out DIR]      (default DIR: build-deb/)
# The committed tree (git archive HEAD, so nothing untracked or modified goes
# in; a dirty tree is a warning) is built in a temporary directory with
# packaging/debian as its debian/. Prints the path of the .deb. Needs the
# build dependencies (packaging/install-deps.sh --package installs them).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/build-deb
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    *) echo "usage: $0 [--out DIR]" >&2; exit 2 ;;
  esac
done
for tool in git dpkg-buildpackage dh help2man; do
  command -v "$tool" >/dev/null || {
    echo "build-deb.sh: $tool not found; run packaging/install-deps.sh --package" >&2; exit 1; }
done
cd "$here"
revision=$(git rev-parse --short=12 HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "build-deb.sh: warning: the tree has uncommitted changes; the package is built from HEAD ($revision)" >&2
fi
version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/cgio-$version
mkdir -p "$src"
git archive --format=tar HEAD | tar -x -C "$src"
cp -a "$src/packaging/debian" "$src/debian"
# The package's date is the commit's, so the same commit builds the same files.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
export SOURCE_DATE_EPOCH
(cd "$src" && CGIO_REVISION=$revision dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  echo "build-deb.sh: dpkg-buildpackage failed (the last lines of its log are above)" >&2
  exit 1
}
mkdir -p "$out"
arch=$(dpkg --print-architecture)
deb=cgio-exporter_${version}_${arch}.deb
cp "$work/$deb" "$work"/cgio_"${version}"_"${arch}".{buildinfo,changes} "$out/"
cp "$work/build.log" "$out/build.log"
echo "$out/$deb"
