// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * VFS counting with kprobes and kretprobes on the functions the fentry type
 * uses (see vfs_fentry.bpf.c for why these functions): for kernels that
 * forbid trampolines but allow kprobes.
 */
#include "cgio_kprobe.bpf.h"
#include "cgio_vfs.bpf.h"

enum {
	CGIO_FN_READ = 1,
	CGIO_FN_READV,
	CGIO_FN_WRITE,
	CGIO_FN_WRITEV,
	CGIO_FN_OPEN,
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

/* Only the result matters for these: no entry probe. */
SEC("kretprobe/do_mkdirat")
int BPF_KRETPROBE(cgio_kr_mkdir, long ret)
{
	cgio_count_call((int)ret, CGIO_VFS_MKDIRS);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(cgio_kr_unlink, long ret)
{
	cgio_count_call((int)ret, CGIO_VFS_UNLINKS);
	return 0;
}

SEC("kretprobe/do_rmdir")
int BPF_KRETPROBE(cgio_kr_rmdir, long ret)
{
	cgio_count_call((int)ret, CGIO_VFS_RMDIRS);
	return 0;
}
