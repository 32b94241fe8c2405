#!/bin/bash
# Installs everything cgio needs from Debian 12's archive (nothing else is
# downloaded). Run as root.
#   packaging/install-deps.sh          build and run the exporter
#   packaging/install-deps.sh --test   also what the test suite needs
#   packaging/install-deps.sh --bench  also what the benchmarks need (bpftrace,
#                                      and GoogleTest to configure the tests tree)
#   packaging/install-deps.sh --package  also what packaging/build-deb.sh and
#                                      build-image.sh need (--test includes it)
# The options combine: tests/run.sh passes both, since ctest runs bench.smoke.
set -euo pipefail

want_tests=0
want_bench=0
want_package=0
for arg in "$@"; do
  case "$arg" in
    --test) want_tests=1 ;;
    --bench) want_bench=1 ;;
    --package) want_package=1 ;;
    *) echo "usage: $0 [--test] [--bench] [--package]" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
build=(
  build-essential cmake pkg-config git
  clang llvm bpftool                       # BPF objects and their skeletons
  libbpf-dev libelf-dev zlib1g-dev
  prometheus-cpp-dev                       # the exporter's own small metric families
  libboost-dev libssl-dev                  # the HTTP server: Boost.Beast/Asio, TLS with OpenSSL 3
  libsystemd-dev                           # socket activation and Type=notify readiness
  libcap-dev                               # capability names; dropping them after start-up
  libboost-regex-dev                       # --cgroup.workload-pattern (named groups)
  nlohmann-json3-dev                       # the accounting file's restart scan (JSON)
  libyaml-cpp-dev libcrypt-dev             # --web.config.file: YAML, bcrypt (crypt_r)
)
tests=(
  googletest libgtest-dev
  clang-format                             # unit.format
  libclang-rt-14-dev                       # tests/fuzz/run.sh: clang's libFuzzer and sanitizer runtimes
  curl util-linux iproute2                 # scrapes, findmnt/mountpoint, ss in scripts
  qemu-system-x86 busybox-static cpio      # the vm tier: Debian's 6.1 kernel under qemu
  liburing-dev libaio-dev                  # the trigger's io_uring and Linux AIO scenarios
  slurm-wlm munge                          # e2e.slurm: a one-node cluster on localhost (its own munge key)
  podman runc                              # e2e.containers: rootful podman with runc, cgroupfs manager
  systemd                                  # unit.systemd_unit: systemd-analyze verify and security (not started)
  apache2-utils                            # e2e.web_robustness: ab; e2e.prometheus_tls: htpasswd (bcrypt)
  openssl                                  # e2e.prometheus_tls: the test CA and certificates
  jsonnet python3                          # dashboards/: rendering (generate.sh), the lint, e2e.fleet
  fio nginx e2fsprogs strace jq            # e2e.real_tools: fio's engines on tmpfs and a loop-mounted
                                           # ext4, nginx sendfile, cp checked against strace, fio's JSON
                                           # (where an init system runs, Debian's nginx package also
                                           # starts a server on :80; the test runs its own)
)
package=(
  dpkg-dev debhelper help2man              # packaging/build-deb.sh: dpkg-buildpackage, dh, the man page
  lintian                                  # package.deb: the package is lintian clean
  mmdebstrap                               # package.deb, build-image.sh: Debian roots from the archive
  podman runc                              # build-image.sh: the image
)
bench=(
  googletest libgtest-dev                  # the tests tree, where the benchmarks live
  bpftrace                                 # the reference the overhead is compared with (0.17)
  liburing-dev libaio-dev                  # the tests tree needs them; the io_uring and libaio rows
  e2fsprogs                                # the mmap part's ext4 (page cache accounting tmpfs lacks)
)

apt-get update
packages=("${build[@]}")
[ "$want_tests" = 1 ] && packages+=("${tests[@]}" "${package[@]}")
[ "$want_package" = 1 ] && packages+=("${package[@]}")
[ "$want_bench" = 1 ] && packages+=("${bench[@]}")
apt-get install -y --no-install-recommends "${packages[@]}"

if [ "$want_tests" = 1 ]; then
  # promtool and the Prometheus server (the e2e tier) ship in Debian's
  # `prometheus` package, whose installation would also enable and start a
  # system-wide server. Unpack just the two binaries.
  tools=/var/cache/cgio/tools
  if [ ! -x "$tools/promtool" ] || [ ! -x "$tools/prometheus" ]; then
    rm -rf "$tools/deb"
    mkdir -p "$tools/deb"
    (cd "$tools/deb" && apt-get download prometheus)
    dpkg-deb -x "$tools"/deb/prometheus_*.deb "$tools/deb/root"
    install -m 0755 "$tools/deb/root/usr/bin/promtool" "$tools/promtool"
    install -m 0755 "$tools/deb/root/usr/bin/prometheus" "$tools/prometheus"
    rm -rf "$tools/deb"
  fi
  echo "install-deps.sh: promtool and prometheus in $tools"

  # The vm tier boots Debian 12's cloud kernel (6.1) under qemu. Unpack the
  # image package that linux-image-cloud-amd64 currently depends on (kernel
  # and modules) without installing it; `current` points at it.
  kernels=/var/cache/cgio/kernel
  kpkg=$(apt-cache depends linux-image-cloud-amd64 \
         | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -1)
  if [ -z "$kpkg" ]; then
    echo "install-deps.sh: cannot find the image package of linux-image-cloud-amd64" >&2
    exit 1
  fi
  if ! ls "$kernels/$kpkg"/boot/vmlinuz-* >/dev/null 2>&1; then
    rm -rf "$kernels/$kpkg" "$kernels/$kpkg.tmp" "$kernels/deb"
    mkdir -p "$kernels/deb"
    (cd "$kernels/deb" && apt-get download "$kpkg")
    dpkg-deb -x "$kernels"/deb/"$kpkg"_*.deb "$kernels/$kpkg.tmp"
    mv "$kernels/$kpkg.tmp" "$kernels/$kpkg"
    rm -rf "$kernels/deb"
  fi
  ln -sfn "$kpkg" "$kernels/current"
  echo "install-deps.sh: kernel $kpkg at $kernels/current"
fi
