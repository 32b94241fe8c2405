// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup creation, removal and renaming, as records in a ring buffer for
 * the exporter (contracts/cgroup_events.h). Removal is what matters: the
 * exporter folds the cgroup's final counters into its unit and deletes its
 * map entries as soon as the cgroup is gone, even for a job that lived
 * 100 ms between two scrapes. A record that does not fit in the ring is
 * counted; the exporter then reconciles by walking the hierarchy.
 */
#include "cgio_common.bpf.h"
#include "contracts/cgroup_events.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* the exporter's ring replaces this one */
} cgio_cgroup_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cgio_events_lost SEC(".maps");

static __always_inline void cgio_emit(struct cgroup *cgrp, const char *path, __u32 kind)
{
	struct cgio_cgroup_event *e = bpf_ringbuf_reserve(&cgio_cgroup_events, sizeof(*e), 0);
	struct task_struct *task;
	long len;

	if (!e) {
		__u32 zero = CGIO_EVENTS_LOST;
		__u64 *lost = bpf_map_lookup_elem(&cgio_events_lost, &zero);

		if (lost)
			*lost += 1;
		return;
	}
	e->id = BPF_CORE_READ(cgrp, kn, id);
	e->hierarchy_id = BPF_CORE_READ(cgrp, root, hierarchy_id);
	e->kind = kind;
	task = (struct task_struct *)bpf_get_current_task();
	e->init_cgroup_ns =
		BPF_CORE_READ(task, nsproxy, cgroup_ns, ns.inum) == cgio_cfg.init_cgroupns_inum;
	len = bpf_probe_read_kernel_str(e->path, sizeof(e->path), path);
	e->path_len = len > 0 ? len - 1 : 0;
	bpf_ringbuf_submit(e, 0);
}

/*
 * Hybrid hosts (contracts/cgroup_keys.h): a cgroup created in the v1
 * hierarchy is charged as v1 from its first event on, as a unit below a
 * unit, else pending until the exporter has classified its path; before
 * any task can enter it, so none of a new job's I/O goes to cgroup2.
 */
static __always_inline bool cgio_in_v1_hierarchy(struct cgroup *cgrp)
{
	return cgio_cfg.cgroup_keys == CGIO_KEYS_HYBRID &&
	       BPF_CORE_READ(cgrp, root, hierarchy_id) == cgio_cfg.v1_hierarchy_id;
}

static __always_inline void cgio_v1_created(struct cgroup *cgrp)
{
	__u64 id = BPF_CORE_READ(cgrp, kn, id);
	__u64 parent = BPF_CORE_READ(cgrp, self.parent, cgroup, kn, id);
	__u32 class = CGIO_V1_PENDING;
	__u32 *parent_class = bpf_map_lookup_elem(&cgio_v1_units, &parent);
	int err;

	if (parent_class && *parent_class == CGIO_V1_UNIT)
		class = CGIO_V1_UNIT;
	err = (int)bpf_map_update_elem(&cgio_v1_units, &id, &class, BPF_NOEXIST);
	if (err && err != -CGIO_EEXIST)
		cgio_count_lost_update(CGIO_MAP_V1_UNITS, err);
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cgio_cg_mkdir, struct cgroup *cgrp, const char *path)
{
	if (cgio_in_v1_hierarchy(cgrp))
		cgio_v1_created(cgrp);
	cgio_emit(cgrp, path, CGIO_CGROUP_MKDIR);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgio_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	if (cgio_in_v1_hierarchy(cgrp)) {
		__u64 id = BPF_CORE_READ(cgrp, kn, id);

		bpf_map_delete_elem(&cgio_v1_units, &id);
	}
	cgio_emit(cgrp, path, CGIO_CGROUP_RMDIR);
	return 0;
}

SEC("tp_btf/cgroup_rename")
int BPF_PROG(cgio_cg_rename, struct cgroup *cgrp, const char *path)
{
	cgio_emit(cgrp, path, CGIO_CGROUP_RENAME);
	return 0;
}
