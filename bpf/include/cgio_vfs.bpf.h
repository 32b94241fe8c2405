/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The VFS counting rules, shared by every probe type so that the same
 * workload gives the same numbers whichever hooks see it.
 */
#ifndef CGIO_VFS_BPF_H
#define CGIO_VFS_BPF_H

#include "cgio_common.bpf.h"
#include "contracts/vfs.h"

#define CGIO_S_IFMT 00170000
#define CGIO_S_IFREG 0100000
#define CGIO_O_CREAT 0100
#define CGIO_AT_REMOVEDIR 0x200
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
 * anonymous inodes (eventfd, epoll, ...) are not file I/O. */
static __always_inline bool cgio_counted_file(struct file *file)
{
	struct inode *inode;

	if (!file)
		return false;
#if defined(CGIO_ARG_FILE_BTF) || defined(CGIO_FD_CAST)
	inode = file->f_inode;
	return cgio_counted_mode_magic(inode->i_mode, inode->i_sb, true);
#else
	inode = BPF_CORE_READ(file, f_inode);
	return cgio_counted_mode_magic(BPF_CORE_READ(inode, i_mode), BPF_CORE_READ(inode, i_sb),
				       false);
#endif
}

#ifdef CGIO_FD_CAST
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;

/* The struct file behind `fd` in the current task's table, as a BTF
 * pointer, or NULL. The table slot itself is a `struct file *` in an array;
 * it is read through a read-only view of it as a kernel struct whose first
 * member is a 64-bit integer (struct timespec64), which the JIT turns into
 * one fault-safe load instead of a helper call. */
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
/* The struct file behind `fd` in the current task's table, or NULL. One
 * bound check against the live fdtable replaces any loop. Works from every
 * probe type (plain task pointer, CO-RE reads). */
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

/* One read-family or write-family call on `file` that returned `ret`.
 * `base` is CGIO_VFS_READS or CGIO_VFS_WRITES. */
static __always_inline void cgio_count_rw(struct file *file, long ret, int base)
{
	static const struct cgio_vfs_value zero;
	struct cgio_vfs_value *v;
	__u64 cgroup_id;

	if (!cgio_counted_file(file))
		return;
	cgroup_id = cgio_current_cgroup_id();
	v = cgio_value(&cgio_vfs, &cgroup_id, &zero, CGIO_MAP_VFS);
	if (v)
		cgio_add_rw(v->counter, ret, base);
	if (cgio_cfg.mountpoints)
		cgio_count_rw_by_mount(file, cgroup_id, ret, base);
}

/* One call of an operation counted as calls + errors (mkdir, unlink, ...).
 * `calls` is the counter index; its errors counter follows it. */
static __always_inline void cgio_count_call(long ret, int calls)
{
	struct cgio_vfs_value *v = cgio_vfs_value();

	if (!v)
		return;
	cgio_add(&v->counter[calls], 1);
	if (ret < 0)
		cgio_add(&v->counter[calls + 1], 1);
}

/*
 * One open/openat/openat2/creat call that returned `ret` (the new fd or
 * -errno). A successful open created a file iff the kernel marked the new
 * struct file FMODE_CREATED; a failed open with O_CREAT is a failed create.
 */
static __always_inline void cgio_count_open(int ret, __u64 flags)
{
	struct cgio_vfs_value *v = cgio_vfs_value();
	struct file *opened;

	if (!v)
		return;
	cgio_add(&v->counter[CGIO_VFS_OPENS], 1);
	if (ret < 0) {
		cgio_add(&v->counter[CGIO_VFS_OPEN_ERRORS], 1);
		if (flags & CGIO_O_CREAT)
			cgio_add(&v->counter[CGIO_VFS_CREATE_ERRORS], 1);
		return;
	}
	opened = cgio_fd_file(ret);
	if (opened && (cgio_file_mode(opened) & CGIO_FMODE_CREATED))
		cgio_add(&v->counter[CGIO_VFS_CREATES], 1);
}

#endif
