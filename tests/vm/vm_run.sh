#!/bin/bash
# One run of the vm tier: builds an initramfs holding busybox, tests/vm/init,
# the exporter, the trigger and the live-test binary (with every library they
# load), boots Debian 12's 6.1 cloud kernel on it under qemu (TCG), and turns
# the serial console's CGIO-VM-RESULT line into an exit status.
#
#   vm_run.sh --workdir DIR --exporter BIN --trigger BIN --tests BIN
#             [--only PATTERNS] [--exclude PATTERNS] [NAME=VALUE...]
#
# --only runs just these live tests, --exclude leaves some out (gtest patterns
# separated by ':'); each run that needs them says why in tests/vm/CMakeLists.txt.
# NAME=VALUE pairs are exported inside the VM before the tests run (the
# CGIO_TEST_* knobs of tests/live/live_support.h). Host environment:
#   CGIO_VM_KERNEL_DIR     unpacked linux-image package (default
#                          /var/cache/cgio/kernel/current, see packaging/install-deps.sh)
#   CGIO_VM_TIMEOUT        seconds the VM may run before it counts as hung (default 420)
#   CGIO_VM_GTEST_FILTER   run only these live tests (for debugging a run)
#   CGIO_REQUIRE_ROOT_TESTS=1  missing qemu or kernel is a failure, not a skip
# Exit status: 0 pass, 1 fail, 77 skip (ctest's SKIP_RETURN_CODE).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
workdir="" exporter="" trigger="" tests="" exclude="" only=""
vm_env=()
usage() {
  echo "usage: $0 --workdir DIR --exporter BIN --trigger BIN --tests BIN [--only PATTERNS] [--exclude PATTERNS]" \
    "[NAME=VALUE...]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --workdir) workdir=$2; shift 2 ;;
    --exporter) exporter=$2; shift 2 ;;
    --trigger) trigger=$2; shift 2 ;;
    --tests) tests=$2; shift 2 ;;
    --exclude) exclude=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    [A-Z]*=*) vm_env+=("$1"); shift ;;
    *) usage ;;
  esac
done
[ -n "$workdir" ] && [ -n "$exporter" ] && [ -n "$trigger" ] && [ -n "$tests" ] || usage

kernel_dir=${CGIO_VM_KERNEL_DIR:-/var/cache/cgio/kernel/current}
timeout_s=${CGIO_VM_TIMEOUT:-420}

# Same rule as the other root tiers: a tier that cannot run skips, unless
# CGIO_REQUIRE_ROOT_TESTS=1 says it must run.
unavailable() {
  if [ "${CGIO_REQUIRE_ROOT_TESTS:-}" = 1 ]; then
    echo "FAIL: vm tier cannot run: $* (packaging/install-deps.sh --test installs it)"
    exit 1
  fi
  echo "SKIP: vm tier cannot run: $* (packaging/install-deps.sh --test installs it)"
  exit 77
}
qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || unavailable "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" ls / >/dev/null 2>&1 || unavailable "no busybox at $busybox (Debian package busybox-static)"
command -v cpio >/dev/null || unavailable "cpio not found (Debian package cpio)"
vmlinuz=$(ls "$kernel_dir"/boot/vmlinuz-* 2>/dev/null | head -1 || true)
[ -n "$vmlinuz" ] || unavailable "no kernel in $kernel_dir/boot"
if ldd "$busybox" >/dev/null 2>&1; then
  unavailable "$busybox is dynamically linked; the initramfs needs busybox-static"
fi

# Everything the tests need from the kernel must be built in: the initramfs
# carries no modules. Fail loudly if a future cloud kernel moves one out.
config=$(ls "$kernel_dir"/boot/config-* 2>/dev/null | head -1 || true)
if [ -n "$config" ]; then
  for option in BPF_SYSCALL BPF_EVENTS DEBUG_INFO_BTF FTRACE_SYSCALLS CGROUPS CGROUP_BPF \
                DEVTMPFS TMPFS INET IPV6 UNIX SERIAL_8250_CONSOLE BLK_DEV_INITRD; do
    if ! grep -qx "CONFIG_$option=y" "$config"; then
      echo "FAIL: $(basename "$vmlinuz") does not have CONFIG_$option built in;" \
           "the vm harness must load it as a module"
      exit 1
    fi
  done
fi

