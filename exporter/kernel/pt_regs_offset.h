// Where a task's saved user registers are relative to its kernel stack
// (cgio_config.pt_regs_offset), measured once at start-up by running
// bpf/pt_regs_offset.bpf.c in the exporter's own task. The syscall exit
// programs then read syscall arguments with one load instead of a
// bpf_task_pt_regs() call (about 20 ns per counted operation on our VMs).
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace cgio {

// `btf_path`: kernel BTF for CO-RE (empty: the running kernel's). Fails on
// kernels without the helpers it needs (bpf_task_pt_regs: 5.15) or when the
// result is not plausible; the programs then keep calling the helper.
Result<uint32_t> measure_pt_regs_offset(const std::string& btf_path);

// The offset of the registers at `regs` from the stack at `stack`, if they
// look like a kernel stack and the registers near its top: the registers
// above the stack's start, less than 1 MiB into it, 8-byte aligned.
Result<uint32_t> pt_regs_offset_from(uint64_t regs, uint64_t stack);

}  // namespace cgio
