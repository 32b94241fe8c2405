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

/* Where a record is put together before it goes into the ring at its size. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgio_cgroup_event);
} cgio_cg_scratch SEC(".maps");

static __always_inline void cgio_emit(struct cgroup *cgrp, const char *path, __u32 kind)
{
	__u32 zero = 0;
	struct cgio_cgroup_event *e = bpf_map_lookup_elem(&cgio_cg_scratch, &zero);
	struct task_struct *task;
	__u32 path_len, name_len, size;
	long len;

	if (!e)
		return;
	e->id = BPF_CORE_READ(cgrp, kn, id);
	e->parent_id = BPF_CORE_READ(cgrp, self.parent, cgroup, kn, id);
	e->time_ns = bpf_ktime_get_boot_ns();
	e->hierarchy_id = BPF_CORE_READ(cgrp, root, hierarchy_id);
	e->kind = kind;
	task = (struct task_struct *)bpf_get_current_task();
	e->init_cgroup_ns =
		BPF_CORE_READ(task, nsproxy, cgroup_ns, ns.inum) == cgio_cfg.init_cgroupns_inum;
	len = bpf_probe_read_kernel_str(e->data, CGIO_CGROUP_PATH_MAX, path);
	path_len = len > 0 ? (__u32)len - 1 : 0;
	path_len &= CGIO_CGROUP_PATH_MAX - 1; /* at most 1023: what the verifier can see */
	len = bpf_probe_read_kernel_str(e->data + path_len, CGIO_CGROUP_NAME_MAX,
					BPF_CORE_READ(cgrp, kn, name));
	name_len = len > 0 ? (__u32)len - 1 : 0;
	e->path_len = path_len;
	e->name_len = name_len;
	size = offsetof(struct cgio_cgroup_event, data) + path_len + name_len;
	if (size > sizeof(*e))
		return;
	if (bpf_ringbuf_output(&cgio_cgroup_events, e, size, 0)) {
		__u32 slot = CGIO_EVENTS_LOST;
		__u64 *lost = bpf_map_lookup_elem(&cgio_events_lost, &slot);

		if (lost)
			*lost += 1;
	}
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
	if (!cgio_active()) /* one generation reports each event (contracts/common.h) */
		return 0;
	if (cgio_in_v1_hierarchy(cgrp))
		cgio_v1_created(cgrp);
	cgio_emit(cgrp, path, CGIO_CGROUP_MKDIR);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgio_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	if (!cgio_active())
		return 0;
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
	if (!cgio_active())
		return 0;
	cgio_emit(cgrp, path, CGIO_CGROUP_RENAME);
	return 0;
}