rm -rf "$workdir"
mkdir -p "$workdir"
root="$workdir/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,opt/cgio}
chmod 0755 "$root"
chmod 1777 "$root/tmp"

install -m 0755 "$busybox" "$root/bin/busybox"
install -m 0755 "$here/init" "$root/init"
# Debug info is not needed in the VM and would double the archive.
for bin in "$exporter" "$trigger" "$tests"; do
  strip --strip-debug -o "$root/opt/cgio/$(basename "$bin")" "$bin"
  chmod 0755 "$root/opt/cgio/$(basename "$bin")"
done
# setpriv (util-linux): a live test runs the exporter as nobody with ambient
# capabilities, as the README tells operators to.
setpriv=$(command -v setpriv) || unavailable "setpriv not found (Debian package util-linux)"
install -m 0755 "$setpriv" "$root/usr/bin/setpriv"
# Libraries and the loader where ldd finds them, symlinks followed.
for lib in $(ldd "$exporter" "$trigger" "$tests" "$setpriv" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

# A test drops to `nobody` to check the missing-capability message.
# The mmap live tests need a filesystem with writeback (ext4 on a loop
# device); loop is a module in Debian's kernels: init loads it if it is here.
loop_ko=$(find "$kernel_dir/lib/modules" -name loop.ko 2>/dev/null | head -1 || true)
if [ -n "$loop_ko" ]; then
  mkdir -p "$root/lib/modules"
  install -m 0644 "$loop_ko" "$root/lib/modules/loop.ko"
fi

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files\n' > "$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' > "$root/etc/hosts"

filter=${CGIO_VM_GTEST_FILTER:-$only}
if [ -n "$exclude" ]; then
  case "$filter" in
    *-*) ;;  # already has a negative part: the caller decides
    *) filter="${filter:-*}-$exclude" ;;
  esac
fi

quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
  echo "export CGIO_EXPORTER_BIN=/opt/cgio/$(basename "$exporter")"
  echo "export CGIO_TRIGGER_BIN=/opt/cgio/$(basename "$trigger")"
  echo "export CGIO_REQUIRE_ROOT_TESTS=1"
  echo "export CGIO_VM_GTEST_FILTER=$(quote "$filter")"
  for kv in "${vm_env[@]}"; do
    echo "export ${kv%%=*}=$(quote "${kv#*=}")"
  done
} > "$root/etc/cgio-vm.env"

# Uncompressed: unpacking gzip under TCG costs more than reading the bytes.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$workdir/initramfs.cpio"

log="$workdir/serial.log"
echo "vm: $(basename "$vmlinuz"), initramfs $(( $(stat -c %s "$workdir/initramfs.cpio") / 1048576 )) MiB," \
     "timeout ${timeout_s}s; serial log in $log"
for kv in "${vm_env[@]}"; do echo "vm: $kv"; done
[ -n "$exclude" ] && echo "vm: NOT RUN in this run (see tests/vm/CMakeLists.txt): $exclude"
start=$(date +%s)
set +e
# Nested KVM hangs the guest on our machines: software emulation only.
timeout --kill-after=10 "$timeout_s" "$qemu" \
  -accel tcg -cpu max -smp 2 -m 2048 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$workdir/initramfs.cpio" \
  -append "console=ttyS0 quiet panic=-1 oops=panic" \
  < /dev/null > "$log" 2>&1
qemu_rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
# Without carriage returns and the firmware's terminal escapes.
tr -d '\r' < "$log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' > "$log.txt"

verdict=$(sed -n 's/^CGIO-VM-RESULT: //p' "$log.txt" | tail -1)
if [ -z "$verdict" ]; then
  if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then why="the VM did not finish within ${timeout_s}s"
  else why="qemu exited with status $qemu_rc"; fi
  echo "FAIL: no CGIO-VM-RESULT line on the serial console ($why, after ${elapsed}s); last 60 lines:"
  tail -n 60 "$log.txt"
  exit 1
fi
cat "$log.txt"
echo "vm: VM ran ${elapsed}s (boot, tests, poweroff); result: $verdict"
[ -n "$exclude" ] && echo "vm: NOT RUN in this run (see tests/vm/CMakeLists.txt): $exclude"
case "$verdict" in
  PASS) exit 0 ;;
  *) echo "FAIL: the live tests in the VM: ${verdict#FAIL }"; exit 1 ;;
esac
