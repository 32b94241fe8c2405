/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The network counting rules, shared by every probe type.
 */
#ifndef CGIO_NET_BPF_H
#define CGIO_NET_BPF_H

#include "cgio_common.bpf.h"
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

/*
 * One send or receive call on `sk` that returned `ret`. TCP and UDP over
 * AF_INET and AF_INET6 sockets only (an IPv4-mapped peer on an AF_INET6
 * socket is ipv6); the type check keeps raw sockets opened with protocol 6 or
 * 17 out. `only_family`, when not CGIO_ANY_FAMILY, skips sockets of other
 * families: udpv6_sendmsg hands IPv4-mapped destinations to udp_sendmsg, so
 * the udp_sendmsg hook counts AF_INET sockets only or that send would count
 * twice.
 */
static __always_inline void cgio_count_net(struct sock *sk, int ret, int direction, int only_family)
{
	static const struct cgio_net_value zero;
	struct cgio_net_value *v;
	int family, protocol;
#ifdef CGIO_ARG_SOCK_BTF
	/* A BTF pointer (tp_btf and fentry arguments): plain loads. */
	__u16 sk_family = sk->__sk_common.skc_family;
	__u16 sk_protocol = sk->sk_protocol;
	__u16 sk_type = sk->sk_type;
#else
	/* A plain address (kprobes): probe reads, about 70 ns each. */
	__u16 sk_family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 sk_protocol = BPF_CORE_READ(sk, sk_protocol);
	__u16 sk_type = BPF_CORE_READ(sk, sk_type);
#endif

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
	if (direction == CGIO_SEND) {
		cgio_add(&v->counter[protocol][family][CGIO_NET_SENDS], 1);
		if (ret > 0)
			cgio_add(&v->counter[protocol][family][CGIO_NET_SENT_BYTES], ret);
	} else {
		cgio_add(&v->counter[protocol][family][CGIO_NET_RECEIVES], 1);
		if (ret > 0)
			cgio_add(&v->counter[protocol][family][CGIO_NET_RECEIVED_BYTES], ret);
	}
}

#endif
