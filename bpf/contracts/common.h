/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract shared by every BPF object and the exporter: map names, the
 * lost-update counters and the load-time configuration.
 */
#ifndef CGIO_CONTRACTS_COMMON_H
#define CGIO_CONTRACTS_COMMON_H

#include <linux/types.h>

/* Counted maps. */
enum cgio_map_id {
	CGIO_MAP_VFS = 0,
	CGIO_MAP_NET,
	CGIO_MAP_VFS_MOUNTS,
	CGIO_MAP_V1_UNITS, /* contracts/cgroup_keys.h */
	CGIO_MAP_MAX,
};

/* Why inserting a cgroup's first value failed: -E2BIG (the map is full),
 * -ENOMEM (the kernel had no memory for the entry at that moment), -EBUSY
 * (the bucket was locked by a program this one interrupted), anything else. */
enum cgio_lost_reason {
	CGIO_LOST_FULL = 0,
	CGIO_LOST_NOMEM,
	CGIO_LOST_BUSY,
	CGIO_LOST_OTHER,
	CGIO_LOST_MAX,
};

/* The `cgio_map_full` per-CPU array holds one counter per (map, reason) at
 * index map * CGIO_LOST_MAX + reason: each update lost, never silently. */
#define CGIO_LOST_SLOTS ((int)CGIO_MAP_MAX * (int)CGIO_LOST_MAX)

/* Written into each object's .rodata before load (variable `cgio_cfg`), so
 * the verifier prunes what a setting switches off. */
struct cgio_config {
	__u32 include_pseudo_fs; /* count I/O on proc, sysfs, cgroupfs, ... */
	__u32 mountpoints;	 /* also count reads/writes per listed filesystem */
	/* enum cgio_cgroup_keys (contracts/cgroup_keys.h): key counters by the
	 * cgroup2 id, by the cgroup in the hierarchy of the v1 controller
	 * `v1_subsys_id` (enum cgroup_subsys_id of the running kernel), or per
	 * task by either (hybrid). */
	__u32 cgroup_keys;
	__u32 v1_subsys_id;
	/* Inode number of the initial cgroup namespace: cgroup event paths are
	 * only taken as they are when made from it. */
	__u32 init_cgroupns_inum;
	/* Where a task's saved user registers are, as an offset from its
	 * kernel stack (task->stack), measured at start-up by
	 * bpf/pt_regs_offset.bpf.c; 0: not measured, programs call
	 * bpf_task_pt_regs(). */
	__u32 pt_regs_offset;
	/* The kernel's page size in bytes (folios are counted in pages). */
	__u32 page_size;
	/* The v1 controller's hierarchy (/proc/cgroups), for the cgroup event
	 * programs of hybrid hosts. */
	__u32 v1_hierarchy_id;
	/* The generation of this exporter's programs (never 0): they count
	 * only while the `cgio_generation` map says it is the active one. */
	__u32 generation;
};

/*
 * `cgio_generation`: an array of one __u32, the generation whose programs
 * count. A restarted or upgraded exporter loads and attaches its programs
 * beside the pinned ones of the previous process, then switches this value:
 * from that store on, the new programs count and the old ones do nothing,
 * so no event is counted twice or missed across the handover. Where a count
 * starts at a function's entry (a kprobe whose kretprobe counts), the entry
 * decides, so a call in flight at the switch is counted by its entry's
 * generation.
 */
#define CGIO_GENERATION_KEY 0

#endif
