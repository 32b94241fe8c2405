// What the exporter knows about the running kernel: its release, its BTF,
// which BPF helpers it offers and whether a probe type really attaches.
// Everything the planner may ask goes through KernelFacts, so tests feed
// fixtures (a BTF built in memory, a version, simulated probe results).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/btf_prototypes.h"
#include "kernel/probe_type.h"
#include "util/result.h"

namespace cgio {

struct KernelVersion {
  unsigned major = 0, minor = 0, patch = 0;
  auto operator<=>(const KernelVersion&) const = default;
  std::string str() const;
  bool known() const { return major != 0; }
};

// "6.18.44-fc-v769" -> 6.18.44. Nullopt when there is no leading x.y.
std::optional<KernelVersion> parse_kernel_release(std::string_view release);

struct KernelFacts {
  std::string release;
  KernelVersion version;
  const KernelBtf* btf = nullptr;  // null when the kernel has no BTF
  std::string btf_source;          // where the BTF came from, for messages
  // Real probing: loads and attaches a trivial program of `type` at `target`
  // (a function, "syscalls/<event>" or "btf:<event>"). Empty: plan from BTF
  // and version only, loading nothing (--print-plan, unit tests).
  std::function<Result<void>(ProbeType type, std::string_view target)> probe;

  bool btf_has(std::string_view name, int btf_kind) const;
};

// uname and the kernel BTF (`btf_path`, or /sys/kernel/btf/vmlinux and the
// loaded modules' BTF when empty). probe and has_helper are left to the
// caller.
struct RunningKernel {
  std::string release;
  KernelVersion version;
  std::optional<KernelBtf> btf;
  std::string btf_error;  // why there is no BTF
  std::string btf_source;
};
Result<RunningKernel> inspect_running_kernel(const std::string& btf_path);

}  // namespace cgio
