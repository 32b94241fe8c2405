// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Bench only: the same count (calls and bytes of pwrite64 per cgroup) kept
 * three ways, to measure what cgio's per-CPU values buy when two CPUs of
 * one cgroup write at once (tests/bench/concurrency.cpp):
 *  percpu        a per-CPU hash and plain adds (what cgio ships);
 *  shared_atomic one value shared by all CPUs, atomic adds;
 *  shared_plain  one shared value, plain adds: loses updates when two CPUs
 *                add at once, which the bench counts.
 * One program is attached at a time.
 */
#include "cgio_kernel.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct choice_value {
	__u64 calls;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct choice_value);
} percpu_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct choice_value);
} shared_counts SEC(".maps");

/* tracepoint/syscalls/sys_exit_*: the format file of any sys_exit event. */
struct sys_exit_ctx {
	__u64 common;
	int nr;
	long ret;
};

static __always_inline struct choice_value *value_of(void *map)
{
	static const struct choice_value zero;
	__u64 id = bpf_get_current_cgroup_id();
	struct choice_value *v = bpf_map_lookup_elem(map, &id);

	if (v)
		return v;
	bpf_map_update_elem(map, &id, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, &id);
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int percpu(struct sys_exit_ctx *ctx)
{
	struct choice_value *v = value_of(&percpu_counts);

	if (v && ctx->ret > 0) {
		v->calls += 1;
		v->bytes += ctx->ret;
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int shared_atomic(struct sys_exit_ctx *ctx)
{
	struct choice_value *v = value_of(&shared_counts);

	if (v && ctx->ret > 0) {
		__sync_fetch_and_add(&v->calls, 1);
		__sync_fetch_and_add(&v->bytes, ctx->ret);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int shared_plain(struct sys_exit_ctx *ctx)
{
	struct choice_value *v = value_of(&shared_counts);

	if (v && ctx->ret > 0) {
		/* volatile: keep the compiler from merging anything; the race is
		 * the point. */
		*(volatile __u64 *)&v->calls = v->calls + 1;
		*(volatile __u64 *)&v->bytes = v->bytes + ctx->ret;
	}
	return 0;
}
