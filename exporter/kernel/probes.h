// Real probing: whether this kernel lets a trivial program of a probe type
// load and attach at a given hook, the way libbpf-tools' fentry_can_attach
// does. A BTF prototype can be right and the kernel can still refuse
// (trampolines forbidden, kprobes not built in, a notrace function).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/probe_type.h"
#include "kernel/tracefs.h"
#include "util/bpf_handles.h"
#include "util/result.h"

struct btf;

namespace cgio {

// A two-instruction program (r0 = 0; exit) loaded and attached at one hook,
// detached and unloaded when destroyed. The prober attaches one for a
// moment to learn whether the kernel allows a probe type at a hook; the
// benchmark holds them open to measure what the hooks alone cost, the floor
// under cgio's own programs.
class TrivialProgram {
 public:
  // fexit on `function`; `kernel_btf` is the running kernel's own BTF, in
  // which the target is named by its id.
  static Result<TrivialProgram> fexit(const struct btf* kernel_btf, const std::string& function);
  // kprobe (`entry`) and/or kretprobe (`ret`) on `function`, one program.
  static Result<TrivialProgram> kprobe(const std::string& function, bool entry, bool ret);
  // A perf-event tracepoint, e.g. "syscalls/sys_exit_read".
  static Result<TrivialProgram> tracepoint(Tracefs& tracefs, const std::string& category_event);
  // A BTF tracepoint (tp_btf), e.g. "sock_send_length".
  static Result<TrivialProgram> btf_tracepoint(const struct btf* kernel_btf, const std::string& event);

 private:
  TrivialProgram() = default;

  // Attachments (links or perf events) are declared after the program so
  // they are closed first.
  Fd prog_;
  std::vector<Fd> attachments_;
};

class AttachProber {
 public:
  // Trivial fentry and BTF-tracepoint programs name their target by its id
  // in the running kernel's own BTF (/sys/kernel/btf/vmlinux), which is
  // loaded on first use: --bpf.btf-path only serves prototypes and CO-RE.
  explicit AttachProber(Tracefs& tracefs) : tracefs_(tracefs) {}

  // fexit on kernel function `function`.
  Result<void> fentry(const std::string& function);
  // kprobe and kretprobe on `function`.
  Result<void> kprobe(const std::string& function);
  // A perf-event tracepoint, e.g. "syscalls/sys_exit_read".
  Result<void> tracepoint(const std::string& category_event);
  // A BTF tracepoint (tp_btf), e.g. "sock_send_length".
  Result<void> btf_tracepoint(const std::string& event);
  // The probe of `type` at a catalogue target: a function, "syscalls/<event>"
  // or "btf:<event>" (KernelFacts::probe).
  Result<void> probe(ProbeType type, std::string_view target);

 private:
  Result<void> cached(const std::string& key, const std::function<Result<void>()>& probe);

  const struct btf* kernel_btf();

  BtfPtr btf_;
  bool btf_loaded_ = false;
  Tracefs& tracefs_;
  std::mutex mutex_;
  std::map<std::string, Result<void>> results_;  // key -> what the trial gave
};

}  // namespace cgio
