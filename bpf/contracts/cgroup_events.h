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

#define CGIO_CGROUP_PATH_MAX 512

struct cgio_cgroup_event {
	__u64 id;	    /* kernfs id: the cgroup directory's inode number */
	__u32 hierarchy_id; /* 0 for cgroup2, else the v1 hierarchy (/proc/cgroups) */
	__u32 kind;	    /* enum cgio_cgroup_event_kind */
	/* The tracepoint's path, relative to the hierarchy root as seen from the
	 * cgroup namespace of the task that made the change; valid only when
	 * init_cgroup_ns is set (else the exporter resolves the id itself). */
	__u32 init_cgroup_ns;
	__u32 path_len; /* bytes in path, without the NUL; PATH_MAX-1 may be cut */
	char path[CGIO_CGROUP_PATH_MAX];
};

/* Index into the `cgio_events_lost` per-CPU array. */
#define CGIO_EVENTS_LOST 0

#endif
