/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The VFS counting rules, shared by every probe type so that the same
 * workload gives the same numbers whichever hooks see it.
 */
#ifndef CGIO_VFS_BPF_H
#define CGIO_VFS_BPF_H

#include "cgio_fd.bpf.h"
#include "contracts/vfs.h"

#define CGIO_O_CREAT 0100
#define CGIO_AT_REMOVEDIR 0x200
/* include/linux/sched.h: an io_uring worker thread (5.12+). */
#define CGIO_PF_IO_WORKER 0x10
/* include/linux/fs.h; 0x100000 since it was introduced in 4.19. */
#define CGIO_FMODE_CREATED 0x100000

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* the exporter's map replaces this one */
	__type(key, __u64);
	__type(value, struct cgio_vfs_value);
} cgio_vfs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* the exporter's map replaces this one */
	__type(key, struct cgio_mount_key);
	__type(value, struct cgio_mount_value);
} cgio_vfs_mounts SEC(".maps");

/* Superblock dev_t -> index of the listed mount point (--vfs.mountpoints). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGIO_MOUNTS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} cgio_mounts SEC(".maps");

/* Whether the current task is an io_uring worker (io-wq), whose work is
 * counted at the request's completion instead. */
static __always_inline bool cgio_current_is_io_worker(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, flags) & CGIO_PF_IO_WORKER;
}

static __always_inline struct cgio_vfs_value *cgio_vfs_value(void)
{
	static const struct cgio_vfs_value zero;

	return cgio_cgroup_value(&cgio_vfs, &zero, CGIO_MAP_VFS);
}

/*
 * Kernel pseudo filesystems: their regular files are interfaces, not data,
 * and are not file I/O unless --vfs.include-pseudo-fs is given. Magic
 * numbers from include/uapi/linux/magic.h.
 */
static __always_inline bool cgio_pseudo_fs(unsigned long magic)
{
	switch (magic) {
	case 0x9fa0:	 /* proc */
	case 0x62656572: /* sysfs */
	case 0x27e0eb:	 /* cgroup (v1) */
	case 0x63677270: /* cgroup2 */
	case 0x64626720: /* debugfs */
	case 0x74726163: /* tracefs */
	case 0xcafe4a11: /* bpf */
	case 0x1cd1:	 /* devpts */
	case 0x73636673: /* securityfs */
	case 0x62656570: /* configfs */
	case 0x6165676c: /* pstore */
	case 0xde5e81e4: /* efivarfs */
	case 0xf97cff8c: /* selinuxfs */
	case 0x6e736673: /* nsfs */
	case 0x42494e4d: /* binfmt_misc */
	case 0x65735543: /* fusectl */
		return true;
	}
	return false;
}

/*
 * How the programs read a struct file. bpf_probe_read_kernel() costs about
 * 70 ns a call on our VMs, and classifying a file takes several reads, so
 * objects say what their pointers allow:
 *  CGIO_ARG_FILE_BTF  the file handed to cgio_count_rw() is a BTF pointer
 *                     (fentry/fexit arguments): plain loads.
 *  CGIO_FD_CAST       files found through the fd table are turned into BTF
 *                     pointers with the bpf_rdonly_cast kfunc (6.2+): plain
 *                     loads too.
 * Without them every field is a CO-RE probe read, which works everywhere.
 */

static __always_inline bool cgio_counted_mode_magic(umode_t mode, struct super_block *sb,
						    bool direct)
{
	if ((mode & CGIO_S_IFMT) != CGIO_S_IFREG)
		return false;
	if (cgio_cfg.include_pseudo_fs)
		return true;
	return !cgio_pseudo_fs(direct ? sb->s_magic : BPF_CORE_READ(sb, s_magic));
}

/* Regular files only: pipes, sockets, character and block devices and
 * anonymous inodes (eventfd, epoll, ...) are not file I/O. `btf`, a
 * constant, says whether `file` is a BTF pointer (plain loads) or a plain
 * address (CO-RE reads); the branch not taken is compiled out. */
static __always_inline bool cgio_counted_file_as(struct file *file, bool btf)
{
	struct inode *inode;

	if (!file)
		return false;
	if (btf) {
		inode = file->f_inode;
		return cgio_counted_mode_magic(inode->i_mode, inode->i_sb, true);
	}
	inode = BPF_CORE_READ(file, f_inode);
	return cgio_counted_mode_magic(BPF_CORE_READ(inode, i_mode), BPF_CORE_READ(inode, i_sb),
				       false);
}

#if defined(CGIO_ARG_FILE_BTF) || defined(CGIO_FD_CAST)
#define CGIO_FILE_BTF 1
#else
#define CGIO_FILE_BTF 0
#endif

/* A file the object's hooks hand over (function arguments, or descriptors
 * resolved by cgio_fd_file in the syscall-exit objects). */
static __always_inline bool cgio_counted_file(struct file *file)
{
	return cgio_counted_file_as(file, CGIO_FILE_BTF);
}

