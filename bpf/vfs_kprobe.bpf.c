// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * VFS counting with kprobes and kretprobes on the functions the fentry type
 * uses (see vfs_fentry.bpf.c for why these functions): for kernels that
 * forbid trampolines but allow kprobes.
 */
/* Whether a call counts is decided where its arguments are kept
 * (cgio_kprobe.bpf.h); entry-less kretprobes check cgio_active(). */
#define CGIO_GATE_AT_ENTRY
#include "cgio_aio.bpf.h"
#include "cgio_kprobe.bpf.h"
#include "cgio_syscall.bpf.h"

enum {
	CGIO_FN_READ = 1,
	CGIO_FN_READV,
	CGIO_FN_WRITE,
	CGIO_FN_WRITEV,
	CGIO_FN_OPEN,
	CGIO_FN_COPY_FILE_RANGE,
	CGIO_FN_SENDFILE64,
	CGIO_FN_SPLICE,
	CGIO_FN_IO_GETEVENTS,
	CGIO_FN_IO_PGETEVENTS,
};

#define CGIO_RW_KPROBE(fn, id, entry, exit, base)                                                  \
	SEC("kprobe/" #fn)                                                                         \
	int BPF_KPROBE(entry, struct file *file)                                                   \
	{                                                                                          \
		cgio_stash(id, (__u64)file);                                                       \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #fn)                                                                      \
	int BPF_KRETPROBE(exit, long ret)                                                          \
	{                                                                                          \
		struct file *file = (struct file *)cgio_take(id);                                  \
		if (file)                                                                          \
			cgio_count_rw(file, ret, base);                                            \
		return 0;                                                                          \
	}

CGIO_RW_KPROBE(vfs_read, CGIO_FN_READ, cgio_kp_read, cgio_kr_read, CGIO_VFS_READS)
CGIO_RW_KPROBE(vfs_readv, CGIO_FN_READV, cgio_kp_readv, cgio_kr_readv, CGIO_VFS_READS)
CGIO_RW_KPROBE(vfs_write, CGIO_FN_WRITE, cgio_kp_write, cgio_kr_write, CGIO_VFS_WRITES)
CGIO_RW_KPROBE(vfs_writev, CGIO_FN_WRITEV, cgio_kp_writev, cgio_kr_writev, CGIO_VFS_WRITES)

/* The open flags live in the kernel's struct open_how (third argument). */
SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(cgio_kp_open, int dfd, void *filename, struct open_how *how)
{
	cgio_stash(CGIO_FN_OPEN, BPF_CORE_READ(how, flags));
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(cgio_kr_open, long ret)
{
	cgio_count_open((int)ret, cgio_take(CGIO_FN_OPEN));
	return 0;
}

/* Only the result matters for these: no entry probe, so they check the
 * generation themselves. io-wq workers are skipped as in vfs_fentry.bpf.c. */
SEC("kretprobe/do_mkdirat")
int BPF_KRETPROBE(cgio_kr_mkdir, long ret)
{
	if (cgio_active() && !cgio_current_is_io_worker())
		cgio_count_call((int)ret, CGIO_VFS_MKDIRS);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(cgio_kr_unlink, long ret)
{
	if (cgio_active() && !cgio_current_is_io_worker())
		cgio_count_call((int)ret, CGIO_VFS_UNLINKS);
	return 0;
}

SEC("kretprobe/do_rmdir")
int BPF_KRETPROBE(cgio_kr_rmdir, long ret)
{
	if (cgio_active() && !cgio_current_is_io_worker())
		cgio_count_call((int)ret, CGIO_VFS_RMDIRS);
	return 0;
}

/* vfs_transfer and vfs_aio: kprobes on the syscall wrappers (see
 * vfs_fentry.bpf.c for why there; CGIO_SYSCALL_KPROBE in cgio_kprobe.bpf.h). */
CGIO_SYSCALL_KPROBE(copy_file_range, CGIO_FN_COPY_FILE_RANGE, cgio_kp_copy_file_range,
		    cgio_kr_copy_file_range,
		    cgio_count_transfer(PT_REGS_PARM1_CORE_SYSCALL(regs),
					PT_REGS_PARM3_CORE_SYSCALL(regs), ret))
CGIO_SYSCALL_KPROBE(sendfile64, CGIO_FN_SENDFILE64, cgio_kp_sendfile64, cgio_kr_sendfile64,
		    cgio_count_transfer(PT_REGS_PARM2_CORE_SYSCALL(regs),
					PT_REGS_PARM1_CORE_SYSCALL(regs), ret))
CGIO_SYSCALL_KPROBE(splice, CGIO_FN_SPLICE, cgio_kp_splice, cgio_kr_splice,
		    cgio_count_transfer(PT_REGS_PARM1_CORE_SYSCALL(regs),
					PT_REGS_PARM3_CORE_SYSCALL(regs), ret))
CGIO_SYSCALL_KPROBE(io_getevents, CGIO_FN_IO_GETEVENTS, cgio_kp_io_getevents, cgio_kr_io_getevents,
		    cgio_count_aio_events((const void *)PT_REGS_PARM4_CORE_SYSCALL(regs), ret))
CGIO_SYSCALL_KPROBE(io_pgetevents, CGIO_FN_IO_PGETEVENTS, cgio_kp_io_pgetevents,
		    cgio_kr_io_pgetevents,
		    cgio_count_aio_events((const void *)PT_REGS_PARM4_CORE_SYSCALL(regs), ret))
