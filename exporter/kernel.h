// What the exporter knows about the running kernel: its release, its BTF
// and which BPF helpers it offers. Everything a program's availability
// check may ask goes through KernelFacts, so tests can feed fixtures.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "bpf_handles.h"
#include "result.h"

namespace cgio {

struct KernelVersion {
  unsigned major = 0, minor = 0, patch = 0;
  auto operator<=>(const KernelVersion&) const = default;
  std::string str() const;
};

// "6.18.44-fc-v769" -> 6.18.44. Nullopt when there is no leading x.y.
std::optional<KernelVersion> parse_kernel_release(std::string_view release);

struct KernelFacts {
  std::string release;
  KernelVersion version;
  const struct btf* vmlinux_btf = nullptr;  // may be null when the kernel has no BTF
  // Whether a program of `prog_type` may call helper `helper_id` (real probe).
  std::function<bool(int prog_type, int helper_id)> has_helper;

  bool btf_has(std::string_view name, int btf_kind) const;
};

// The running kernel: uname, /sys/kernel/btf/vmlinux, libbpf helper probes.
struct RunningKernel {
  KernelFacts facts;
  BtfPtr btf;  // owns facts.vmlinux_btf
};
Result<RunningKernel> probe_running_kernel();

}  // namespace cgio
