/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The network counting rules, shared by every probe type.
 */
#ifndef CGIO_NET_BPF_H
#define CGIO_NET_BPF_H

#include "cgio_fd.bpf.h"
#include "contracts/net.h"

#define CGIO_AF_INET 2
#define CGIO_AF_INET6 10
#define CGIO_IPPROTO_TCP 6
#define CGIO_IPPROTO_UDP 17
#define CGIO_SOCK_STREAM 1
#define CGIO_SOCK_DGRAM 2

/* Which socket families a hook may count (see cgio_count_net). */
#define CGIO_ANY_FAMILY 0

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* the exporter's map replaces this one */
	__type(key, __u64);
	__type(value, struct cgio_net_value);
} cgio_net SEC(".maps");

enum cgio_net_direction {
	CGIO_SEND,
	CGIO_RECEIVE,
};

/* include/linux/socket.h. MSG_SPLICE_PAGES (6.5) marks the chunks a
 * sendfile/splice to a socket hands to ->sendmsg; user flags never carry it. */
#define CGIO_MSG_PEEK 0x2
#define CGIO_MSG_SPLICE_PAGES 0x8000000

/* What one hook adds: a call and the bytes, the bytes of one chunk of a
 * call counted elsewhere (sendpage, MSG_SPLICE_PAGES), or a call whose
 * bytes the socket layer counts (sendfile/splice to a socket). */
enum cgio_net_add {
	CGIO_NET_CALL_AND_BYTES,
	CGIO_NET_BYTES_ONLY,
	CGIO_NET_CALL_ONLY,
};

/*
 * One send or receive on a socket of this family, protocol and type that
 * returned `ret`. TCP and UDP over AF_INET and AF_INET6 sockets only (an
 * IPv4-mapped peer on an AF_INET6 socket is ipv6); the type check keeps raw
 * sockets opened with protocol 6 or 17 out. `only_family`, when not
 * CGIO_ANY_FAMILY, skips sockets of other families: udpv6_sendmsg hands
 * IPv4-mapped destinations to udp_sendmsg, so the udp_sendmsg hook counts
 * AF_INET sockets only or that send would count twice.
 */
static __always_inline void cgio_count_net_kind(__u16 sk_family, __u16 sk_protocol, __u16 sk_type,
						int ret, int direction, int only_family, int add)
{
	static const struct cgio_net_value zero;
	struct cgio_net_value *v;
	int family, protocol, calls, bytes;

	if (only_family != CGIO_ANY_FAMILY && sk_family != only_family)
		return;
	if (sk_family == CGIO_AF_INET)
		family = CGIO_NET_IPV4;
	else if (sk_family == CGIO_AF_INET6)
		family = CGIO_NET_IPV6;
	else
		return;
	if (sk_protocol == CGIO_IPPROTO_TCP && sk_type == CGIO_SOCK_STREAM)
		protocol = CGIO_NET_TCP;
	else if (sk_protocol == CGIO_IPPROTO_UDP && sk_type == CGIO_SOCK_DGRAM)
		protocol = CGIO_NET_UDP;
	else
		return;

	v = cgio_cgroup_value(&cgio_net, &zero, CGIO_MAP_NET);
	if (!v)
		return;
	calls = direction == CGIO_SEND ? CGIO_NET_SENDS : CGIO_NET_RECEIVES;
	bytes = direction == CGIO_SEND ? CGIO_NET_SENT_BYTES : CGIO_NET_RECEIVED_BYTES;
	if (add != CGIO_NET_BYTES_ONLY)
		cgio_add(&v->counter[protocol][family][calls], 1);
	if (add != CGIO_NET_CALL_ONLY && ret > 0)
		cgio_add(&v->counter[protocol][family][bytes], ret);
}

/* A socket the object's hooks hand over: a BTF pointer (tp_btf and fentry
 * arguments, plain loads) or a plain address (kprobes, probe reads, about
 * 70 ns each). */
static __always_inline void cgio_count_net_add(struct sock *sk, int ret, int direction,
					       int only_family, int add)
{
#ifdef CGIO_ARG_SOCK_BTF
	cgio_count_net_kind(sk->__sk_common.skc_family, sk->sk_protocol, sk->sk_type, ret,
			    direction, only_family, add);
#else
	cgio_count_net_kind(BPF_CORE_READ(sk, __sk_common.skc_family),
			    BPF_CORE_READ(sk, sk_protocol), BPF_CORE_READ(sk, sk_type), ret,
			    direction, only_family, add);
#endif
}

/* One send or receive call on `sk` that returned `ret`. */
static __always_inline void cgio_count_net(struct sock *sk, int ret, int direction, int only_family)
{
	cgio_count_net_add(sk, ret, direction, only_family, CGIO_NET_CALL_AND_BYTES);
}

/*
 * net_transfer: the socket side of a sendfile or splice that returned `ret`.
 * To a socket, the call (its bytes reach the socket's ->sendmsg or
 * ->sendpage in chunks, counted there as bytes only); from a TCP socket,
 * the call and its bytes (tcp_splice_read reads the queue without
 * ->recvmsg; UDP's splice_read goes through ->recvmsg and is counted
 * there). The socket comes from the descriptor: CO-RE reads.
 */
static __always_inline void cgio_count_transfer_net(long in_fd, long out_fd, long ret)
{
	struct sock *sk = cgio_fd_sock(out_fd);

	if (sk) {
		cgio_count_net_kind(BPF_CORE_READ(sk, __sk_common.skc_family),
				    BPF_CORE_READ(sk, sk_protocol), BPF_CORE_READ(sk, sk_type), ret,
				    CGIO_SEND, CGIO_ANY_FAMILY, CGIO_NET_CALL_ONLY);
	}
	sk = cgio_fd_sock(in_fd);
	if (sk && BPF_CORE_READ(sk, sk_protocol) == CGIO_IPPROTO_TCP) {
		cgio_count_net_kind(BPF_CORE_READ(sk, __sk_common.skc_family), CGIO_IPPROTO_TCP,
				    BPF_CORE_READ(sk, sk_type), ret, CGIO_RECEIVE, CGIO_ANY_FAMILY,
				    CGIO_NET_CALL_AND_BYTES);
	}
}

#endif
