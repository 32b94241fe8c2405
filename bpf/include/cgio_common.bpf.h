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

#include "contracts/common.h"

#ifndef EEXIST
#define EEXIST 17
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct cgio_config cgio_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CGIO_MAP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} cgio_map_full SEC(".maps");

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

static __always_inline void cgio_count_lost_update(__u32 map_id)
{
	__u64 *lost = bpf_map_lookup_elem(&cgio_map_full, &map_id);

	if (lost)
		cgio_add(lost, 1);
}

/*
 * Returns this CPU's value for the current task's cgroup2 id in `map`,
 * inserting a zeroed value first if the cgroup has none yet. When the map is
 * full the update is lost: it is counted in cgio_map_full, never dropped
 * silently. `zero` must point to a zeroed value of the map's value size.
 */
static __always_inline void *cgio_cgroup_value(void *map, const void *zero, __u32 map_id)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	void *value = bpf_map_lookup_elem(map, &cgroup_id);
	long err;

	if (value)
		return value;
	err = bpf_map_update_elem(map, &cgroup_id, zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		cgio_count_lost_update(map_id);
		return NULL;
	}
	return bpf_map_lookup_elem(map, &cgroup_id);
}

#endif
