/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps, configuration and counting helpers shared by every cgio BPF object.
 *
 * The exporter creates the maps itself and hands the same map to every
 * object (bpf_map__reuse_fd), so an operation counted by a tracepoint
 * program and another counted by a fentry program land in one value. The
 * declarations below only give each object the map's shape.
 */
#ifndef CGIO_COMMON_BPF_H
#define CGIO_COMMON_BPF_H

#include "cgio_kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "contracts/cgroup_keys.h"
#include "contracts/common.h"

#define CGIO_EEXIST 17
#define CGIO_E2BIG 7
#define CGIO_ENOMEM 12
#define CGIO_EBUSY 16

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct cgio_config cgio_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CGIO_LOST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} cgio_map_full SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgio_generation SEC(".maps");

/* Whether this object's programs are the counting generation
 * (contracts/common.h). An array lookup the verifier inlines. */
static __always_inline bool cgio_active(void)
{
	__u32 key = CGIO_GENERATION_KEY;
	__u32 *active = bpf_map_lookup_elem(&cgio_generation, &key);

	return active && *active == cgio_cfg.generation;
}

/*
 * Counters are per-CPU, so no other CPU writes the same word. Programs that
 * run with preemption disabled (tracepoints, raw and BTF tracepoints,
 * kprobes) can use a plain add. fentry/fexit trampolines only disable
 * migration, so on a preemptible kernel another task on the same CPU can run
 * the same program between our load and store: those objects define
 * CGIO_PREEMPTIBLE and pay for an (uncontended) atomic add.
 */
static __always_inline void cgio_add(__u64 *slot, __u64 delta)
{
#ifdef CGIO_PREEMPTIBLE
	__sync_fetch_and_add(slot, delta);
#else
	*slot += delta;
#endif
}

static __always_inline void cgio_count_lost_update(__u32 map_id, int err)
{
	__u32 reason = err == -CGIO_E2BIG    ? CGIO_LOST_FULL
		       : err == -CGIO_ENOMEM ? CGIO_LOST_NOMEM
		       : err == -CGIO_EBUSY  ? CGIO_LOST_BUSY
					     : CGIO_LOST_OTHER;
	__u32 slot = map_id * CGIO_LOST_MAX + reason;
	__u64 *lost = bpf_map_lookup_elem(&cgio_map_full, &slot);

	if (lost)
		cgio_add(lost, 1);
}

/*
 * Hybrid hosts: the v1 cgroups whose tasks are charged to v1
 * (contracts/cgroup_keys.h). Created by the exporter.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* the exporter's map replaces this one */
	__type(key, __u64);
	__type(value, __u32);
} cgio_v1_units SEC(".maps");

/* The id of the cgroup of css_set `cset` in the hierarchy of the v1
 * controller cgio_cfg.v1_subsys_id (CO-RE reads). */
static __always_inline __u64 cgio_cset_v1_cgroup_id(struct css_set *cset)
{
	struct cgroup_subsys_state *css = NULL;

	bpf_probe_read_kernel(&css, sizeof(css), &cset->subsys[cgio_cfg.v1_subsys_id & 31]);
	return BPF_CORE_READ(css, cgroup, kn, id);
}

/* cgroup v1 and hybrid hosts: whether a task in v1 cgroup `v1` is charged to
 * it (always on v1 hosts, while it is in cgio_v1_units on hybrid ones); the
 * key is then in *key. Else the caller charges the task's cgroup2 cgroup. */
static __always_inline bool cgio_charged_to_v1(__u64 v1, __u64 *key)
{
	if (cgio_cfg.cgroup_keys == CGIO_KEYS_V1) {
		*key = v1;
		return true;
	}
	if (!bpf_map_lookup_elem(&cgio_v1_units, &v1))
		return false;
	*key = v1 | CGIO_V1_KEY_BIT;
	return true;
}

/*
 * The key `task`'s I/O is charged to (contracts/cgroup_keys.h): its cgroup2
 * id; on cgroup v1 hosts its v1 cgroup's id; on hybrid hosts its v1 cgroup's
 * id, tagged, when that cgroup is in cgio_v1_units, else its cgroup2 id.
 * CO-RE reads: `task` may be any task (the submitter of an io_uring
 * request), not only current.
 */
static __always_inline __u64 cgio_task_cgroup_id(struct task_struct *task)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	__u64 key;

	if (cgio_cfg.cgroup_keys != CGIO_KEYS_V2 &&
	    cgio_charged_to_v1(cgio_cset_v1_cgroup_id(cset), &key))
		return key;
	return BPF_CORE_READ(cset, dfl_cgrp, kn, id);
}

/*
 * CGIO_TASK_BTF: the object only loads where bpf_get_current_task_btf()
 * (5.11) exists, so the task can be read with plain (BTF) loads.
 *
 * The key the current task's I/O is charged to (see cgio_task_cgroup_id).
 */
static __always_inline __u64 cgio_current_cgroup_id(void)
{
	__u64 key;
#ifdef CGIO_TASK_BTF
	/* Plain loads: this runs for every event, and probe reads cost about
	 * 70 ns each on our VMs. The subsys index is a constant to the verifier
	 * (.rodata is frozen before load). The cgroup2 id is what
	 * bpf_get_current_cgroup_id() returns, without the helper call. */
	struct css_set *cset = bpf_get_current_task_btf()->cgroups;

	if (cgio_cfg.cgroup_keys != CGIO_KEYS_V2 &&
	    cgio_charged_to_v1(cset->subsys[cgio_cfg.v1_subsys_id & 31]->cgroup->kn->id, &key))
		return key;
	return cset->dfl_cgrp->kn->id;
#else
	if (cgio_cfg.cgroup_keys != CGIO_KEYS_V2) {
		/* Only here: on cgroup2 hosts the helper below is the whole cost. */
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		if (cgio_charged_to_v1(cgio_cset_v1_cgroup_id(BPF_CORE_READ(task, cgroups)), &key))
			return key;
	}
	return bpf_get_current_cgroup_id();
#endif
}

/*
 * Returns this CPU's value for `key` in `map`, inserting a zeroed value
 * first if there is none. When the insert fails the update is lost: it is
 * counted in cgio_map_full, never dropped silently. `zero` must point to a
 * zeroed value of the map's value size.
 *
 * NULL too when another generation counts (cgio_active); objects that
 * define CGIO_GATE_AT_ENTRY decide that at the entry probe instead.
 */
static __always_inline void *cgio_value(void *map, const void *key, const void *zero, __u32 map_id)
{
	void *value;
	int err;

#ifndef CGIO_GATE_AT_ENTRY
	if (!cgio_active())
		return NULL;
#endif
	value = bpf_map_lookup_elem(map, key);
	if (value)
		return value;
	/*
	 * Compared as an int: the verifier may turn the helper into a direct
	 * call of the map's int-returning update op, and on 6.1 fentry programs
	 * were seen getting -E2BIG zero-extended (0x00000000fffffff9) in the
	 * 64-bit result.
	 */
	err = (int)bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	if (err && err != -CGIO_EEXIST) {
		cgio_count_lost_update(map_id, err);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

/* Returns this CPU's value for the current task's cgroup in `map` (see
 * cgio_value). */
static __always_inline void *cgio_cgroup_value(void *map, const void *zero, __u32 map_id)
{
	__u64 cgroup_id = cgio_current_cgroup_id();

	return cgio_value(map, &cgroup_id, zero, map_id);
}

#endif
