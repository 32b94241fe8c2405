/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract shared by every BPF object and the exporter: map names, the
 * lost-update counters and the load-time configuration.
 */
#ifndef CGIO_CONTRACTS_COMMON_H
#define CGIO_CONTRACTS_COMMON_H

#include <linux/types.h>

/* Index into the `cgio_map_full` per-CPU array: one counter per counted map,
 * incremented whenever an update of that map is lost (map full, no memory). */
enum cgio_map_id {
	CGIO_MAP_VFS = 0,
	CGIO_MAP_NET,
	CGIO_MAP_MAX,
};

/* Written into each object's .rodata before load (variable `cgio_cfg`), so
 * the verifier prunes what a setting switches off. */
struct cgio_config {
	__u32 include_pseudo_fs; /* count I/O on proc, sysfs, cgroupfs, ... */
	__u32 reserved;
};

#endif
