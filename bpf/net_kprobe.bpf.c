// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP/UDP counting with kprobes and kretprobes on the functions the fentry
 * type uses (see net_fentry.bpf.c, also for calls versus chunks and
 * MSG_PEEK). The entry keeps the socket and the flags the return needs: the
 * msghdr's flags of a send, the flags argument of a receive, whose position
 * changed in 5.19 (the noblock argument before it was removed), so each
 * receive has an entry program per shape and the exporter attaches the one
 * the running kernel's BTF confirms.
 */
/* Whether a call counts is decided where its arguments are kept
 * (cgio_kprobe.bpf.h); entry-less kretprobes check cgio_active(). */
#define CGIO_GATE_AT_ENTRY
#include "cgio_kprobe.bpf.h"
#include "cgio_net.bpf.h"
#include "cgio_syscall.bpf.h"

enum {
	CGIO_FN_TCP_SEND = 1,
	CGIO_FN_UDP_SEND,
	CGIO_FN_UDP6_SEND,
	CGIO_FN_TCP_PAGE,
	CGIO_FN_UDP_PAGE,
	CGIO_FN_TCP_RECV,
	CGIO_FN_UDP_RECV,
	CGIO_FN_UDP6_RECV,
	CGIO_FN_SENDFILE64,
	CGIO_FN_SPLICE,
};

/* sendmsg(sk, msg, size): a chunk of a splice carries MSG_SPLICE_PAGES. */
#define CGIO_SEND_KPROBE(fn, id, entry, exit, family)                                              \
	SEC("kprobe/" #fn)                                                                         \
	int BPF_KPROBE(entry, struct sock *sk, struct msghdr *msg)                                 \
	{                                                                                          \
		cgio_stash2(id, (__u64)sk, BPF_CORE_READ(msg, msg_flags));                         \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #fn)                                                                      \
	int BPF_KRETPROBE(exit, long ret)                                                          \
	{                                                                                          \
		__u64 flags;                                                                       \
		struct sock *sk = (struct sock *)cgio_take2(id, &flags);                           \
		if (sk)                                                                            \
			cgio_count_net_add(sk, (int)ret, CGIO_SEND, family,                        \
					   (flags & CGIO_MSG_SPLICE_PAGES)                         \
						   ? CGIO_NET_BYTES_ONLY                           \
						   : CGIO_NET_CALL_AND_BYTES);                     \
		return 0;                                                                          \
	}

/* sendpage (before 6.5): only ever a chunk of a sendfile/splice. */
#define CGIO_PAGE_KPROBE(fn, id, entry, exit)                                                      \
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
			cgio_count_net_add(sk, (int)ret, CGIO_SEND, CGIO_ANY_FAMILY,               \
					   CGIO_NET_BYTES_ONLY);                                   \
		return 0;                                                                          \
	}

/* recvmsg: the flags are argument 4 (5.19+) or 5 (noblock before them). */
#define CGIO_RECV_KPROBE(fn, id, entry, entry_noblock, exit)                                       \
	SEC("kprobe/" #fn)                                                                         \
	int BPF_KPROBE(entry, struct sock *sk, void *msg, __u64 len, int flags)                    \
	{                                                                                          \
		cgio_stash2(id, (__u64)sk, flags);                                                 \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kprobe/" #fn)                                                                         \
	int BPF_KPROBE(entry_noblock, struct sock *sk, void *msg, __u64 len, int noblock,          \
		       int flags)                                                                  \
	{                                                                                          \
		cgio_stash2(id, (__u64)sk, flags);                                                 \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #fn)                                                                      \
	int BPF_KRETPROBE(exit, long ret)                                                          \
	{                                                                                          \
		__u64 flags;                                                                       \
		struct sock *sk = (struct sock *)cgio_take2(id, &flags);                           \
		if (sk && !(flags & CGIO_MSG_PEEK))                                                \
			cgio_count_net(sk, (int)ret, CGIO_RECEIVE, CGIO_ANY_FAMILY);               \
		return 0;                                                                          \
	}

CGIO_SEND_KPROBE(tcp_sendmsg, CGIO_FN_TCP_SEND, cgio_kp_tcp_send, cgio_kr_tcp_send, CGIO_ANY_FAMILY)
/* udpv6_sendmsg passes IPv4-mapped destinations to udp_sendmsg: count
 * AF_INET sockets only there, or such a send counts twice. */
CGIO_SEND_KPROBE(udp_sendmsg, CGIO_FN_UDP_SEND, cgio_kp_udp_send, cgio_kr_udp_send, CGIO_AF_INET)
CGIO_SEND_KPROBE(udpv6_sendmsg, CGIO_FN_UDP6_SEND, cgio_kp_udp6_send, cgio_kr_udp6_send,
		 CGIO_ANY_FAMILY)
CGIO_PAGE_KPROBE(tcp_sendpage, CGIO_FN_TCP_PAGE, cgio_kp_tcp_page, cgio_kr_tcp_page)
CGIO_PAGE_KPROBE(udp_sendpage, CGIO_FN_UDP_PAGE, cgio_kp_udp_page, cgio_kr_udp_page)
CGIO_RECV_KPROBE(tcp_recvmsg, CGIO_FN_TCP_RECV, cgio_kp_tcp_recv, cgio_kp_tcp_recv_nb,
		 cgio_kr_tcp_recv)
CGIO_RECV_KPROBE(udp_recvmsg, CGIO_FN_UDP_RECV, cgio_kp_udp_recv, cgio_kp_udp_recv_nb,
		 cgio_kr_udp_recv)
CGIO_RECV_KPROBE(udpv6_recvmsg, CGIO_FN_UDP6_RECV, cgio_kp_udp6_recv, cgio_kp_udp6_recv_nb,
		 cgio_kr_udp6_recv)

/* net_transfer: kprobes on the syscall wrappers (CGIO_SYSCALL_KPROBE). */
CGIO_SYSCALL_KPROBE(sendfile64, CGIO_FN_SENDFILE64, cgio_kp_net_sendfile64, cgio_kr_net_sendfile64,
		    cgio_count_transfer_net(PT_REGS_PARM2_CORE_SYSCALL(regs),
					    PT_REGS_PARM1_CORE_SYSCALL(regs), ret))
CGIO_SYSCALL_KPROBE(splice, CGIO_FN_SPLICE, cgio_kp_net_splice, cgio_kr_net_splice,
		    cgio_count_transfer_net(PT_REGS_PARM1_CORE_SYSCALL(regs),
					    PT_REGS_PARM3_CORE_SYSCALL(regs), ret))
