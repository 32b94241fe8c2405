// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP/UDP counting with fexit trampolines on the protocols' sendmsg and
 * recvmsg (and sendpage, before 6.5 removed it): the cheapest hooks where
 * the kernel allows trampolines. The return value is what was transferred.
 *
 * fexit reads the return value after the function's arguments, so a program
 * declared with the wrong number of arguments would read an argument as the
 * result. The recvmsg prototypes changed twice; each shape has its own
 * program, and the exporter loads the one whose arity the running kernel's
 * BTF confirms.
 *
 * Calls, not chunks: a sendfile or splice to a socket reaches sendpage
 * (before 6.5) or sendmsg with MSG_SPLICE_PAGES once per chunk; those add
 * bytes, and the call is counted at the syscall's exit (net_transfer). A
 * receive with MSG_PEEK is not a receive.
 */
#define CGIO_PREEMPTIBLE  /* trampolines only disable migration */
#define CGIO_ARG_SOCK_BTF /* the struct sock arguments are BTF pointers */
#include "cgio_net.bpf.h"
#include "cgio_syscall.bpf.h"

SEC("fexit/tcp_sendmsg")
int BPF_PROG(cgio_fx_tcp_send, struct sock *sk, struct msghdr *msg, __u64 size, int ret)
{
	cgio_count_net_add(sk, ret, CGIO_SEND, CGIO_ANY_FAMILY,
			   (msg->msg_flags & CGIO_MSG_SPLICE_PAGES) ? CGIO_NET_BYTES_ONLY
								    : CGIO_NET_CALL_AND_BYTES);
	return 0;
}

SEC("fexit/udp_sendmsg")
int BPF_PROG(cgio_fx_udp_send, struct sock *sk, struct msghdr *msg, __u64 len, int ret)
{
	cgio_count_net_add(sk, ret, CGIO_SEND, CGIO_AF_INET,
			   (msg->msg_flags & CGIO_MSG_SPLICE_PAGES) ? CGIO_NET_BYTES_ONLY
								    : CGIO_NET_CALL_AND_BYTES);
	return 0;
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(cgio_fx_udp6_send, struct sock *sk, struct msghdr *msg, __u64 len, int ret)
{
	cgio_count_net_add(sk, ret, CGIO_SEND, CGIO_ANY_FAMILY,
			   (msg->msg_flags & CGIO_MSG_SPLICE_PAGES) ? CGIO_NET_BYTES_ONLY
								    : CGIO_NET_CALL_AND_BYTES);
	return 0;
}

/* Before 6.5: sendfile/splice to a socket arrive through sendpage. */
SEC("fexit/tcp_sendpage")
int BPF_PROG(cgio_fx_tcp_page, struct sock *sk, void *page, int offset, __u64 size, int flags,
	     int ret)
{
	cgio_count_net_add(sk, ret, CGIO_SEND, CGIO_ANY_FAMILY, CGIO_NET_BYTES_ONLY);
	return 0;
}

SEC("fexit/udp_sendpage")
int BPF_PROG(cgio_fx_udp_page, struct sock *sk, void *page, int offset, __u64 size, int flags,
	     int ret)
{
	cgio_count_net_add(sk, ret, CGIO_SEND, CGIO_ANY_FAMILY, CGIO_NET_BYTES_ONLY);
	return 0;
}

/* recvmsg(sk, msg, len, noblock, flags, addr_len): before 5.19. */
#define CGIO_RECV_NOBLOCK(fn, name)                                                                \
	SEC("fexit/" #fn)                                                                          \
	int BPF_PROG(name, struct sock *sk, void *msg, __u64 len, int noblock, int flags,          \
		     void *addr_len, int ret)                                                      \
	{                                                                                          \
		if (!(flags & CGIO_MSG_PEEK))                                                      \
			cgio_count_net(sk, ret, CGIO_RECEIVE, CGIO_ANY_FAMILY);                    \
		return 0;                                                                          \
	}

/* recvmsg(sk, msg, len, flags, addr_len): 5.19 removed noblock. */
#define CGIO_RECV_ADDR_LEN(fn, name)                                                               \
	SEC("fexit/" #fn)                                                                          \
	int BPF_PROG(name, struct sock *sk, void *msg, __u64 len, int flags, void *addr_len,       \
		     int ret)                                                                      \
	{                                                                                          \
		if (!(flags & CGIO_MSG_PEEK))                                                      \
			cgio_count_net(sk, ret, CGIO_RECEIVE, CGIO_ANY_FAMILY);                    \
		return 0;                                                                          \
	}

/* recvmsg(sk, msg, len, flags): addr_len removed later (6.18 has this form). */
#define CGIO_RECV_FLAGS(fn, name)                                                                  \
	SEC("fexit/" #fn)                                                                          \
	int BPF_PROG(name, struct sock *sk, void *msg, __u64 len, int flags, int ret)              \
	{                                                                                          \
		if (!(flags & CGIO_MSG_PEEK))                                                      \
			cgio_count_net(sk, ret, CGIO_RECEIVE, CGIO_ANY_FAMILY);                    \
		return 0;                                                                          \
	}

CGIO_RECV_NOBLOCK(tcp_recvmsg, cgio_fx_tcp_recv6)
CGIO_RECV_NOBLOCK(udp_recvmsg, cgio_fx_udp_recv6)
CGIO_RECV_NOBLOCK(udpv6_recvmsg, cgio_fx_udp6_recv6)
CGIO_RECV_ADDR_LEN(tcp_recvmsg, cgio_fx_tcp_recv5)
CGIO_RECV_ADDR_LEN(udp_recvmsg, cgio_fx_udp_recv5)
CGIO_RECV_ADDR_LEN(udpv6_recvmsg, cgio_fx_udp6_recv5)
CGIO_RECV_FLAGS(tcp_recvmsg, cgio_fx_tcp_recv4)
CGIO_RECV_FLAGS(udp_recvmsg, cgio_fx_udp_recv4)
CGIO_RECV_FLAGS(udpv6_recvmsg, cgio_fx_udp6_recv4)

/* net_transfer: sendfile(out_fd, in_fd, ...), splice(fd_in, off_in, fd_out, ...),
 * at the syscall wrappers (see vfs_fentry.bpf.c). */
SEC("fexit/" CGIO_SYSCALL_FN(sendfile64))
int BPF_PROG(cgio_fx_net_sendfile64, struct pt_regs *regs, long ret)
{
	cgio_count_transfer_net(CGIO_SYSCALL_ARG2(regs), CGIO_SYSCALL_ARG1(regs), ret);
	return 0;
}

SEC("fexit/" CGIO_SYSCALL_FN(splice))
int BPF_PROG(cgio_fx_net_splice, struct pt_regs *regs, long ret)
{
	cgio_count_transfer_net(CGIO_SYSCALL_ARG1(regs), CGIO_SYSCALL_ARG3(regs), ret);
	return 0;
}
