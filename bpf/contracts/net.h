/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between the network BPF programs and the exporter: the value
 * stored per cgroup in the `cgio_net` per-CPU hash map (key: __u64 cgroup id).
 */
#ifndef CGIO_CONTRACTS_NET_H
#define CGIO_CONTRACTS_NET_H

#include <linux/types.h>

enum cgio_net_protocol {
	CGIO_NET_TCP = 0,
	CGIO_NET_UDP,
	CGIO_NET_PROTOCOL_MAX,
};

enum cgio_net_family {
	CGIO_NET_IPV4 = 0,
	CGIO_NET_IPV6,
	CGIO_NET_FAMILY_MAX,
};

enum cgio_net_counter {
	CGIO_NET_SENT_BYTES = 0,
	CGIO_NET_SENDS,
	CGIO_NET_RECEIVED_BYTES,
	CGIO_NET_RECEIVES,
	CGIO_NET_COUNTER_MAX,
};

struct cgio_net_value {
	__u64 counter[CGIO_NET_PROTOCOL_MAX][CGIO_NET_FAMILY_MAX][CGIO_NET_COUNTER_MAX];
};

#endif
