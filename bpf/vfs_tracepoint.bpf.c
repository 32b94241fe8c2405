// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * VFS counting from syscall exit tracepoints: the probe type that loads
 * where trampolines and kprobes are forbidden.
 *
 * Only sys_exit_* is hooked. The arguments a program needs (the fd, open
 * flags) come from the task's saved user registers (bpf_task_pt_regs, 5.15+)
 * instead of a sys_enter program and a per-task map, which would double the
 * hook cost. The fd is resolved to its struct file in the kernel to decide
 * "regular file, not a pseudo filesystem".
 *
 * Built twice: plain, and with CGIO_FD_CAST for kernels with the
 * bpf_rdonly_cast kfunc (6.2+), where the file is read without helper calls
 * (see cgio_vfs.bpf.h).
 */
/* bpf_get_current_task_btf (5.11) is used below anyway, so the cgroup id is
 * read through it with plain loads too. */
#define CGIO_TASK_BTF
#include "cgio_aio.bpf.h"
#include "cgio_syscall.bpf.h"

#define CGIO_RW_EXIT(syscall, base)                                                                \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                                              \
	int cgio_##syscall(struct cgio_sys_exit *ctx)                                              \
	{                                                                                          \
		cgio_count_fd_rw(CGIO_SYSCALL_ARG1(cgio_user_regs()), ctx->ret, base);             \
		return 0;                                                                          \
	}

CGIO_RW_EXIT(read, CGIO_VFS_READS)
CGIO_RW_EXIT(pread64, CGIO_VFS_READS)
CGIO_RW_EXIT(readv, CGIO_VFS_READS)
CGIO_RW_EXIT(preadv, CGIO_VFS_READS)
CGIO_RW_EXIT(preadv2, CGIO_VFS_READS)
CGIO_RW_EXIT(write, CGIO_VFS_WRITES)
CGIO_RW_EXIT(pwrite64, CGIO_VFS_WRITES)
CGIO_RW_EXIT(writev, CGIO_VFS_WRITES)
CGIO_RW_EXIT(pwritev, CGIO_VFS_WRITES)
CGIO_RW_EXIT(pwritev2, CGIO_VFS_WRITES)

/* vfs_transfer: copy_file_range(fd_in, off_in, fd_out, ...),
 * sendfile(out_fd, in_fd, ...), splice(fd_in, off_in, fd_out, ...). */
SEC("tracepoint/syscalls/sys_exit_copy_file_range")
int cgio_copy_file_range(struct cgio_sys_exit *ctx)
{
	struct pt_regs *regs = cgio_user_regs();

	cgio_count_transfer(CGIO_SYSCALL_ARG1(regs), CGIO_SYSCALL_ARG3(regs), ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int cgio_sendfile64(struct cgio_sys_exit *ctx)
{
	struct pt_regs *regs = cgio_user_regs();

	cgio_count_transfer(CGIO_SYSCALL_ARG2(regs), CGIO_SYSCALL_ARG1(regs), ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_splice")
int cgio_splice(struct cgio_sys_exit *ctx)
{
	struct pt_regs *regs = cgio_user_regs();

	cgio_count_transfer(CGIO_SYSCALL_ARG1(regs), CGIO_SYSCALL_ARG3(regs), ctx->ret);
	return 0;
}

/* vfs_aio: io_getevents(ctx, min_nr, nr, events, timeout) and
 * io_pgetevents(..., events, timeout, sig) return the events copied. */
SEC("tracepoint/syscalls/sys_exit_io_getevents")
int cgio_io_getevents(struct cgio_sys_exit *ctx)
{
	cgio_count_aio_events((const void *)CGIO_SYSCALL_ARG4(cgio_user_regs()), ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_io_pgetevents")
int cgio_io_pgetevents(struct cgio_sys_exit *ctx)
{
	cgio_count_aio_events((const void *)CGIO_SYSCALL_ARG4(cgio_user_regs()), ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open")
int cgio_open(struct cgio_sys_exit *ctx)
{
	cgio_count_open(ctx->ret, CGIO_SYSCALL_ARG2(cgio_user_regs()));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int cgio_openat(struct cgio_sys_exit *ctx)
{
	cgio_count_open(ctx->ret, CGIO_SYSCALL_ARG3(cgio_user_regs()));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_creat")
int cgio_creat(struct cgio_sys_exit *ctx)
{
	cgio_count_open(ctx->ret, CGIO_O_CREAT);
	return 0;
}

/* openat2(dfd, path, struct open_how *how, size): flags are the first __u64
 * of the user's open_how. They only matter for failed calls (a success
 * reports creation through FMODE_CREATED), so user memory is read only then. */
SEC("tracepoint/syscalls/sys_exit_openat2")
int cgio_openat2(struct cgio_sys_exit *ctx)
{
	__u64 flags = 0;

	if (ctx->ret < 0) {
		const void *how = (const void *)CGIO_SYSCALL_ARG3(cgio_user_regs());
		bpf_probe_read_user(&flags, sizeof(flags), how);
	}
	cgio_count_open(ctx->ret, flags);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mkdir")
int cgio_mkdir(struct cgio_sys_exit *ctx)
{
	cgio_count_call(ctx->ret, CGIO_VFS_MKDIRS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mkdirat")
int cgio_mkdirat(struct cgio_sys_exit *ctx)
{
	cgio_count_call(ctx->ret, CGIO_VFS_MKDIRS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unlink")
int cgio_unlink(struct cgio_sys_exit *ctx)
{
	cgio_count_call(ctx->ret, CGIO_VFS_UNLINKS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_rmdir")
int cgio_rmdir(struct cgio_sys_exit *ctx)
{
	cgio_count_call(ctx->ret, CGIO_VFS_RMDIRS);
	return 0;
}

/*
 * unlinkat serves two operations. Each has its own program on the same
 * tracepoint, so the unlink and rmdir operations load, fail and fall back
 * independently; the cost is one extra program run per unlinkat call.
 */
static __always_inline bool cgio_unlinkat_removes_dir(void)
{
	return CGIO_SYSCALL_ARG3(cgio_user_regs()) & CGIO_AT_REMOVEDIR;
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int cgio_unlinkat_f(struct cgio_sys_exit *ctx)
{
	if (!cgio_unlinkat_removes_dir())
		cgio_count_call(ctx->ret, CGIO_VFS_UNLINKS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int cgio_unlinkat_d(struct cgio_sys_exit *ctx)
{
	if (cgio_unlinkat_removes_dir())
		cgio_count_call(ctx->ret, CGIO_VFS_RMDIRS);
	return 0;
}
