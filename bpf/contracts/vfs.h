/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between the VFS BPF programs and the exporter: the value stored per
 * cgroup in the `cgio_vfs` per-CPU hash map (key: __u64 cgroup id).
 *
 * Plain C with fixed-width types only; the C++ side checks sizes with
 * static_assert (collectors/contracts_check.cpp).
 */
#ifndef CGIO_CONTRACTS_VFS_H
#define CGIO_CONTRACTS_VFS_H

#include <linux/types.h>

/* One slot per counter. Calls, bytes and errors of one operation are
 * consecutive so programs can address them as base + CGIO_OFF_*. */
enum cgio_vfs_counter {
	CGIO_VFS_READS = 0,
	CGIO_VFS_READ_BYTES,
	CGIO_VFS_READ_ERRORS,
	CGIO_VFS_WRITES,
	CGIO_VFS_WRITE_BYTES,
	CGIO_VFS_WRITE_ERRORS,
	CGIO_VFS_OPENS,
	CGIO_VFS_OPEN_ERRORS,
	CGIO_VFS_CREATES,
	CGIO_VFS_CREATE_ERRORS,
	CGIO_VFS_UNLINKS,
	CGIO_VFS_UNLINK_ERRORS,
	CGIO_VFS_MKDIRS,
	CGIO_VFS_MKDIR_ERRORS,
	CGIO_VFS_RMDIRS,
	CGIO_VFS_RMDIR_ERRORS,
	/* Memory-mapped files (bpf/mmap.bpf.c): bytes of the folios faults
	 * brought into the page cache and of those stores made dirty. */
	CGIO_VFS_MMAP_PAGEIN_BYTES,
	CGIO_VFS_MMAP_DIRTIED_BYTES,
	CGIO_VFS_COUNTER_MAX,
};

/* Offsets from CGIO_VFS_READS / CGIO_VFS_WRITES. */
enum cgio_rw_offset {
	CGIO_OFF_CALLS = 0,
	CGIO_OFF_BYTES = 1,
	CGIO_OFF_ERRORS = 2,
};

struct cgio_vfs_value {
	__u64 counter[CGIO_VFS_COUNTER_MAX];
};

/*
 * --vfs.mountpoints: reads and writes per (cgroup, filesystem), in the
 * `cgio_vfs_mounts` per-CPU hash. The filesystem is the file's superblock
 * device, mapped by the exporter to an index in `cgio_mounts`
 * (key: __u32 kernel dev_t, value: __u32 index); files on other
 * filesystems count under CGIO_MOUNT_OTHER.
 */
#define CGIO_MOUNT_OTHER 0
#define CGIO_MOUNTS_MAX 64

struct cgio_mount_key {
	__u64 cgroup_id;
	__u32 mount;
	__u32 pad;
};

/* The read and write counters, in the order of enum cgio_vfs_counter. */
struct cgio_mount_value {
	__u64 counter[CGIO_VFS_OPENS];
};

#endif