static __always_inline void cgio_add_rw(__u64 *counters, long ret, int base)
{
	cgio_add(&counters[base + CGIO_OFF_CALLS], 1);
	if (ret >= 0)
		cgio_add(&counters[base + CGIO_OFF_BYTES], ret);
	else
		cgio_add(&counters[base + CGIO_OFF_ERRORS], 1);
}

/* --vfs.mountpoints: the same call, per (cgroup, filesystem). The decision
 * is the file's superblock, made here, not a path prefix in user space. */
static __always_inline void cgio_count_rw_by_mount(struct file *file, __u64 cgroup_id, long ret,
						   int base)
{
	static const struct cgio_mount_value zero;
	struct cgio_mount_key key = {.cgroup_id = cgroup_id, .mount = CGIO_MOUNT_OTHER};
	__u32 dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	__u32 *mount = bpf_map_lookup_elem(&cgio_mounts, &dev);
	struct cgio_mount_value *v;

	if (mount)
		key.mount = *mount;
	v = cgio_value(&cgio_vfs_mounts, &key, &zero, CGIO_MAP_VFS_MOUNTS);
	if (v)
		cgio_add_rw(v->counter, ret, base);
}

/* One read-family or write-family call on `file`, a counted file, that
 * returned `ret`, charged to `cgroup_id`. `base` is CGIO_VFS_READS or
 * CGIO_VFS_WRITES. */
static __always_inline void cgio_count_rw_in(struct file *file, __u64 cgroup_id, long ret, int base)
{
	static const struct cgio_vfs_value zero;
	struct cgio_vfs_value *v;

	v = cgio_value(&cgio_vfs, &cgroup_id, &zero, CGIO_MAP_VFS);
	if (v)
		cgio_add_rw(v->counter, ret, base);
	if (cgio_cfg.mountpoints)
		cgio_count_rw_by_mount(file, cgroup_id, ret, base);
}

/* One read-family or write-family call of the current task on `file`. */
static __always_inline void cgio_count_rw(struct file *file, long ret, int base)
{
	if (cgio_counted_file(file))
		cgio_count_rw_in(file, cgio_current_cgroup_id(), ret, base);
}

/* The same for a descriptor of the current task. */
static __always_inline void cgio_count_fd_rw(long fd, long ret, int base)
{
	struct file *file = cgio_fd_file(fd);

	if (cgio_counted_file_as(file, CGIO_FD_FILE_BTF))
		cgio_count_rw_in(file, cgio_current_cgroup_id(), ret, base);
}

/*
 * copy_file_range, sendfile and splice that returned `ret`: a read of the
 * source when it is a counted file, a write of the destination when it is
 * one; each side one call with `ret` bytes (or an error). A socket side is
 * network I/O (net_transfer), a pipe side nothing. These paths never pass
 * through the read/write family's hooks (they use ->splice_read,
 * ->copy_file_range and iter writes), so no byte counts twice.
 */
static __always_inline void cgio_count_transfer(long in_fd, long out_fd, long ret)
{
	cgio_count_fd_rw(in_fd, ret, CGIO_VFS_READS);
	cgio_count_fd_rw(out_fd, ret, CGIO_VFS_WRITES);
}

/* One call of an operation counted as calls + errors (mkdir, unlink, ...).
 * `calls` is the counter index; its errors counter follows it. */
static __always_inline void cgio_count_call_in(struct cgio_vfs_value *v, long ret, int calls)
{
	cgio_add(&v->counter[calls], 1);
	if (ret < 0)
		cgio_add(&v->counter[calls + 1], 1);
}

static __always_inline void cgio_count_call(long ret, int calls)
{
	struct cgio_vfs_value *v = cgio_vfs_value();

	if (v)
		cgio_count_call_in(v, ret, calls);
}

/*
 * One open/openat/openat2/creat call that returned `ret` (the new fd or
 * -errno). A successful open created a file iff the kernel marked the new
 * struct file FMODE_CREATED; a failed open with O_CREAT is a failed create.
 * `fd_known` is false when the result is not a descriptor of the current
 * task (an io_uring open into a fixed-file slot).
 */
static __always_inline void cgio_count_open_in(struct cgio_vfs_value *v, int ret, __u64 flags,
					       bool fd_known)
{
	struct file *opened;

	cgio_add(&v->counter[CGIO_VFS_OPENS], 1);
	if (ret < 0) {
		cgio_add(&v->counter[CGIO_VFS_OPEN_ERRORS], 1);
		if (flags & CGIO_O_CREAT)
			cgio_add(&v->counter[CGIO_VFS_CREATE_ERRORS], 1);
		return;
	}
	if (!fd_known)
		return;
	opened = cgio_fd_file(ret);
	if (opened && (cgio_file_mode(opened) & CGIO_FMODE_CREATED))
		cgio_add(&v->counter[CGIO_VFS_CREATES], 1);
}

static __always_inline void cgio_count_open(int ret, __u64 flags)
{
	struct cgio_vfs_value *v = cgio_vfs_value();

	if (v)
		cgio_count_open_in(v, ret, flags, true);
}

#endif
