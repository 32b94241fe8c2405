// The floor: what cgio's hooks cost with nothing in them. The hooks are
// derived from cgio's own plan (the one cgio_exporter --bpf.probe-type=<type>
// makes on this kernel) and the section names of the chosen programs in the
// embedded objects, so the floor follows the exporter when its catalogue
// changes. Each program gets an empty program of the same type at its hook.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/probes.h"
#include "kernel/tracefs.h"
#include "util/bpf_handles.h"
#include "util/result.h"

namespace cgio::bench {

struct Hook {
  std::string operation;  // e.g. "vfs_write", "cgroup_events"
  std::string program;    // cgio's program, e.g. "cgio_pwrite64"
  std::string section;    // its ELF section, e.g. "tracepoint/syscalls/sys_exit_pwrite64"
};

// The running kernel as the exporter sees it, with real probing.
class KernelView {
 public:
  static Result<std::unique_ptr<KernelView>> inspect();
  const KernelFacts& facts() const { return facts_; }
  Tracefs& tracefs() { return tracefs_; }
  // The kernel's own BTF, in which fexit and tp_btf targets are named.
  const struct btf* vmlinux_btf() const { return kernel_->btf ? kernel_->btf->vmlinux() : nullptr; }

 private:
  KernelView() : tracefs_("/proc"), prober_(tracefs_) {}
  std::optional<RunningKernel> kernel_;
  Tracefs tracefs_;
  AttachProber prober_;
  KernelFacts facts_;
};

// The hooks cgio_exporter attaches with probe type `type` forced (both
// collectors on, as shipped), plus its cgroup event programs (never forced).
// Operations the plan cannot count with `type` have no hooks; `uncounted`
// gets their names. An empty list means the type is unusable here.
Result<std::vector<Hook>> cgio_hooks(KernelView& kernel, ProbeType type, std::vector<std::string>* uncounted);

// Empty programs held attached at every hook, detached on destruction.
class Floor {
 public:
  static Result<Floor> attach(KernelView& kernel, const std::vector<Hook>& hooks);
  size_t size() const { return programs_.size(); }

 private:
  std::vector<TrivialProgram> programs_;
};

}  // namespace cgio::bench
