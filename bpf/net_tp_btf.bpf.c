// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP/UDP counting from the sock_send_length / sock_recv_length tracepoints
 * (6.3+), attached as BTF tracepoints. They fire in sock_sendmsg_nosec and
 * sock_recvmsg_nosec, in the context of the task doing the I/O, with the
 * socket, the result and the call's flags: every send/recv path of every
 * socket family (send*, recv*, write/read on a socket, sendmmsg and
 * recvmmsg per message, splice and sendfile to a socket since 6.5).
 *
 * A receive with MSG_PEEK leaves the data queued for the read that follows:
 * not a receive. A chunk of a sendfile/splice (MSG_SPLICE_PAGES) adds its
 * bytes; the call is counted once at the syscall's exit (net_transfer).
 */
#define CGIO_ARG_SOCK_BTF /* the struct sock arguments are BTF pointers */
#define CGIO_TASK_BTF	  /* 6.3+: bpf_get_current_task_btf() exists */
#include "cgio_net.bpf.h"
#include "cgio_syscall.bpf.h"

SEC("tp_btf/sock_send_length")
int BPF_PROG(cgio_sock_send, struct sock *sk, int ret, int flags)
{
	cgio_count_net_add(sk, ret, CGIO_SEND, CGIO_ANY_FAMILY,
			   (flags & CGIO_MSG_SPLICE_PAGES) ? CGIO_NET_BYTES_ONLY
							   : CGIO_NET_CALL_AND_BYTES);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(cgio_sock_recv, struct sock *sk, int ret, int flags)
{
	if (!(flags & CGIO_MSG_PEEK))
		cgio_count_net(sk, ret, CGIO_RECEIVE, CGIO_ANY_FAMILY);
	return 0;
}

/* net_transfer: sendfile(out_fd, in_fd, ...), splice(fd_in, off_in, fd_out, ...). */
SEC("tracepoint/syscalls/sys_exit_sendfile64")
int cgio_net_sendfile64(struct cgio_sys_exit *ctx)
{
	struct pt_regs *regs = cgio_user_regs();

	cgio_count_transfer_net(CGIO_SYSCALL_ARG2(regs), CGIO_SYSCALL_ARG1(regs), ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_splice")
int cgio_net_splice(struct cgio_sys_exit *ctx)
{
	struct pt_regs *regs = cgio_user_regs();

	cgio_count_transfer_net(CGIO_SYSCALL_ARG1(regs), CGIO_SYSCALL_ARG3(regs), ctx->ret);
	return 0;
}
