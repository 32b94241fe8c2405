// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * io_uring: reads, writes, opens, mkdir, unlink and rmdir submitted through
 * a ring, counted when the kernel posts their completion.
 *
 * io_uring calls the file's ->read_iter/->write_iter and the namei
 * functions below the syscalls, from the submitter, from SQPOLL and io-wq
 * kernel threads, or from task work after an interrupt; the syscall hooks
 * see none of it, and the function hooks would have to follow io_uring's
 * internals, which change in every release. Every request's result passes
 * one stable point: the io_uring_complete tracepoint (with the request since
 * 5.19), which gives the request and so its opcode, file and result. This
 * one program serves every probe type.
 *
 * Bytes are the completion's result; a negative result is an error. The
 * request is charged to the cgroup of the task that submitted it
 * (req->task before 6.13, req->tctx->task after), not to the thread the
 * completion runs on. A request flagged IOSQE_CQE_SKIP_SUCCESS posts no
 * completion when it succeeds and is not seen.
 */
#include "cgio_vfs.bpf.h"

/* include/uapi/linux/io_uring.h (UAPI numbers never change). */
#define CGIO_IORING_OP_READV 1
#define CGIO_IORING_OP_WRITEV 2
#define CGIO_IORING_OP_READ_FIXED 4
#define CGIO_IORING_OP_WRITE_FIXED 5
#define CGIO_IORING_OP_OPENAT 18
#define CGIO_IORING_OP_READ 22
#define CGIO_IORING_OP_WRITE 23
#define CGIO_IORING_OP_OPENAT2 28
#define CGIO_IORING_OP_UNLINKAT 36
#define CGIO_IORING_OP_MKDIRAT 37
#define CGIO_IORING_OP_READV_FIXED 60 /* 6.15 */
#define CGIO_IORING_OP_WRITEV_FIXED 61

static __always_inline struct task_struct *cgio_req_submitter(struct io_kiocb *req)
{
	if (bpf_core_field_exists(((struct io_kiocb___task *)0)->task))
		return BPF_CORE_READ((struct io_kiocb___task *)req, task);
	return BPF_CORE_READ(req, tctx, task);
}

static __always_inline struct cgio_vfs_value *cgio_req_value(__u64 cgroup_id)
{
	static const struct cgio_vfs_value zero;

	return cgio_value(&cgio_vfs, &cgroup_id, &zero, CGIO_MAP_VFS);
}

/* A metadata request: open (its flags and fixed-file slot live in the
 * request's command data, struct io_open), mkdir, unlink or rmdir (struct
 * io_unlink's AT_REMOVEDIR flag). */
static __always_inline void cgio_count_req_namei(struct io_kiocb *req, __u8 op, int res, __u64 cgroup_id)
{
	struct cgio_vfs_value *v;
	__u64 flags = 0;
	__u32 slot = 0;

	if (op == CGIO_IORING_OP_OPENAT || op == CGIO_IORING_OP_OPENAT2) {
		if (bpf_core_type_exists(struct io_open)) {
			flags = BPF_CORE_READ((struct io_open *)req, how.flags);
			slot = BPF_CORE_READ((struct io_open *)req, file_slot);
		}
		v = cgio_req_value(cgroup_id);
		if (v)
			cgio_count_open_in(v, res, flags, slot == 0);
		return;
	}
	v = cgio_req_value(cgroup_id);
	if (!v)
		return;
	if (op == CGIO_IORING_OP_MKDIRAT) {
		cgio_count_call_in(v, res, CGIO_VFS_MKDIRS);
		return;
	}
	if (bpf_core_type_exists(struct io_unlink))
		flags = BPF_CORE_READ((struct io_unlink *)req, flags);
	cgio_count_call_in(v, res, (flags & CGIO_AT_REMOVEDIR) ? CGIO_VFS_RMDIRS : CGIO_VFS_UNLINKS);
}

/* io_uring_complete(ctx, req, ...): the arguments after the request changed
 * (the result moved into a struct io_uring_cqe in 6.x); the result is read
 * from the request, where both shapes keep it. A completion posted without
 * a request (auxiliary and ring-to-ring messages) is not a file operation. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(cgio_io_uring_complete, void *ring, void *request)
{
	struct io_kiocb *req = request;
	struct task_struct *submitter;
	struct file *file;
	__u64 cgroup_id;
	int base, res;
	__u8 op;

	if (!req)
		return 0;
	op = BPF_CORE_READ(req, opcode);
	switch (op) {
	case CGIO_IORING_OP_READ:
	case CGIO_IORING_OP_READV:
	case CGIO_IORING_OP_READ_FIXED:
	case CGIO_IORING_OP_READV_FIXED:
		base = CGIO_VFS_READS;
		break;
	case CGIO_IORING_OP_WRITE:
	case CGIO_IORING_OP_WRITEV:
	case CGIO_IORING_OP_WRITE_FIXED:
	case CGIO_IORING_OP_WRITEV_FIXED:
		base = CGIO_VFS_WRITES;
		break;
	case CGIO_IORING_OP_OPENAT:
	case CGIO_IORING_OP_OPENAT2:
	case CGIO_IORING_OP_MKDIRAT:
	case CGIO_IORING_OP_UNLINKAT:
		base = -1;
		break;
	default:
		return 0;
	}
	res = BPF_CORE_READ(req, cqe.res);
	submitter = cgio_req_submitter(req);
	cgroup_id = submitter ? cgio_task_cgroup_id(submitter) : cgio_current_cgroup_id();
	if (base < 0) {
		cgio_count_req_namei(req, op, res, cgroup_id);
		return 0;
	}
	file = BPF_CORE_READ(req, file);
	if (cgio_counted_file_as(file, false))
		cgio_count_rw_in(file, cgroup_id, res, base);
	return 0;
}
