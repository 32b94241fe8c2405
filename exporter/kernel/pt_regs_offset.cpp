#include "kernel/pt_regs_offset.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <memory>

#include "cgio_pt_regs_offset.skel.h"

namespace cgio {

Result<uint32_t> pt_regs_offset_from(uint64_t regs, uint64_t stack) {
  constexpr uint64_t kMaxOffset = 1u << 20;
  if (regs == 0 || stack == 0) return Error{"the kernel gave no address for the registers or the stack"};
  if (regs <= stack || regs - stack >= kMaxOffset || (regs - stack) % 8 != 0) {
    return Error{"registers at an implausible offset from the stack"};
  }
  return static_cast<uint32_t>(regs - stack);
}

Result<uint32_t> measure_pt_regs_offset(const std::string& btf_path) {
  LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf_path.empty() ? nullptr : btf_path.c_str());
  std::unique_ptr<cgio_pt_regs_offset, decltype(&cgio_pt_regs_offset__destroy)> skel(
      cgio_pt_regs_offset__open_opts(&opts), &cgio_pt_regs_offset__destroy);
  if (!skel) return errno_error("open the pt_regs offset program", errno);
  if (int err = cgio_pt_regs_offset__load(skel.get()); err != 0) {
    return errno_error("load the pt_regs offset program", -err);
  }
  // Runs on this CPU in this task (no BPF_F_TEST_RUN_ON_CPU): "current" is
  // the exporter.
  LIBBPF_OPTS(bpf_test_run_opts, run);
  if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.cgio_pt_regs_offset), &run) != 0) {
    return errno_error("run the pt_regs offset program", errno);
  }
  return pt_regs_offset_from(skel->bss->regs_addr, skel->bss->stack_addr);
}

}  // namespace cgio
