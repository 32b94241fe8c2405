// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP/UDP counting from the sock_send_length / sock_recv_length tracepoints
 * (6.3+), attached as BTF tracepoints. They fire in sock_sendmsg_nosec and
 * sock_recvmsg_nosec, in the context of the task doing the I/O, with the
 * socket and the result: every send/recv path of every socket family
 * (send*, recv*, write/read on a socket, sendmmsg per message, splice to a
 * socket since 6.5).
 */
#include "cgio_common.bpf.h"
#include "contracts/net.h"

#define CGIO_AF_INET 2
#define CGIO_AF_INET6 10
#define CGIO_IPPROTO_TCP 6
#define CGIO_IPPROTO_UDP 17
#define CGIO_SOCK_STREAM 1
#define CGIO_SOCK_DGRAM 2

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* the exporter's map replaces this one */
	__type(key, __u64);
	__type(value, struct cgio_net_value);
} cgio_net SEC(".maps");

/* `bytes` and `calls` are CGIO_NET_SENT_BYTES/SENDS or RECEIVED_BYTES/RECEIVES. */
static __always_inline void cgio_count_net(struct sock *sk, int ret, int bytes, int calls)
{
	static const struct cgio_net_value zero;
	struct cgio_net_value *v;
	int family, protocol;
	__u16 sk_family = sk->__sk_common.skc_family;
	__u16 sk_protocol = sk->sk_protocol;
	__u16 sk_type = sk->sk_type;

	/* An IPv4-mapped IPv6 peer still uses an AF_INET6 socket: ipv6. */
	if (sk_family == CGIO_AF_INET)
		family = CGIO_NET_IPV4;
	else if (sk_family == CGIO_AF_INET6)
		family = CGIO_NET_IPV6;
	else
		return;
	/* The type check keeps raw sockets opened with protocol 6 or 17 out. */
	if (sk_protocol == CGIO_IPPROTO_TCP && sk_type == CGIO_SOCK_STREAM)
		protocol = CGIO_NET_TCP;
	else if (sk_protocol == CGIO_IPPROTO_UDP && sk_type == CGIO_SOCK_DGRAM)
		protocol = CGIO_NET_UDP;
	else
		return;

	v = cgio_cgroup_value(&cgio_net, &zero, CGIO_MAP_NET);
	if (!v)
		return;
	cgio_add(&v->counter[protocol][family][calls], 1);
	if (ret > 0)
		cgio_add(&v->counter[protocol][family][bytes], ret);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(cgio_sock_send, struct sock *sk, int ret, int flags)
{
	cgio_count_net(sk, ret, CGIO_NET_SENT_BYTES, CGIO_NET_SENDS);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(cgio_sock_recv, struct sock *sk, int ret, int flags)
{
	cgio_count_net(sk, ret, CGIO_NET_RECEIVED_BYTES, CGIO_NET_RECEIVES);
	return 0;
}
