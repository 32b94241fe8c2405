/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel types cgio's BPF programs touch, declared by hand.
 *
 * Why not a generated vmlinux.h: dumping the build host's BTF would make the
 * build depend on the kernel of whichever machine compiles it (and on it
 * having BTF at all), and would check in or generate ~3 MB nobody reviews.
 * Every struct below carries preserve_access_index, so clang emits CO-RE
 * relocations and libbpf resolves each field by *name* against the BTF of
 * the kernel the exporter runs on. The layout written here never matters;
 * only field names, and the sizes of fields read through
 * bpf_probe_read_kernel(), which must match the kernel's.
 * Add a field here only when a program needs it.
 */
#ifndef CGIO_KERNEL_H
#define CGIO_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u16 umode_t;
typedef unsigned int fmode_t;
typedef _Bool bool;
enum { false = 0, true = 1 };

/* Tells bpf_tracing.h that struct pt_regs has the kernel's field names
 * (di, si, ...) rather than the UAPI ones (rdi, rsi, ...), as with a
 * generated vmlinux.h. */
#define __VMLINUX_H__

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* x86_64 user registers as saved on syscall entry (bpf_tracing.h reads the
 * syscall arguments from di, si, dx, r10, r8, r9). */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

struct super_block {
	unsigned long s_magic;
	__u32 s_dev; /* dev_t: (major << 20) | minor */
};

struct inode {
	umode_t i_mode;
	struct super_block *i_sb;
};

struct file {
	fmode_t f_mode;
	struct inode *f_inode;
	void *private_data; /* a socket file's struct socket */
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct kernfs_node {
	__u64 id; /* the inode number of the cgroup directory (a u64 since 5.5) */
	const char *name;
};

struct cgroup_root {
	int hierarchy_id;
};

struct cgroup;

struct cgroup_subsys_state {
	struct cgroup *cgroup;
	struct cgroup_subsys_state *parent;
};

struct cgroup {
	struct cgroup_subsys_state self; /* self.parent: the parent cgroup's */
	struct kernfs_node *kn;
	struct cgroup_root *root;
};

/* subsys[] has CGROUP_SUBSYS_COUNT entries, a kernel configuration detail;
 * only the offset of the array is relocated, the exporter gives the index
 * (below 32: the dimension here only keeps the compiler from assuming 0). */
struct css_set {
	struct cgroup_subsys_state *subsys[32];
	struct cgroup *dfl_cgrp;
};

struct ns_common {
	unsigned int inum;
};

struct cgroup_namespace {
	struct ns_common ns;
};

struct nsproxy {
	struct cgroup_namespace *cgroup_ns;
};

struct task_struct {
	unsigned int flags; /* PF_* */
	void *stack;
	struct files_struct *files;
	struct css_set *cgroups;
	struct nsproxy *nsproxy;
	/* Set while the task handles a page fault it took in user mode
	 * (CONFIG_MEMCG, which every distribution kernel has). */
	unsigned int in_user_fault : 1;
};

/*
 * The page cache (include/linux/mm_types.h, fs.h). A folio's first word is
 * its flags in every version (an unsigned long, memdesc_flags_t since 6.17,
 * which is why mmap.bpf.c reads it by address); a large folio (PG_head) has
 * its page count in _nr_pages (6.10+) or _folio_nr_pages (before).
 */
struct address_space {
	struct inode *host;
};

struct folio {
	struct address_space *mapping;
	unsigned int _nr_pages;
};

struct folio___old {
	unsigned int _folio_nr_pages;
};

enum pageflags {
	PG_head = 6,
};

/* include/uapi/linux/openat2.h; do_sys_openat2() gets a kernel copy. */
struct open_how {
	__u64 flags;
};

/*
 * io_uring (io_uring/, include/linux/io_uring_types.h). A request's
 * completion result is cqe.res; its submitter is req->task up to 6.x and
 * req->tctx->task after the field moved (the programs ask BTF which). The
 * per-opcode command data (struct io_open, io_unlink) overlays the start of
 * the request.
 */
struct io_cqe {
	__s32 res;
};

struct io_uring_task {
	struct task_struct *task;
};

struct io_kiocb {
	struct file *file;
	__u8 opcode;
	struct io_cqe cqe;
	struct io_uring_task *tctx;
};

struct io_kiocb___task {
	struct task_struct *task;
};

struct io_open {
	__u32 file_slot;
	struct open_how how;
};

struct io_unlink {
	int flags;
};

/* Only used as a read-only view of one 8-byte slot (see cgio_vfs.bpf.h):
 * a named kernel struct whose first member is a 64-bit integer. */
struct timespec64 {
	long long tv_sec;
};

struct sock_common {
	unsigned short skc_family;
};

/* sk_protocol and sk_type are plain u16 fields since 5.6 (before that
 * sk_protocol was a bitfield); cgio's minimum kernel is 5.8. */
struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
	__u16 sk_type;
};

struct socket {
	struct sock *sk;
};

struct msghdr {
	unsigned int msg_flags;
};

#pragma clang attribute pop

#endif
