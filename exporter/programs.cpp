#include "programs.h"

#include <bpf/btf.h>
#include <linux/bpf.h>

// The skeletons name the contract types in their .rodata layout.
#include "contracts/common.h"
#include "contracts/net.h"
#include "contracts/vfs.h"

#include "cgio_net_tp_btf.skel.h"
#include "cgio_vfs_tracepoint.skel.h"

namespace cgio {

std::string_view to_string(ProbeType type) {
  switch (type) {
    case ProbeType::fentry: return "fentry";
    case ProbeType::kprobe: return "kprobe";
    case ProbeType::tracepoint: return "tracepoint";
  }
  return "unknown";
}

std::string_view to_string(Domain domain) {
  return domain == Domain::vfs ? "vfs" : "net";
}

namespace {

const BpfObjectSpec kVfsTracepoint{"cgio_vfs_tp", cgio_vfs_tracepoint__elf_bytes};
const BpfObjectSpec kNetTpBtf{"cgio_net_tpbtf", cgio_net_tp_btf__elf_bytes};

// Syscall-exit programs read the syscall's arguments from the task's saved
// registers through bpf_task_pt_regs (5.15).
std::optional<std::string> needs_task_pt_regs(const KernelFacts& k) {
  if (k.has_helper && k.has_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_pt_regs)) {
    return std::nullopt;
  }
  return "tracepoint programs cannot call bpf_task_pt_regs (added in 5.15)";
}

std::optional<std::string> needs_sock_length_tracepoints(const KernelFacts& k) {
  if (k.btf_has("btf_trace_sock_send_length", BTF_KIND_TYPEDEF) &&
      k.btf_has("btf_trace_sock_recv_length", BTF_KIND_TYPEDEF)) {
    return std::nullopt;
  }
  return "kernel BTF has no sock_send_length/sock_recv_length tracepoints (added in 6.3)";
}

std::vector<Implementation> build() {
  const auto vfs_tp = [](std::string_view op, std::vector<std::string_view> progs) {
    return Implementation{op,         Domain::vfs,       ProbeType::tracepoint, "sys_exit",
                          &kVfsTracepoint, std::move(progs), needs_task_pt_regs};
  };
  return {
      vfs_tp("vfs_read", {"cgio_read", "cgio_pread64", "cgio_readv", "cgio_preadv", "cgio_preadv2"}),
      vfs_tp("vfs_write",
             {"cgio_write", "cgio_pwrite64", "cgio_writev", "cgio_pwritev", "cgio_pwritev2"}),
      vfs_tp("vfs_open", {"cgio_open", "cgio_openat", "cgio_openat2", "cgio_creat"}),
      vfs_tp("vfs_mkdir", {"cgio_mkdir", "cgio_mkdirat"}),
      vfs_tp("vfs_unlink", {"cgio_unlink", "cgio_unlinkat_f"}),
      vfs_tp("vfs_rmdir", {"cgio_rmdir", "cgio_unlinkat_d"}),
      {"net_send", Domain::net, ProbeType::tracepoint, "sock_length", &kNetTpBtf,
       {"cgio_sock_send"}, needs_sock_length_tracepoints},
      {"net_receive", Domain::net, ProbeType::tracepoint, "sock_length", &kNetTpBtf,
       {"cgio_sock_recv"}, needs_sock_length_tracepoints},
  };
}

}  // namespace

std::span<const Implementation> catalogue() {
  static const std::vector<Implementation> table = build();
  return table;
}

std::vector<std::string_view> operations(Domain domain) {
  std::vector<std::string_view> ops;
  for (const Implementation& impl : catalogue()) {
    if (impl.domain != domain) continue;
    bool seen = false;
    for (auto op : ops) seen = seen || op == impl.operation;
    if (!seen) ops.push_back(impl.operation);
  }
  return ops;
}

}  // namespace cgio
