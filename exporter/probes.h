// Real probing: whether this kernel lets a trivial program of a probe type
// load and attach at a given hook, the way libbpf-tools' fentry_can_attach
// does. A BTF prototype can be right and the kernel can still refuse
// (trampolines forbidden, kprobes not built in, a notrace function).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "bpf_handles.h"
#include "result.h"
#include "tracefs.h"

struct btf;

namespace cgio {

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

 private:
  Result<void> cached(const std::string& key, const std::function<Result<void>()>& probe);

  const struct btf* kernel_btf();

  BtfPtr btf_;
  bool btf_loaded_ = false;
  Tracefs& tracefs_;
  std::mutex mutex_;
  std::map<std::string, std::string> results_;  // key -> "" (ok) or the error
};

}  // namespace cgio
