/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Linux AIO (libaio): the completions a task reaps with io_getevents or
 * io_pgetevents, shared by every probe type's exit hook of those syscalls.
 *
 * AIO reads and writes never pass through the read/write family (aio_read
 * and aio_write call the file's ->read_iter/->write_iter), and the kernel
 * has no AIO tracepoint. The completions are what the syscall copied out:
 * an array of struct io_event whose `obj` is the user's iocb (opcode and
 * fd) and whose `res` is the bytes moved or -errno, which is exact whether
 * the request completed inline or later from an interrupt. The reaper
 * shares the submitter's mm (an AIO context belongs to one mm), so it is
 * the submitting process. Events a process takes from the ring in user
 * space, without the syscall, are not seen (README: what cgio cannot see).
 *
 * The loop is bpf_loop (5.17+), verified once whatever the number of events.
 */
#ifndef CGIO_AIO_BPF_H
#define CGIO_AIO_BPF_H

#include "cgio_vfs.bpf.h"

/* include/uapi/linux/aio_abi.h, little-endian layout (UAPI: fixed). Plain
 * structs read from user memory, not kernel types: no CO-RE. */
#define CGIO_IOCB_CMD_PREAD 0
#define CGIO_IOCB_CMD_PWRITE 1
#define CGIO_IOCB_CMD_PREADV 7
#define CGIO_IOCB_CMD_PWRITEV 8
#define CGIO_IOCB_OPCODE_OFFSET 16 /* __u16 aio_lio_opcode, __s16 aio_reqprio, __u32 aio_fildes */

struct cgio_io_event {
	__u64 data;
	__u64 obj;
	__s64 res;
	__s64 res2;
};

struct cgio_iocb_head {
	__u16 opcode;
	__s16 reqprio;
	__u32 fd;
};

/*
 * The loop's state. Both caches are only ever a shortcut: a kernel whose
 * verifier simulated the callback once (before 6.7) may hard-wire their
 * branches to the "not cached yet" side, which is slower but counts the
 * same.
 */
struct cgio_aio_scan {
	const struct cgio_io_event *events;
	__u64 cgroup_id;
	struct cgio_vfs_value *value; /* the reaper's counters, once looked up */
	struct file *file;	      /* the file behind `fd`, when it is counted */
	__s64 fd;		      /* -1: none looked up yet */
};

static long cgio_aio_event(__u32 i, void *ctx)
{
	static const struct cgio_vfs_value zero;
	struct cgio_aio_scan *s = ctx;
	struct cgio_io_event ev;
	struct cgio_iocb_head iocb;
	int base;

	if (bpf_probe_read_user(&ev, sizeof(ev), &s->events[i]))
		return 1;
	if (bpf_probe_read_user(&iocb, sizeof(iocb), (const void *)(ev.obj + CGIO_IOCB_OPCODE_OFFSET)))
		return 0;
	if (iocb.opcode == CGIO_IOCB_CMD_PREAD || iocb.opcode == CGIO_IOCB_CMD_PREADV)
		base = CGIO_VFS_READS;
	else if (iocb.opcode == CGIO_IOCB_CMD_PWRITE || iocb.opcode == CGIO_IOCB_CMD_PWRITEV)
		base = CGIO_VFS_WRITES;
	else
		return 0;
	/* One submitter usually works on one file: look it up once. */
	if (iocb.fd != s->fd) {
		s->fd = iocb.fd;
		s->file = cgio_fd_file(iocb.fd);
		if (!cgio_counted_file_as(s->file, CGIO_FD_FILE_BTF))
			s->file = NULL;
	}
	if (!s->file)
		return 0;
	if (!s->value) {
		s->value = cgio_value(&cgio_vfs, &s->cgroup_id, &zero, CGIO_MAP_VFS);
		if (!s->value)
			return 0; /* a lost update, counted by cgio_value */
	}
	cgio_add_rw(s->value->counter, ev.res, base);
	if (cgio_cfg.mountpoints)
		cgio_count_rw_by_mount(s->file, s->cgroup_id, ev.res, base);
	return 0;
}

/* io_getevents/io_pgetevents copied `n` events to `events`. */
static __always_inline void cgio_count_aio_events(const void *events, long n)
{
	struct cgio_aio_scan scan = {.events = events, .fd = -1};

	if (n <= 0)
		return;
	scan.cgroup_id = cgio_current_cgroup_id();
	bpf_loop(n, cgio_aio_event, &scan, 0);
}

#endif
