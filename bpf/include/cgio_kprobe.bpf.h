/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Entry arguments carried from a kprobe to its kretprobe. A kretprobe only
 * sees the return value, and the bytes counted are always that return
 * value, never the size requested at entry; what the return needs from the
 * entry (the file, the socket, the open flags) is kept per thread and
 * function here.
 *
 * LRU, so an entry whose return was never seen (a kretprobe miss) cannot
 * pin a slot forever. 16384 calls in flight at once is far beyond what a
 * node has blocked inside these functions.
 */
#ifndef CGIO_KPROBE_BPF_H
#define CGIO_KPROBE_BPF_H

#include "cgio_common.bpf.h"
#include "cgio_syscall.bpf.h"

struct cgio_args_key {
	__u64 pid_tgid;
	__u64 function;
};

/* The argument, and one more word where the return needs it (recv flags). */
struct cgio_args {
	__u64 arg;
	__u64 extra;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cgio_args_key);
	__type(value, struct cgio_args);
} cgio_kprobe_args SEC(".maps");

#ifndef CGIO_GATE_AT_ENTRY
#error "kprobe objects define CGIO_GATE_AT_ENTRY before any include"
#endif

/* Only the counting generation keeps arguments (contracts/common.h): the
 * kretprobe of a call counts exactly when its entry was kept, even if the
 * generation switched while the call ran. */
static __always_inline void cgio_stash2(__u64 function, __u64 arg, __u64 extra)
{
	struct cgio_args_key key = {bpf_get_current_pid_tgid(), function};
	struct cgio_args value = {arg, extra};

	if (!cgio_active())
		return;
	bpf_map_update_elem(&cgio_kprobe_args, &key, &value, BPF_ANY);
}

static __always_inline void cgio_stash(__u64 function, __u64 arg)
{
	cgio_stash2(function, arg, 0);
}

/* The stashed argument (0 when none) and its extra word, removed from the
 * map. */
static __always_inline __u64 cgio_take2(__u64 function, __u64 *extra)
{
	struct cgio_args_key key = {bpf_get_current_pid_tgid(), function};
	struct cgio_args *args = bpf_map_lookup_elem(&cgio_kprobe_args, &key);
	__u64 value;

	*extra = 0;
	if (!args)
		return 0;
	value = args->arg;
	*extra = args->extra;
	bpf_map_delete_elem(&cgio_kprobe_args, &key);
	return value;
}

static __always_inline __u64 cgio_take(__u64 function)
{
	__u64 extra;

	return cgio_take2(function, &extra);
}

/*
 * A kprobe/kretprobe pair on a syscall's wrapper (CGIO_SYSCALL_FN). The
 * wrapper's one argument is the saved user registers: the entry keeps it,
 * and the return runs `count`, which reads the syscall's arguments from
 * `regs` and its result from `ret`.
 */
#define CGIO_SYSCALL_KPROBE(fn, id, entry, exit, count)                                            \
	SEC("kprobe/" CGIO_SYSCALL_FN(fn))                                                         \
	int BPF_KPROBE(entry, struct pt_regs *regs)                                                \
	{                                                                                          \
		cgio_stash(id, (__u64)regs);                                                       \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" CGIO_SYSCALL_FN(fn))                                                      \
	int BPF_KRETPROBE(exit, long ret)                                                          \
	{                                                                                          \
		struct pt_regs *regs = (struct pt_regs *)cgio_take(id);                            \
		if (regs)                                                                          \
			count;                                                                     \
		return 0;                                                                          \
	}

#endif
