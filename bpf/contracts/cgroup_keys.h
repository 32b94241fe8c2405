/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between the BPF programs and the exporter: which cgroup a task's
 * I/O is charged to, as the u64 key of every counter map.
 *
 * cgroup2 hosts key by the task's cgroup2 id, pure cgroup v1 hosts by the id
 * of its cgroup in one v1 controller's hierarchy (cgio_config.v1_subsys_id).
 * Hybrid hosts (cgroup2 and that controller both mounted) decide per task,
 * at every event: a task whose v1 cgroup is in `cgio_v1_units` is charged to
 * that v1 cgroup, its id tagged with CGIO_V1_KEY_BIT (kernfs ids of different
 * hierarchies overlap); every other task to its cgroup2 cgroup. So a Slurm
 * job that appears in the v1 hierarchy at any time is charged as that job,
 * and services keep their cgroup2 identity; each event has one key, so
 * nothing is counted twice.
 *
 * `cgio_v1_units` (hash, key: __u64 v1 kernfs id, value: __u32 enum
 * cgio_v1_class) is written from both sides: the cgroup_mkdir program adds
 * every cgroup created in the hierarchy (a child of a unit is a unit, any
 * other is pending: charged to v1 until the exporter has read its path), the
 * exporter marks pending cgroups it recognises as workloads as units and
 * deletes the others, and the cgroup_rmdir program deletes removed ones.
 */
#ifndef CGIO_CONTRACTS_CGROUP_KEYS_H
#define CGIO_CONTRACTS_CGROUP_KEYS_H

#include <linux/types.h>

/* cgio_config.cgroup_keys */
enum cgio_cgroup_keys {
	CGIO_KEYS_V2 = 0,
	CGIO_KEYS_V1,
	CGIO_KEYS_HYBRID,
};

/* Set in the keys of v1 cgroups on hybrid hosts. Kernfs ids are
 * (generation << 32) | inode with generations starting at 1: bit 63 is not
 * reached by a real id. */
#define CGIO_V1_KEY_BIT (1ULL << 63)

enum cgio_v1_class {
	/* Created after the exporter's last look: counted as v1 until
	 * classified (the window is the ring buffer's latency). */
	CGIO_V1_PENDING = 1,
	/* A recognised workload (Slurm job, container, pod, custom pattern) or
	 * a cgroup below one. */
	CGIO_V1_UNIT = 2,
};

#endif
