// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP/UDP counting with kprobes and kretprobes on the functions the fentry
 * type uses (see net_fentry.bpf.c). Only the socket (first argument) is read
 * at entry, so the recvmsg prototype changes do not matter here.
 */
#include "cgio_kprobe.bpf.h"
#include "cgio_net.bpf.h"

enum {
	CGIO_FN_TCP_SEND = 1,
	CGIO_FN_UDP_SEND,
	CGIO_FN_UDP6_SEND,
	CGIO_FN_TCP_PAGE,
	CGIO_FN_UDP_PAGE,
	CGIO_FN_TCP_RECV,
	CGIO_FN_UDP_RECV,
	CGIO_FN_UDP6_RECV,
};

#define CGIO_SOCK_KPROBE(fn, id, entry, exit, direction, family)                                   \
	SEC("kprobe/" #fn)                                                                         \
	int BPF_KPROBE(entry, struct sock *sk)                                                     \
	{                                                                                          \
		cgio_stash(id, (__u64)sk);                                                         \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #fn)                                                                      \
	int BPF_KRETPROBE(exit, long ret)                                                          \
	{                                                                                          \
		struct sock *sk = (struct sock *)cgio_take(id);                                    \
		if (sk)                                                                            \
			cgio_count_net(sk, (int)ret, direction, family);                           \
		return 0;                                                                          \
	}

CGIO_SOCK_KPROBE(tcp_sendmsg, CGIO_FN_TCP_SEND, cgio_kp_tcp_send, cgio_kr_tcp_send, CGIO_SEND,
		 CGIO_ANY_FAMILY)
/* udpv6_sendmsg passes IPv4-mapped destinations to udp_sendmsg: count
 * AF_INET sockets only there, or such a send counts twice. */
CGIO_SOCK_KPROBE(udp_sendmsg, CGIO_FN_UDP_SEND, cgio_kp_udp_send, cgio_kr_udp_send, CGIO_SEND,
		 CGIO_AF_INET)
CGIO_SOCK_KPROBE(udpv6_sendmsg, CGIO_FN_UDP6_SEND, cgio_kp_udp6_send, cgio_kr_udp6_send, CGIO_SEND,
		 CGIO_ANY_FAMILY)
CGIO_SOCK_KPROBE(tcp_sendpage, CGIO_FN_TCP_PAGE, cgio_kp_tcp_page, cgio_kr_tcp_page, CGIO_SEND,
		 CGIO_ANY_FAMILY)
CGIO_SOCK_KPROBE(udp_sendpage, CGIO_FN_UDP_PAGE, cgio_kp_udp_page, cgio_kr_udp_page, CGIO_SEND,
		 CGIO_ANY_FAMILY)
CGIO_SOCK_KPROBE(tcp_recvmsg, CGIO_FN_TCP_RECV, cgio_kp_tcp_recv, cgio_kr_tcp_recv, CGIO_RECEIVE,
		 CGIO_ANY_FAMILY)
CGIO_SOCK_KPROBE(udp_recvmsg, CGIO_FN_UDP_RECV, cgio_kp_udp_recv, cgio_kr_udp_recv, CGIO_RECEIVE,
		 CGIO_ANY_FAMILY)
CGIO_SOCK_KPROBE(udpv6_recvmsg, CGIO_FN_UDP6_RECV, cgio_kp_udp6_recv, cgio_kr_udp6_recv,
		 CGIO_RECEIVE, CGIO_ANY_FAMILY)
