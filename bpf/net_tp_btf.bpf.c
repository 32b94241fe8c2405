// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP/UDP counting from the sock_send_length / sock_recv_length tracepoints
 * (6.3+), attached as BTF tracepoints. They fire in sock_sendmsg_nosec and
 * sock_recvmsg_nosec, in the context of the task doing the I/O, with the
 * socket and the result: every send/recv path of every socket family
 * (send*, recv*, write/read on a socket, sendmmsg per message, splice to a
 * socket since 6.5).
 */
#define CGIO_ARG_SOCK_BTF /* the struct sock arguments are BTF pointers */
#define CGIO_TASK_BTF	  /* 6.3+: bpf_get_current_task_btf() exists */
#include "cgio_net.bpf.h"

SEC("tp_btf/sock_send_length")
int BPF_PROG(cgio_sock_send, struct sock *sk, int ret, int flags)
{
	cgio_count_net(sk, ret, CGIO_SEND, CGIO_ANY_FAMILY);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(cgio_sock_recv, struct sock *sk, int ret, int flags)
{
	cgio_count_net(sk, ret, CGIO_RECEIVE, CGIO_ANY_FAMILY);
	return 0;
}
