/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Syscall arguments at syscall exit, for the programs on
 * tracepoint/syscalls/sys_exit_*: read from the task's saved user registers
 * (bpf_task_pt_regs, 5.15+) instead of a sys_enter program and a per-task
 * map, which would double the hook cost.
 */
#ifndef CGIO_SYSCALL_BPF_H
#define CGIO_SYSCALL_BPF_H

#include "cgio_common.bpf.h"

/* The pointer from bpf_task_pt_regs is a BTF pointer: plain loads, no probe
 * reads. The fourth syscall argument travels in r10 (rcx is clobbered by
 * the syscall instruction). */
#if defined(__TARGET_ARCH_x86)
#define CGIO_SYSCALL_ARG1(regs) ((regs)->di)
#define CGIO_SYSCALL_ARG2(regs) ((regs)->si)
#define CGIO_SYSCALL_ARG3(regs) ((regs)->dx)
#define CGIO_SYSCALL_ARG4(regs) ((regs)->r10)
#else
#define CGIO_SYSCALL_ARG1(regs) PT_REGS_PARM1_CORE_SYSCALL(regs)
#define CGIO_SYSCALL_ARG2(regs) PT_REGS_PARM2_CORE_SYSCALL(regs)
#define CGIO_SYSCALL_ARG3(regs) PT_REGS_PARM3_CORE_SYSCALL(regs)
#define CGIO_SYSCALL_ARG4(regs) PT_REGS_PARM4_CORE_SYSCALL(regs)
#endif

/* The kernel's syscall wrapper for `name`, as fentry and kprobe programs
 * name it (SEC("fexit/" CGIO_SYSCALL_FN(splice))). */
#if defined(__TARGET_ARCH_x86)
#define CGIO_SYSCALL_FN(name) "__x64_sys_" #name
#elif defined(__TARGET_ARCH_arm64)
#define CGIO_SYSCALL_FN(name) "__arm64_sys_" #name
#endif

/* Context of tracepoint/syscalls/sys_exit_*: see the format file of any
 * syscalls/sys_exit_* event; stable since syscall tracepoints exist. */
struct cgio_sys_exit {
	__u64 common;
	int nr;
	long ret;
};

#ifdef CGIO_FD_CAST
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;
#endif

/* The current task's saved user registers. With CGIO_FD_CAST (6.2+) and the
 * offset measured at start-up (bpf/pt_regs_offset.bpf.c), one load of
 * task->stack and a read-only cast replace the bpf_task_pt_regs() call; the
 * exporter leaves the offset 0 when it could not measure it, and the
 * verifier drops the branch not taken (cgio_cfg is read-only data). */
static __always_inline struct pt_regs *cgio_user_regs(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

#ifdef CGIO_FD_CAST
	if (cgio_cfg.pt_regs_offset)
		return bpf_rdonly_cast((char *)task->stack + cgio_cfg.pt_regs_offset,
				       bpf_core_type_id_kernel(struct pt_regs));
#endif
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

#endif
