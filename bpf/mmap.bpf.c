// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Memory-mapped files: what a task's page faults on file mappings make the
 * page cache do, in whole folios, charged to the faulting task's cgroup.
 *
 * Loads and stores through a mapping reach the page cache without a
 * syscall, so no hook sees the bytes an application reads or writes that
 * way; what is visible is when a fault brings a file's folio into the page
 * cache (mm_filemap_add_to_page_cache, readahead included) and when a store
 * makes a clean folio dirty (writeback_dirty_folio, again after every
 * msync or writeback). Both tracepoints also fire for read()/write(); the
 * task's in_user_fault flag, set by the fault handler for a fault taken in
 * user mode, tells the mapping's events apart. These are the same events
 * the kernel's own per-task read_bytes/write_bytes accounting uses, so the
 * figures equal them for mapped I/O: storage traffic, not application
 * bytes (one stored byte dirties its whole folio; a mapped read of a page
 * already cached counts nothing). Filesystems without writeback accounting
 * (tmpfs, shmem) produce neither event.
 *
 * One program per event serves every probe type (tp_btf, 5.17+ for the
 * folio tracepoints).
 */
#include "cgio_vfs.bpf.h"

static __always_inline __u64 cgio_folio_bytes(struct folio *folio)
{
	unsigned long flags = 0;
	__u64 pages = 1;

	bpf_probe_read_kernel(&flags, sizeof(flags), folio);
	if (flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head))) {
		if (bpf_core_field_exists(folio->_nr_pages))
			pages = BPF_CORE_READ(folio, _nr_pages);
		else
			pages = BPF_CORE_READ((struct folio___old *)folio, _folio_nr_pages);
	}
	return pages * cgio_cfg.page_size;
}

/* A fault of the current task on a mapped regular file (not a pseudo
 * filesystem unless --vfs.include-pseudo-fs). */
static __always_inline bool cgio_mapped_file_fault(struct address_space *mapping)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inode *host;

	if (!BPF_CORE_READ_BITFIELD(task, in_user_fault) || !mapping)
		return false;
	host = BPF_CORE_READ(mapping, host);
	if (!host)
		return false;
	return cgio_counted_mode_magic(BPF_CORE_READ(host, i_mode), BPF_CORE_READ(host, i_sb),
				       false);
}

static __always_inline void cgio_count_folio(struct folio *folio, struct address_space *mapping,
					     int counter)
{
	struct cgio_vfs_value *v;

	if (!cgio_mapped_file_fault(mapping))
		return;
	v = cgio_vfs_value();
	if (v)
		cgio_add(&v->counter[counter], cgio_folio_bytes(folio));
}

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(cgio_mmap_pagein, struct folio *folio)
{
	cgio_count_folio(folio, BPF_CORE_READ(folio, mapping), CGIO_VFS_MMAP_PAGEIN_BYTES);
	return 0;
}

SEC("tp_btf/writeback_dirty_folio")
int BPF_PROG(cgio_mmap_dirty, struct folio *folio, struct address_space *mapping)
{
	cgio_count_folio(folio, mapping, CGIO_VFS_MMAP_DIRTIED_BYTES);
	return 0;
}
