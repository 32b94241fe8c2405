/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The struct file behind a file descriptor of the current task, for programs
 * that only see descriptors (syscall exits, io_getevents, open results).
 *
 * CGIO_FD_CAST: objects for kernels with the bpf_rdonly_cast kfunc (6.2+)
 * get a BTF pointer, read with plain loads (CGIO_FD_FILE_BTF is 1); the
 * others get a plain address, read with CO-RE probe reads.
 */
#ifndef CGIO_FD_BPF_H
#define CGIO_FD_BPF_H

#include "cgio_common.bpf.h"

#define CGIO_S_IFMT 00170000
#define CGIO_S_IFREG 0100000
#define CGIO_S_IFSOCK 0140000

#ifdef CGIO_FD_CAST
#define CGIO_FD_FILE_BTF 1
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;

/* The table slot itself is a `struct file *` in an array; it is read
 * through a read-only view of it as a kernel struct whose first member is a
 * 64-bit integer (struct timespec64), which the JIT turns into one
 * fault-safe load instead of a helper call. */
static __always_inline struct file *cgio_fd_file(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct timespec64 *slot;
	void *file;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	slot = bpf_rdonly_cast((void *)&fdt->fd[fd], bpf_core_type_id_kernel(struct timespec64));
	file = (void *)slot->tv_sec;
	if (!file)
		return NULL;
	return bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
}

static __always_inline fmode_t cgio_file_mode(struct file *file)
{
	return file->f_mode;
}
#else
#define CGIO_FD_FILE_BTF 0

/* One bound check against the live fdtable replaces any loop. Works from
 * every probe type (plain task pointer, CO-RE reads). */
static __always_inline struct file *cgio_fd_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

static __always_inline fmode_t cgio_file_mode(struct file *file)
{
	return BPF_CORE_READ(file, f_mode);
}
#endif

/* The socket behind `fd` when it is one, else NULL; a plain address (read it
 * with CO-RE reads). Only socket files have S_IFSOCK inodes (a socket's
 * name in a filesystem cannot be opened). */
static __always_inline struct sock *cgio_fd_sock(long fd)
{
	struct file *file = cgio_fd_file(fd);
	struct socket *sock;

	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & CGIO_S_IFMT) != CGIO_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

#endif
