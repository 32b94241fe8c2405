// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * VFS counting with fexit trampolines: the cheapest hooks where the kernel
 * allows them, and the same counts as the syscall tracepoints.
 *
 * Reads and writes: vfs_read/vfs_write (read, pread64, write, pwrite64) and
 * vfs_readv/vfs_writev (readv, preadv, preadv2 and the write side), whose
 * struct file tells "regular file" directly.
 *
 * Opens, mkdir, unlink, rmdir: the namei entry points do_sys_openat2,
 * do_mkdirat, do_unlinkat and do_rmdir, not vfs_create/vfs_mkdir/vfs_unlink/
 * vfs_rmdir. The entry points run once per syscall and return its result,
 * including failures during path lookup (missing parent, existing
 * directory) that never reach vfs_*; the vfs_* functions are also called a
 * second time by stacking filesystems (overlayfs, under every container)
 * and by in-kernel servers, and open(O_CREAT) does not call vfs_create.
 *
 * Their return type moved between long and int across versions; the values
 * (an fd or -errno) fit an int, so the result is read as int, which is right
 * for both. io_uring's io-wq workers call do_mkdirat, do_unlinkat and
 * do_rmdir for IORING_OP_MKDIRAT/UNLINKAT: those count at the request's
 * completion (io_uring.bpf.c) as under every probe type, not here.
 *
 * copy_file_range, sendfile, splice and io_getevents are hooked at their
 * syscall wrappers (the saved registers are a BTF pointer argument): the
 * functions below them are also used by overlayfs and in-kernel servers,
 * which would count the same bytes twice.
 */
#define CGIO_PREEMPTIBLE  /* trampolines only disable migration */
#define CGIO_ARG_FILE_BTF /* the struct file arguments are BTF pointers */
#include "cgio_aio.bpf.h"
#include "cgio_syscall.bpf.h"

SEC("fexit/vfs_read")
int BPF_PROG(cgio_fx_read, struct file *file, void *buf, __u64 count, void *pos, long ret)
{
	cgio_count_rw(file, ret, CGIO_VFS_READS);
	return 0;
}

SEC("fexit/vfs_readv")
int BPF_PROG(cgio_fx_readv, struct file *file, void *vec, unsigned long vlen, void *pos, int flags,
	     long ret)
{
	cgio_count_rw(file, ret, CGIO_VFS_READS);
	return 0;
}

SEC("fexit/vfs_write")
int BPF_PROG(cgio_fx_write, struct file *file, void *buf, __u64 count, void *pos, long ret)
{
	cgio_count_rw(file, ret, CGIO_VFS_WRITES);
	return 0;
}

SEC("fexit/vfs_writev")
int BPF_PROG(cgio_fx_writev, struct file *file, void *vec, unsigned long vlen, void *pos, int flags,
	     long ret)
{
	cgio_count_rw(file, ret, CGIO_VFS_WRITES);
	return 0;
}

/* open, openat, openat2 and creat all end here with a kernel copy of the
 * open flags (struct open_how). */
SEC("fexit/do_sys_openat2")
int BPF_PROG(cgio_fx_open, int dfd, void *filename, struct open_how *how, long ret)
{
	cgio_count_open((int)ret, BPF_CORE_READ(how, flags));
	return 0;
}

SEC("fexit/do_mkdirat")
int BPF_PROG(cgio_fx_mkdir, int dfd, void *name, unsigned short mode, long ret)
{
	if (!cgio_current_is_io_worker())
		cgio_count_call((int)ret, CGIO_VFS_MKDIRS);
	return 0;
}

/* unlink, and unlinkat without AT_REMOVEDIR. */
SEC("fexit/do_unlinkat")
int BPF_PROG(cgio_fx_unlink, int dfd, void *name, long ret)
{
	if (!cgio_current_is_io_worker())
		cgio_count_call((int)ret, CGIO_VFS_UNLINKS);
	return 0;
}

/* rmdir, and unlinkat with AT_REMOVEDIR. */
SEC("fexit/do_rmdir")
int BPF_PROG(cgio_fx_rmdir, int dfd, void *name, long ret)
{
	if (!cgio_current_is_io_worker())
		cgio_count_call((int)ret, CGIO_VFS_RMDIRS);
	return 0;
}

/* vfs_transfer: copy_file_range(fd_in, off_in, fd_out, ...),
 * sendfile(out_fd, in_fd, ...), splice(fd_in, off_in, fd_out, ...). */
SEC("fexit/" CGIO_SYSCALL_FN(copy_file_range))
int BPF_PROG(cgio_fx_copy_file_range, struct pt_regs *regs, long ret)
{
	cgio_count_transfer(CGIO_SYSCALL_ARG1(regs), CGIO_SYSCALL_ARG3(regs), ret);
	return 0;
}

SEC("fexit/" CGIO_SYSCALL_FN(sendfile64))
int BPF_PROG(cgio_fx_sendfile64, struct pt_regs *regs, long ret)
{
	cgio_count_transfer(CGIO_SYSCALL_ARG2(regs), CGIO_SYSCALL_ARG1(regs), ret);
	return 0;
}

SEC("fexit/" CGIO_SYSCALL_FN(splice))
int BPF_PROG(cgio_fx_splice, struct pt_regs *regs, long ret)
{
	cgio_count_transfer(CGIO_SYSCALL_ARG1(regs), CGIO_SYSCALL_ARG3(regs), ret);
	return 0;
}

/* vfs_aio: the events array is the fourth argument of both. */
SEC("fexit/" CGIO_SYSCALL_FN(io_getevents))
int BPF_PROG(cgio_fx_io_getevents, struct pt_regs *regs, long ret)
{
	cgio_count_aio_events((const void *)CGIO_SYSCALL_ARG4(regs), ret);
	return 0;
}

SEC("fexit/" CGIO_SYSCALL_FN(io_pgetevents))
int BPF_PROG(cgio_fx_io_pgetevents, struct pt_regs *regs, long ret)
{
	cgio_count_aio_events((const void *)CGIO_SYSCALL_ARG4(regs), ret);
	return 0;
}
