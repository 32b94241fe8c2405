/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between the cgroup event programs and the exporter: one record
 * per cgroup created, removed or renamed, in the `cgio_cgroup_events` ring
 * buffer. Removal events let the exporter fold a cgroup's final counters
 * into its unit and delete its map entries at once, so no byte done between
 * the last scrape and the end of a job is lost.
 */
#ifndef CGIO_CONTRACTS_CGROUP_EVENTS_H
#define CGIO_CONTRACTS_CGROUP_EVENTS_H

#include <linux/types.h>

enum cgio_cgroup_event_kind {
	CGIO_CGROUP_MKDIR = 1,
	CGIO_CGROUP_RMDIR,
	CGIO_CGROUP_RENAME,
};

/* The kernel builds the tracepoint's path in a buffer of this size
 * (TRACE_CGROUP_PATH_LEN): a longer path arrives cut, at 1023 bytes. */
#define CGIO_CGROUP_PATH_MAX 1024
/* A cgroup's own name: NAME_MAX bytes and the NUL. */
#define CGIO_CGROUP_NAME_MAX 256

/* A record is the header and path_len + name_len bytes of data: short paths
 * make short records, so the ring holds thousands of events. */
struct cgio_cgroup_event {
	__u64 id;	 /* kernfs id: the cgroup directory's inode number */
	__u64 parent_id; /* the parent cgroup's kernfs id; 0 for a root */
	/* When it happened (CLOCK_BOOTTIME ns): a unit that ends while no
	 * exporter reads the ring still gets its true end time. */
	__u64 time_ns;
	__u32 hierarchy_id; /* 0 for cgroup2, else the v1 hierarchy (/proc/cgroups) */
	__u32 kind;	    /* enum cgio_cgroup_event_kind */
	/* The tracepoint's path, relative to the hierarchy root as seen from the
	 * cgroup namespace of the task that made the change; valid only when
	 * init_cgroup_ns is set (else the exporter resolves the id itself). */
	__u32 init_cgroup_ns;
	__u16 path_len; /* bytes of the path at data[0], no NUL; CGIO_CGROUP_PATH_MAX-1: maybe cut
			 */
	__u16 name_len; /* bytes of the cgroup's own name right after the path, no NUL */
	/* The path, then the name. With the parent's path (which the exporter
	 * resolves from parent_id) the name gives a path of any length, and a
	 * path from inside a cgroup namespace. */
	char data[CGIO_CGROUP_PATH_MAX + CGIO_CGROUP_NAME_MAX];
};

/* Index into the `cgio_events_lost` per-CPU array. */
#define CGIO_EVENTS_LOST 0

#endif
