// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Run once at start-up with BPF_PROG_TEST_RUN, in the exporter's own task:
 * where bpf_task_pt_regs() finds the task's saved user registers, and
 * where the task's kernel stack starts. The registers sit at a fixed offset
 * from the stack on every task of a kernel (task_pt_regs() is the top of
 * the stack minus the registers' size, and the padding above them), and
 * that offset depends on the kernel's configuration (THREAD_SIZE, FRED,
 * KASAN), so it is measured, never assumed. The syscall exit programs of
 * the sys_exit_cast variant then find the registers with one load instead
 * of a bpf_task_pt_regs() call (cgio_config.pt_regs_offset).
 */
#include "cgio_kernel.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 regs_addr;
__u64 stack_addr;

SEC("raw_tp")
int cgio_pt_regs_offset(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();

	regs_addr = (__u64)bpf_task_pt_regs(task);
	stack_addr = (__u64)task->stack;
	return 0;
}
