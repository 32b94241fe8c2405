// SPDX-License-Identifier: Apache-2.0
/*
 * cgio_trigger: runs a workload whose I/O is known to the byte inside a
 * given cgroup, for the live-kernel tests.
 *
 *   cgio_trigger <cgroup dir>[:<cgroup dir>...] <scenario> [args...]
 *
 * The trigger forks a worker that blocks on a pipe, moves the worker into
 * the cgroup (by writing its pid to <cgroup dir>/cgroup.procs from the
 * parent, so nothing the trigger itself did is charged there), then lets it
 * run the scenario with direct syscalls. Every syscall result is checked:
 * the worker exits non-zero with a message if the kernel did anything other
 * than what the expected counts in tests/live assume. The worker prints
 * nothing on success (stderr is only written on failure).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <liburing.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct open_how_compat {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};

static char buf[1 << 16];

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "cgio_trigger: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));
	va_end(ap);
	_exit(10);
}

/* Checks a syscall result: `want` >= 0 is the exact return value expected,
 * want < 0 is the exact -errno expected. */
static long expect(long got, long want, const char *what)
{
	if (want >= 0 && got != want)
		fail("%s returned %ld, expected %ld", what, got, want);
	if (want < 0 && !(got == -1 && errno == -want))
		fail("%s returned %ld, expected failure with errno %ld", what, got, -want);
	return got;
}

static long expect_fd(long got, const char *what)
{
	if (got < 0)
		fail("%s failed", what);
	return got;
}

static char *join(const char *dir, const char *name)
{
	static char paths[8][4096];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 4096, "%s/%s", dir, name);
	return p;
}

/* --- scenarios --------------------------------------------------------- */

/* opens 1, creates 1, writes 5 (455 bytes), reads 6 (455 bytes), unlinks 1 */
static void scenario_rw(const char *dir)
{
	const char *f = join(dir, "rw");
	int fd = expect_fd(open(f, O_CREAT | O_EXCL | O_RDWR, 0600), "open rw");
	struct iovec w2[2] = {{buf, 50}, {buf, 70}};
	struct iovec w3[2] = {{buf, 10}, {buf, 20}};
	struct iovec w4[1] = {{buf, 5}};

	expect(write(fd, buf, 100), 100, "write");
	expect(pwrite(fd, buf, 200, 100), 200, "pwrite64");
	expect(writev(fd, w2, 2), 120, "writev");
	expect(pwritev(fd, w3, 2, 0), 30, "pwritev");
	expect(pwritev2(fd, w4, 1, 0, 0), 5, "pwritev2");
	expect(lseek(fd, 0, SEEK_SET), 0, "lseek");
	expect(read(fd, buf, 100), 100, "read");
	expect(pread(fd, buf, 200, 100), 200, "pread64");
	expect(readv(fd, w2, 2), 120, "readv");
	expect(preadv(fd, w3, 2, 0), 30, "preadv");
	expect(preadv2(fd, w4, 1, 0, 0), 5, "preadv2");
	expect(pread(fd, buf, 10, 300), 0, "pread64 at end of file");
	close(fd);
	expect(unlink(f), 0, "unlink");
}

/* opens 2, creates 1, writes 2 (10 bytes, 1 error), reads 3 (10 bytes, 2 errors), unlinks 1 */
static void scenario_errors(const char *dir)
{
	const char *f = join(dir, "errors");
	int wfd = expect_fd(open(f, O_CREAT | O_EXCL | O_WRONLY, 0600), "open for writing");
	int rfd;

	expect(write(wfd, buf, 10), 10, "write");
	expect(read(wfd, buf, 10), -EBADF, "read on a write-only fd");
	close(wfd);
	rfd = expect_fd(open(f, O_RDONLY), "open for reading");
	expect(write(rfd, buf, 10), -EBADF, "write on a read-only fd");
	expect(syscall(SYS_read, rfd, (void *)16, 10), -EFAULT, "read into a bad buffer");
	expect(read(rfd, buf, 100), 10, "read");
	close(rfd);
	expect(unlink(f), 0, "unlink");
}

/* opens 9 (4 errors), creates 3 (2 errors), unlinks 3 */
static void scenario_opens(const char *dir)
{
	const char *existing = join(dir, "existing");
	const char *missing = join(dir, "missing");
	const char *created2 = join(dir, "created2");
	const char *created3 = join(dir, "created3");
	const char *in_missing_dir = join(dir, "nodir/file");
	struct open_how_compat how = {O_CREAT | O_WRONLY, 0600, 0};
	int fd;

	/* open(2) with O_CREAT creating a file: open + create */
	fd = expect_fd(syscall(SYS_open, existing, O_CREAT | O_WRONLY, 0600), "open O_CREAT");
	close(fd);
	/* open(2) of an existing file: open only */
	fd = expect_fd(syscall(SYS_open, existing, O_RDONLY), "open existing");
	close(fd);
	/* open and openat of a missing file: open errors, no create error */
	expect(syscall(SYS_open, missing, O_RDONLY), -ENOENT, "open missing");
	expect(syscall(SYS_openat, AT_FDCWD, missing, O_RDONLY), -ENOENT, "openat missing");
	/* openat2 creating a file: open + create */
	fd = expect_fd(syscall(SYS_openat2, AT_FDCWD, created2, &how, sizeof(how)),
		       "openat2 O_CREAT");
	close(fd);
	/* creat of a new file, then of an existing one (no create) */
	fd = expect_fd(syscall(SYS_creat, created3, 0600), "creat new");
	close(fd);
	fd = expect_fd(syscall(SYS_creat, created3, 0600), "creat existing");
	close(fd);
	/* O_CREAT|O_EXCL on an existing file, O_CREAT in a missing dir (openat2):
	 * open errors and create errors */
	expect(syscall(SYS_openat, AT_FDCWD, existing, O_CREAT | O_EXCL | O_WRONLY, 0600), -EEXIST,
	       "openat O_EXCL existing");
	expect(syscall(SYS_openat2, AT_FDCWD, in_missing_dir, &how, sizeof(how)), -ENOENT,
	       "openat2 O_CREAT in missing dir");
	expect(unlink(existing), 0, "unlink existing");
	expect(unlink(created2), 0, "unlink created2");
	expect(unlink(created3), 0, "unlink created3");
}

/* opens 1, creates 1, mkdirs 3 (1 error), rmdirs 4 (2 errors), unlinks 3 (2 errors) */
static void scenario_dirs(const char *dir)
{
	const char *d1 = join(dir, "d1");
	const char *d2 = join(dir, "d2");
	const char *file = join(dir, "file");
	int fd;

	expect(syscall(SYS_mkdir, d1, 0700), 0, "mkdir");
	expect(syscall(SYS_mkdir, d1, 0700), -EEXIST, "mkdir existing");
	expect(syscall(SYS_mkdirat, AT_FDCWD, d2, 0700), 0, "mkdirat");
	expect(syscall(SYS_rmdir, d1), 0, "rmdir");
	expect(syscall(SYS_rmdir, d1), -ENOENT, "rmdir missing");
	expect(syscall(SYS_unlinkat, AT_FDCWD, d2, AT_REMOVEDIR), 0, "unlinkat AT_REMOVEDIR");
	expect(syscall(SYS_unlinkat, AT_FDCWD, d2, AT_REMOVEDIR), -ENOENT,
	       "unlinkat AT_REMOVEDIR missing");
	fd = expect_fd(open(file, O_CREAT | O_EXCL | O_WRONLY, 0600), "create file");
	close(fd);
	expect(syscall(SYS_unlink, d1), -ENOENT, "unlink missing");
	expect(syscall(SYS_unlinkat, AT_FDCWD, file, 0), 0, "unlinkat");
	expect(syscall(SYS_unlinkat, AT_FDCWD, dir, 0), -EISDIR, "unlinkat of a directory");
}

static int loopback(int family, int type, struct sockaddr_storage *addr, socklen_t *len, int mapped)
{
	int fd = expect_fd(socket(family, type | SOCK_CLOEXEC, 0), "socket");
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)addr;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)addr;
		a->sin6_family = AF_INET6;
		if (mapped)
			inet_pton(AF_INET6, "::ffff:127.0.0.1", &a->sin6_addr);
		else
			a->sin6_addr = in6addr_loopback;
		*len = sizeof(*a);
	}
	expect(bind(fd, (struct sockaddr *)addr, *len), 0, "bind");
	expect(getsockname(fd, (struct sockaddr *)addr, len), 0, "getsockname");
	return fd;
}

/*
 * TCP over loopback, both ends in the cgroup: 4 sends (send, sendto,
 * sendmsg, write) of 1000+2000+3000+4000 = 10000 bytes, received by 4
 * receives (recv, recvfrom, recvmsg, read) of exactly those sizes.
 */
static void scenario_tcp(int family, int mapped)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int lfd = loopback(family, SOCK_STREAM, &addr, &len, mapped);
	int cfd, sfd, on = 1;
	struct iovec iov = {buf, 3000};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	const int sizes[4] = {1000, 2000, 3000, 4000};
	long got = 0;

	expect(listen(lfd, 1), 0, "listen");
	cfd = expect_fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
	expect(connect(cfd, (struct sockaddr *)&addr, len), 0, "connect");
	sfd = expect_fd(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), "accept");
	setsockopt(cfd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &on, sizeof(on));

	expect(send(cfd, buf, 1000, 0), 1000, "send");
	expect(sendto(cfd, buf, 2000, 0, NULL, 0), 2000, "sendto");
	expect(sendmsg(cfd, &msg, 0), 3000, "sendmsg");
	expect(write(cfd, buf, 4000), 4000, "write on socket");

	got += expect(recv(sfd, buf, sizes[0], MSG_WAITALL), sizes[0], "recv");
	got += expect(recvfrom(sfd, buf, sizes[1], MSG_WAITALL, NULL, NULL), sizes[1], "recvfrom");
	got += expect(recvmsg(sfd, &msg, MSG_WAITALL), sizes[2], "recvmsg");
	/* read() has no MSG_WAITALL: loopback delivered everything already, and
	 * the test checks the count of receive calls, so insist on one read. */
	got += expect(read(sfd, buf, sizes[3]), sizes[3], "read on socket");
	if (got != 10000)
		fail("received %ld bytes", got);
	close(cfd);
	close(sfd);
	close(lfd);
}

/* UDP over loopback: 3 datagrams of 100, 200, 300 bytes each way round. */
static void scenario_udp(int family)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int rfd = loopback(family, SOCK_DGRAM, &addr, &len, 0);
	int sfd = expect_fd(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
	const int sizes[3] = {100, 200, 300};

	for (int i = 0; i < 3; i++)
		expect(sendto(sfd, buf, sizes[i], 0, (struct sockaddr *)&addr, len), sizes[i],
		       "sendto");
	for (int i = 0; i < 3; i++)
		expect(recvfrom(rfd, buf, sizeof(buf), 0, NULL, NULL), sizes[i], "recvfrom");
	close(sfd);
	close(rfd);
}

/*
 * I/O that is not file or IP I/O: only the 2 opens count (1 of a proc file,
 * 1 of /dev/null); reads of /proc, writes to /dev/null, a pipe, a unix
 * socket pair, and a read of a directory do not.
 */
static void scenario_ignored(void)
{
	int proc = expect_fd(open("/proc/self/status", O_RDONLY), "open /proc/self/status");
	int null = expect_fd(open("/dev/null", O_WRONLY), "open /dev/null");
	int p[2], u[2];

	if (read(proc, buf, sizeof(buf)) <= 0)
		fail("read /proc/self/status");
	expect(write(null, buf, 64), 64, "write /dev/null");
	expect(pipe2(p, O_CLOEXEC), 0, "pipe");
	expect(write(p[1], buf, 10), 10, "write pipe");
	expect(read(p[0], buf, 10), 10, "read pipe");
	expect(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u), 0, "socketpair");
	expect(send(u[0], buf, 10, 0), 10, "send unix");
	expect(recv(u[1], buf, 10, 0), 10, "recv unix");
	expect(read(3 + 1000, buf, 1), -EBADF, "read of a closed fd");
	close(proc);
	close(null);
}

struct writer {
	int fd;
	long count;
};

static void *write_loop(void *arg)
{
	struct writer *w = arg;
	for (long i = 0; i < w->count; i++)
		if (pwrite(w->fd, buf, 64, (i % 64) * 64) != 64)
			fail("pwrite in thread");
	return NULL;
}

/* opens 2, creates 2, writes 2*n of 64 bytes from two threads, unlinks 2 */
static void scenario_threads(const char *dir, long n)
{
	struct writer w[2];
	pthread_t t[2];
	const char *names[2] = {join(dir, "t0"), join(dir, "t1")};

	for (int i = 0; i < 2; i++) {
		w[i].fd = expect_fd(open(names[i], O_CREAT | O_EXCL | O_WRONLY, 0600), "open");
		w[i].count = n;
	}
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, write_loop, &w[i]) != 0)
			fail("pthread_create");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		close(w[i].fd);
		expect(unlink(names[i]), 0, "unlink");
	}
}

/* n reads of 1 byte from a regular file in `dir`: opens 1, creates 1, writes 1, reads n, unlinks 1
 */
static void scenario_reads(const char *dir, long n)
{
	const char *f = join(dir, "reads");
	int fd = expect_fd(open(f, O_CREAT | O_EXCL | O_RDWR, 0600), "open");
	expect(write(fd, buf, 1), 1, "write");
	for (long i = 0; i < n; i++)
		expect(pread(fd, buf, 1, 0), 1, "pread64");
	close(fd);
	expect(unlink(f), 0, "unlink");
}

/* --- io_uring ---------------------------------------------------------- */

/* Sizes of the io_uring scenarios: distinct and odd, so a mix-up shows. */
enum {
	URING_WRITE = 301,
	URING_WRITEV_A = 61,
	URING_WRITEV_B = 96,
	URING_WRITE_FIXED = 89,
	URING_READ = 211,
	URING_READV_A = 50,
	URING_READV_B = 63,
	URING_READ_FIXED = 67,
	SQPOLL_WRITE = 401,
	SQPOLL_WRITEV_A = 37,
	SQPOLL_WRITEV_B = 64,
	SQPOLL_READ = 257,
	SQPOLL_READV_A = 13,
	SQPOLL_READV_B = 20,
	NONFILE_FILE_WRITE = 123,
	NONFILE_FILE_READ = 45,
	NONFILE_PIPE = 50,
	NONFILE_UNIX = 60,
};

/* The request being prepared, and the tag of the last one submitted. */
static struct io_uring_sqe *uring_prepared;
static uint64_t uring_tag;

static struct io_uring_sqe *uring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		errno = 0;
		fail("io_uring_get_sqe: submission queue full");
	}
	uring_prepared = sqe;
	return sqe;
}

/*
 * Submits the one prepared request, waits for its completion (the one CQE in
 * the ring, carrying the request's tag) and returns its result. With SQPOLL
 * the submit count is relative to the kernel thread's head, which may not
 * have passed the previous request yet although its CQE was posted: there
 * it only has to be positive.
 */
static int uring_run(struct io_uring *ring, const char *what)
{
	struct io_uring_cqe *cqe;
	int ret, res;

	io_uring_sqe_set_data64(uring_prepared, ++uring_tag);
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 1 || (ret != 1 && !(ring->flags & IORING_SETUP_SQPOLL))) {
		errno = ret < 0 ? -ret : 0;
		fail("io_uring submit of %s returned %d", what, ret);
	}
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret != 0) {
		errno = -ret;
		fail("io_uring_wait_cqe for %s", what);
	}
	if (cqe->user_data != uring_tag || io_uring_cq_ready(ring) != 1) {
		errno = 0;
		fail("io_uring %s: completion of request %llu (%u ready), expected %llu only", what,
		     (unsigned long long)cqe->user_data, io_uring_cq_ready(ring),
		     (unsigned long long)uring_tag);
	}
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* uring_run, and the result must be exactly `want` (>= 0: the value,
 * < 0: -errno). */
static int uring_expect(struct io_uring *ring, int want, const char *what)
{
	int res = uring_run(ring, what);

	if (res != want) {
		errno = res < 0 ? -res : 0;
		fail("io_uring %s completed with %d, expected %d", what, res, want);
	}
	return res;
}

static int uring_expect_fd(struct io_uring *ring, const char *what)
{
	int res = uring_run(ring, what);

	if (res < 0) {
		errno = -res;
		fail("io_uring %s failed", what);
	}
	return res;
}

static void uring_init(struct io_uring *ring, unsigned int flags)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.sq_thread_idle = 1000;
	ret = io_uring_queue_init_params(8, ring, &p);
	if (ret != 0) {
		errno = -ret;
		fail("io_uring_queue_init_params(flags 0x%x)", flags);
	}
}

/*
 * io_uring on a regular file, one request at a time, every result checked:
 *   opens 5 (2 errors), creates 1 (1 error),
 *   writes 4 (301 + 157 + 89 = 547 bytes, 1 error),
 *   reads 5 (211 + 113 + 67 + 0 = 391 bytes, 1 error),
 *   mkdirs 2 (1 error), unlinks 2 (1 error), rmdirs 2 (1 error)
 */
static void scenario_uring(const char *dir)
{
	const char *f = join(dir, "uring");
	const char *d = join(dir, "uring-dir");
	const char *missing = join(dir, "missing");
	const char *in_missing_dir = join(dir, "nodir/file");
	struct iovec wv[2] = {{buf, URING_WRITEV_A}, {buf, URING_WRITEV_B}};
	struct iovec rv[2] = {{buf, URING_READV_A}, {buf, URING_READV_B}};
	struct iovec fixed = {buf, sizeof(buf)};
	const int wv_len = URING_WRITEV_A + URING_WRITEV_B;
	const int rv_len = URING_READV_A + URING_READV_B;
	const int size = URING_WRITE + wv_len + URING_WRITE_FIXED;
	struct io_uring ring;
	int fd, wfd, rfd, ret;

	uring_init(&ring, 0);
	ret = io_uring_register_buffers(&ring, &fixed, 1);
	if (ret != 0) {
		errno = -ret;
		fail("io_uring_register_buffers");
	}

	/* OPENAT: creating, existing (write-only, read-only), missing, O_CREAT
	 * in a missing directory */
	io_uring_prep_openat(uring_sqe(&ring), AT_FDCWD, f, O_CREAT | O_EXCL | O_RDWR, 0600);
	fd = uring_expect_fd(&ring, "OPENAT O_CREAT");
	io_uring_prep_openat(uring_sqe(&ring), AT_FDCWD, f, O_WRONLY, 0);
	wfd = uring_expect_fd(&ring, "OPENAT write-only");
	io_uring_prep_openat(uring_sqe(&ring), AT_FDCWD, f, O_RDONLY, 0);
	rfd = uring_expect_fd(&ring, "OPENAT read-only");
	io_uring_prep_openat(uring_sqe(&ring), AT_FDCWD, missing, O_RDONLY, 0);
	uring_expect(&ring, -ENOENT, "OPENAT missing");
	io_uring_prep_openat(uring_sqe(&ring), AT_FDCWD, in_missing_dir, O_CREAT | O_WRONLY, 0600);
	uring_expect(&ring, -ENOENT, "OPENAT O_CREAT in missing dir");

	/* writes: WRITE, WRITEV, WRITE_FIXED back to back, then a failing one */
	io_uring_prep_write(uring_sqe(&ring), fd, buf, URING_WRITE, 0);
	uring_expect(&ring, URING_WRITE, "WRITE");
	io_uring_prep_writev(uring_sqe(&ring), fd, wv, 2, URING_WRITE);
	uring_expect(&ring, wv_len, "WRITEV");
	io_uring_prep_write_fixed(uring_sqe(&ring), fd, buf, URING_WRITE_FIXED,
				  URING_WRITE + wv_len, 0);
	uring_expect(&ring, URING_WRITE_FIXED, "WRITE_FIXED");
	io_uring_prep_write(uring_sqe(&ring), rfd, buf, 10, 0);
	uring_expect(&ring, -EBADF, "WRITE on a read-only fd");

	/* reads: READ, READV, READ_FIXED, a READ at the end of the file (0),
	 * then a failing one */
	io_uring_prep_read(uring_sqe(&ring), fd, buf, URING_READ, 0);
	uring_expect(&ring, URING_READ, "READ");
	io_uring_prep_readv(uring_sqe(&ring), fd, rv, 2, URING_READ);
	uring_expect(&ring, rv_len, "READV");
	io_uring_prep_read_fixed(uring_sqe(&ring), fd, buf, URING_READ_FIXED, URING_READ + rv_len,
				 0);
	uring_expect(&ring, URING_READ_FIXED, "READ_FIXED");
	io_uring_prep_read(uring_sqe(&ring), fd, buf, 10, size);
	uring_expect(&ring, 0, "READ at end of file");
	io_uring_prep_read(uring_sqe(&ring), wfd, buf, 10, 0);
	uring_expect(&ring, -EBADF, "READ on a write-only fd");

	close(fd);
	close(wfd);
	close(rfd);

	io_uring_prep_mkdirat(uring_sqe(&ring), AT_FDCWD, d, 0700);
	uring_expect(&ring, 0, "MKDIRAT");
	io_uring_prep_mkdirat(uring_sqe(&ring), AT_FDCWD, d, 0700);
	uring_expect(&ring, -EEXIST, "MKDIRAT existing");
	io_uring_prep_unlinkat(uring_sqe(&ring), AT_FDCWD, f, 0);
	uring_expect(&ring, 0, "UNLINKAT");
	io_uring_prep_unlinkat(uring_sqe(&ring), AT_FDCWD, f, 0);
	uring_expect(&ring, -ENOENT, "UNLINKAT missing");
	io_uring_prep_unlinkat(uring_sqe(&ring), AT_FDCWD, d, AT_REMOVEDIR);
	uring_expect(&ring, 0, "UNLINKAT AT_REMOVEDIR");
	io_uring_prep_unlinkat(uring_sqe(&ring), AT_FDCWD, d, AT_REMOVEDIR);
	uring_expect(&ring, -ENOENT, "UNLINKAT AT_REMOVEDIR missing");

	io_uring_queue_exit(&ring);
}

/*
 * io_uring with IORING_SETUP_SQPOLL: the kernel's submission thread issues
 * the requests. The file is opened and removed with syscalls:
 *   opens 1, creates 1, writes 2 (401 + 101 = 502 bytes),
 *   reads 2 (257 + 33 = 290 bytes), unlinks 1
 */
static void scenario_uring_sqpoll(const char *dir)
{
	const char *f = join(dir, "sqpoll");
	struct iovec wv[2] = {{buf, SQPOLL_WRITEV_A}, {buf, SQPOLL_WRITEV_B}};
	struct iovec rv[2] = {{buf, SQPOLL_READV_A}, {buf, SQPOLL_READV_B}};
	struct io_uring ring;
	int fd = expect_fd(open(f, O_CREAT | O_EXCL | O_RDWR, 0600), "open sqpoll");

	uring_init(&ring, IORING_SETUP_SQPOLL);
	if (!(ring.flags & IORING_SETUP_SQPOLL)) {
		errno = 0;
		fail("the ring has no SQPOLL thread");
	}
	io_uring_prep_write(uring_sqe(&ring), fd, buf, SQPOLL_WRITE, 0);
	uring_expect(&ring, SQPOLL_WRITE, "SQPOLL WRITE");
	io_uring_prep_writev(uring_sqe(&ring), fd, wv, 2, SQPOLL_WRITE);
	uring_expect(&ring, SQPOLL_WRITEV_A + SQPOLL_WRITEV_B, "SQPOLL WRITEV");
	io_uring_prep_read(uring_sqe(&ring), fd, buf, SQPOLL_READ, 0);
	uring_expect(&ring, SQPOLL_READ, "SQPOLL READ");
	io_uring_prep_readv(uring_sqe(&ring), fd, rv, 2, SQPOLL_READ);
	uring_expect(&ring, SQPOLL_READV_A + SQPOLL_READV_B, "SQPOLL READV");
	io_uring_queue_exit(&ring);
	close(fd);
	expect(unlink(f), 0, "unlink sqpoll");
}

/*
 * io_uring READ and WRITE on a pipe and on a unix socket pair are not file
 * I/O (and unix sockets are not network I/O): they count nothing. One WRITE
 * and one READ on a regular file show the ring is counted at all:
 *   opens 1, creates 1, writes 1 (123 bytes), reads 1 (45 bytes), unlinks 1
 */
static void scenario_uring_nonfile(const char *dir)
{
	const char *f = join(dir, "nonfile");
	int fd = expect_fd(open(f, O_CREAT | O_EXCL | O_RDWR, 0600), "open nonfile");
	struct io_uring ring;
	int p[2], u[2];

	expect(pipe2(p, O_CLOEXEC), 0, "pipe");
	expect(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u), 0, "socketpair");
	uring_init(&ring, 0);

	io_uring_prep_write(uring_sqe(&ring), p[1], buf, NONFILE_PIPE, 0);
	uring_expect(&ring, NONFILE_PIPE, "WRITE to a pipe");
	io_uring_prep_read(uring_sqe(&ring), p[0], buf, NONFILE_PIPE, 0);
	uring_expect(&ring, NONFILE_PIPE, "READ from a pipe");
	io_uring_prep_write(uring_sqe(&ring), u[0], buf, NONFILE_UNIX, 0);
	uring_expect(&ring, NONFILE_UNIX, "WRITE to a unix socket");
	io_uring_prep_read(uring_sqe(&ring), u[1], buf, NONFILE_UNIX, 0);
	uring_expect(&ring, NONFILE_UNIX, "READ from a unix socket");

	io_uring_prep_write(uring_sqe(&ring), fd, buf, NONFILE_FILE_WRITE, 0);
	uring_expect(&ring, NONFILE_FILE_WRITE, "WRITE to a file");
	io_uring_prep_read(uring_sqe(&ring), fd, buf, NONFILE_FILE_READ, 0);
	uring_expect(&ring, NONFILE_FILE_READ, "READ from a file");

	io_uring_queue_exit(&ring);
	close(p[0]);
	close(p[1]);
	close(u[0]);
	close(u[1]);
	close(fd);
	expect(unlink(f), 0, "unlink nonfile");
}

/* --- Linux AIO (libaio) ------------------------------------------------ */

enum {
	AIO_PWRITE = 303,
	AIO_PWRITEV_A = 71,
	AIO_PWRITEV_B = 80,
	AIO_PREAD = 199,
	AIO_PREADV_A = 45,
	AIO_PREADV_B = 52,
};

/* Reaps exactly `n` events with io_getevents (or io_pgetevents) and checks
 * each one's result against want[i] for iocbs[i]. */
static void aio_reap(io_context_t ctx, struct iocb **iocbs, const long *want, int n, int pgetevents,
		     const char *what)
{
	struct io_event ev[8];
	int got, seen = 0;

	got = pgetevents ? io_pgetevents(ctx, n, n, ev, NULL, NULL)
			 : io_getevents(ctx, n, n, ev, NULL);
	if (got != n) {
		errno = got < 0 ? -got : 0;
		fail("%s reaped %d events, expected %d", what, got, n);
	}
	for (int i = 0; i < n; i++) {
		int j = 0;

		while (j < n && ev[i].obj != iocbs[j])
			j++;
		if (j == n || (seen & (1 << j))) {
			errno = 0;
			fail("%s: an unexpected event", what);
		}
		seen |= 1 << j;
		if ((long)ev[i].res != want[j]) {
			errno = (long)ev[i].res < 0 ? -(long)ev[i].res : 0;
			fail("%s: iocb %d completed with %ld, expected %ld", what, j,
			     (long)ev[i].res, want[j]);
		}
	}
}

static void aio_submit(io_context_t ctx, struct iocb **iocbs, int n, int want, const char *what)
{
	int ret = io_submit(ctx, n, iocbs);

	if (ret != want) {
		errno = ret < 0 ? -ret : 0;
		fail("io_submit of %s returned %d, expected %d", what, ret, want);
	}
}

/*
 * Linux AIO through libaio on a regular file (buffered: tmpfs has no
 * O_DIRECT), the file opened and removed with syscalls:
 *   opens 2, creates 1,
 *   writes 3 (PWRITE 303 + PWRITEV 151 = 454 bytes, 1 error: bad buffer),
 *   reads 3 (PREAD 199 + PREADV 97 = 296 bytes, 1 error: bad buffer),
 *   unlinks 1.
 * An FSYNC iocb completes and counts nothing; a PREAD on a write-only fd is
 * refused by io_submit itself (no event) and counts nothing.
 */
static void scenario_aio(const char *dir)
{
	const char *f = join(dir, "aio");
	int fd = expect_fd(open(f, O_CREAT | O_EXCL | O_RDWR, 0600), "open aio");
	int wfd = expect_fd(open(f, O_WRONLY), "open aio write-only");
	struct iovec wv[2] = {{buf, AIO_PWRITEV_A}, {buf, AIO_PWRITEV_B}};
	struct iovec rv[2] = {{buf, AIO_PREADV_A}, {buf, AIO_PREADV_B}};
	const long wv_len = AIO_PWRITEV_A + AIO_PWRITEV_B;
	const long rv_len = AIO_PREADV_A + AIO_PREADV_B;
	struct iocb cb[4], *cbs[4] = {&cb[0], &cb[1], &cb[2], &cb[3]};
	io_context_t ctx = 0;
	int ret = io_setup(8, &ctx);

	if (ret != 0) {
		errno = -ret;
		fail("io_setup");
	}

	/* two writes in one io_submit, reaped together by io_getevents */
	io_prep_pwrite(&cb[0], fd, buf, AIO_PWRITE, 0);
	io_prep_pwritev(&cb[1], fd, wv, 2, AIO_PWRITE);
	aio_submit(ctx, cbs, 2, 2, "PWRITE, PWRITEV");
	aio_reap(ctx, cbs, (const long[]){AIO_PWRITE, wv_len}, 2, 0, "writes");

	/* two reads and an fsync, reaped together by io_pgetevents */
	io_prep_pread(&cb[0], fd, buf, AIO_PREAD, 0);
	io_prep_preadv(&cb[1], fd, rv, 2, AIO_PREAD);
	io_prep_fsync(&cb[2], fd);
	aio_submit(ctx, cbs, 3, 3, "PREAD, PREADV, FSYNC");
	aio_reap(ctx, cbs, (const long[]){AIO_PREAD, rv_len, 0}, 3, 1, "reads");

	/* failing completions: a bad buffer makes the read and write -EFAULT */
	io_prep_pread(&cb[0], fd, (void *)16, 10, 0);
	io_prep_pwrite(&cb[1], fd, (void *)16, 10, 0);
	aio_submit(ctx, cbs, 2, 2, "PREAD, PWRITE into a bad buffer");
	aio_reap(ctx, cbs, (const long[]){-EFAULT, -EFAULT}, 2, 0, "failing read and write");

	/* refused at submission: no event */
	io_prep_pread(&cb[0], wfd, buf, 10, 0);
	aio_submit(ctx, cbs, 1, -EBADF, "PREAD on a write-only fd");

	ret = io_destroy(ctx);
	if (ret != 0) {
		errno = -ret;
		fail("io_destroy");
	}
	close(wfd);
	close(fd);
	expect(unlink(f), 0, "unlink aio");
}

/* --- copy_file_range, sendfile, splice --------------------------------- */

enum {
	CFR_SOURCE = 4000,
	CFR_COPY_1 = 1001,
	CFR_COPY_2 = 1303,
	CFR_COPY_3 = 1696, /* 1001 + 1303 + 1696 = the whole source */
	SENDFILE_SOURCE = 1308,
	SENDFILE_1 = 901,
	SENDFILE_2 = 407,
	SENDFILE_TCP_PIECE = 60000, /* the source: 5 writes of 60000 bytes */
	SENDFILE_TCP_PIECES = 5,
	SENDFILE_TCP_1 = 200003, /* several of the kernel's internal chunks */
	SENDFILE_TCP_2 = 99997,
	SPLICE_SOURCE = 1760,
	SPLICE_1 = 1237,
	SPLICE_2 = 523,
	SPLICE_TCP_1 = 2345,
	SPLICE_TCP_2 = 999,
};

/* Creates the file `path` with `size` bytes from one write(2) and returns
 * it open read-write: opens 1, creates 1, writes 1 (size bytes). */
static int source_file(const char *path, int size)
{
	int fd = expect_fd(open(path, O_CREAT | O_EXCL | O_RDWR, 0600), "open source");

	expect(write(fd, buf, size), size, "write source");
	return fd;
}

/* --- memory-mapped files ---------------------------------------------- */

/* Pages of the mmap scenario's file (1 MiB with 4 KiB pages). */
#define MMAP_PAGES 256

/* Pages of `map` (`len` bytes) in the page cache, from mincore. */
static long resident_pages(void *map, size_t len, long page)
{
	static unsigned char vec[MMAP_PAGES];
	long n = 0;

	expect(mincore(map, len, vec), 0, "mincore");
	for (size_t i = 0; i < len / (size_t)page; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * A file of MMAP_PAGES pages on a filesystem with writeback (ext4; tmpfs
 * keeps no such accounting and counts nothing), written with write(),
 * fsynced and evicted from the page cache (checked with mincore), then:
 *   read through a shared mapping, one byte per page: the faults bring the
 *     whole file in (pagein = MMAP_PAGES pages);
 *   stored to through a shared mapping, one byte per page, and msync'ed:
 *     every folio dirtied once (MMAP_PAGES pages), and again after the
 *     msync made them clean (another MMAP_PAGES pages);
 *   stored to through a private mapping: copy on write, nothing.
 * Counts: opens 1, creates 1, writes 1 (MMAP_PAGES pages), unlinks 1,
 * mmap pagein MMAP_PAGES pages, mmap dirtied 2 * MMAP_PAGES pages.
 * With --cached (tmpfs, whose pages cannot be evicted) the file stays in
 * memory and the same steps run without the eviction.
 */
static void scenario_mmap(const char *dir, int evict)
{
	const char *f = join(dir, "mapped");
	const long page = sysconf(_SC_PAGESIZE);
	const size_t len = (size_t)MMAP_PAGES * (size_t)page;
	char *data = malloc(len);
	volatile char *map;
	volatile char sum = 0;
	int fd;

	if (!data)
		fail("malloc");
	memset(data, 'm', len);
	fd = expect_fd(open(f, O_CREAT | O_EXCL | O_RDWR, 0600), "open mapped file");
	expect(write(fd, data, len), (long)len, "write mapped file");
	expect(fsync(fd), 0, "fsync mapped file");
	if (evict)
		expect(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0, "fadvise DONTNEED");

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap MAP_SHARED");
	if (evict && resident_pages((void *)map, len, page) != 0) {
		errno = 0;
		fail("%ld pages of the file still cached after fsync and POSIX_FADV_DONTNEED",
		     resident_pages((void *)map, len, page));
	}
	for (size_t i = 0; i < len; i += (size_t)page)
		sum += map[i];
	if (resident_pages((void *)map, len, page) != MMAP_PAGES) {
		errno = 0;
		fail("reading every page left %ld of %d cached",
		     resident_pages((void *)map, len, page), MMAP_PAGES);
	}
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < len; i += (size_t)page)
			map[i] = (char)('a' + round);
		expect(msync((void *)map, len, MS_SYNC), 0, "msync");
	}
	expect(munmap((void *)map, len), 0, "munmap shared");

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap MAP_PRIVATE");
	for (size_t i = 0; i < len; i += (size_t)page)
		map[i] = 'p';
	expect(munmap((void *)map, len), 0, "munmap private");
	(void)sum;
	close(fd);
	free(data);
	expect(unlink(f), 0, "unlink mapped file");
}

/*
 * copy_file_range within one tmpfs (the kernel copies through its splice
 * path): 3 copies of 1001, 1303, 1696 bytes, one at the end of the source
 * (0), one from a write-only fd (-EBADF), both fds regular files each time:
 *   opens 3, creates 2, writes 1 + 5 = 6 (4000 + 4000 bytes, 1 error),
 *   reads 5 (4000 bytes, 1 error), unlinks 2
 */
static void scenario_copy_file_range(const char *dir)
{
	const char *s = join(dir, "cfr-src");
	const char *d = join(dir, "cfr-dst");
	int src = source_file(s, CFR_SOURCE);
	int dst = expect_fd(open(d, O_CREAT | O_EXCL | O_RDWR, 0600), "open destination");
	int wsrc = expect_fd(open(s, O_WRONLY), "open source write-only");
	loff_t in = 0, out = 0;

	expect(copy_file_range(src, &in, dst, &out, CFR_COPY_1, 0), CFR_COPY_1,
	       "copy_file_range 1");
	expect(copy_file_range(src, &in, dst, &out, CFR_COPY_2, 0), CFR_COPY_2,
	       "copy_file_range 2");
	expect(copy_file_range(src, &in, dst, &out, CFR_COPY_3, 0), CFR_COPY_3,
	       "copy_file_range 3");
	expect(copy_file_range(src, &in, dst, &out, 100, 0), 0, "copy_file_range at end of file");
	in = 0;
	expect(copy_file_range(wsrc, &in, dst, &out, 10, 0), -EBADF,
	       "copy_file_range from a write-only fd");
	close(wsrc);
	close(dst);
	close(src);
	expect(unlink(s), 0, "unlink source");
	expect(unlink(d), 0, "unlink destination");
}

/*
 * sendfile from a regular file to a regular file: 901 + 407 bytes (the
 * whole source), one at the end of the source (0), one from a write-only
 * fd (-EBADF):
 *   opens 3, creates 2, writes 1 + 4 = 5 (1308 + 1308 bytes, 1 error),
 *   reads 4 (1308 bytes, 1 error), unlinks 2
 */
static void scenario_sendfile_file(const char *dir)
{
	const char *s = join(dir, "sendfile-src");
	const char *d = join(dir, "sendfile-dst");
	int src = source_file(s, SENDFILE_SOURCE);
	int dst = expect_fd(open(d, O_CREAT | O_EXCL | O_WRONLY, 0600), "open destination");
	int wsrc = expect_fd(open(s, O_WRONLY), "open source write-only");
	off_t off = 0;

	expect(sendfile(dst, src, &off, SENDFILE_1), SENDFILE_1, "sendfile 1");
	expect(sendfile(dst, src, &off, SENDFILE_2), SENDFILE_2, "sendfile 2");
	expect(sendfile(dst, src, &off, 100), 0, "sendfile at end of file");
	off = 0;
	expect(sendfile(dst, wsrc, &off, 10), -EBADF, "sendfile from a write-only fd");
	close(wsrc);
	close(dst);
	close(src);
	expect(unlink(s), 0, "unlink source");
	expect(unlink(d), 0, "unlink destination");
}

/* A connected TCP pair over IPv4 loopback: *c the client, *s the server. */
static void tcp_pair(int *c, int *s)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int lfd = loopback(AF_INET, SOCK_STREAM, &addr, &len, 0);
	int on = 1;

	expect(listen(lfd, 1), 0, "listen");
	*c = expect_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
	expect(connect(*c, (struct sockaddr *)&addr, len), 0, "connect");
	*s = expect_fd(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), "accept");
	expect(setsockopt(*c, IPPROTO_TCP, 1 /* TCP_NODELAY */, &on, sizeof(on)), 0, "TCP_NODELAY");
	close(lfd);
}

struct tcp_reader {
	int fd;
	int sizes[2];
};

/* Receives sizes[0] then sizes[1] bytes, each with one recv(MSG_WAITALL). */
static void *tcp_read_all(void *arg)
{
	static char in[1 << 18];
	struct tcp_reader *r = arg;

	for (int i = 0; i < 2; i++)
		expect(recv(r->fd, in, r->sizes[i], MSG_WAITALL), r->sizes[i], "recv MSG_WAITALL");
	return NULL;
}

/*
 * sendfile from a regular file (written with 5 writes of 60000 bytes) to a
 * TCP socket (IPv4 loopback), 200003 then 99997 bytes: each call is several
 * of the kernel's internal chunks. A thread of the worker reads each with
 * one recv(MSG_WAITALL):
 *   opens 1, creates 1, writes 5 (300000 bytes), reads 2 (300000 bytes),
 *   unlinks 1; tcp/ipv4 sends 2 (300000 bytes), receives 2 (300000 bytes)
 */
static void scenario_sendfile_tcp(const char *dir)
{
	const char *s = join(dir, "sendfile-tcp");
	int src = expect_fd(open(s, O_CREAT | O_EXCL | O_RDWR, 0600), "open source");
	struct tcp_reader reader = {-1, {SENDFILE_TCP_1, SENDFILE_TCP_2}};
	off_t off = 0;
	pthread_t t;
	int c;

	for (int i = 0; i < SENDFILE_TCP_PIECES; i++)
		expect(write(src, buf, SENDFILE_TCP_PIECE), SENDFILE_TCP_PIECE, "write source");
	tcp_pair(&c, &reader.fd);
	if (pthread_create(&t, NULL, tcp_read_all, &reader) != 0)
		fail("pthread_create");
	expect(sendfile(c, src, &off, SENDFILE_TCP_1), SENDFILE_TCP_1, "sendfile to TCP 1");
	expect(sendfile(c, src, &off, SENDFILE_TCP_2), SENDFILE_TCP_2, "sendfile to TCP 2");
	if (pthread_join(t, NULL) != 0)
		fail("pthread_join");
	close(c);
	close(reader.fd);
	close(src);
	expect(unlink(s), 0, "unlink source");
}

/*
 * splice from a regular file into a pipe and from the pipe into another
 * regular file, 1237 then 523 bytes (the whole source); the pipe sides
 * count nothing:
 *   opens 2, creates 2, writes 1 + 2 = 3 (1760 + 1760 bytes),
 *   reads 2 (1760 bytes), unlinks 2
 */
static void scenario_splice_file(const char *dir)
{
	const char *s = join(dir, "splice-src");
	const char *d = join(dir, "splice-dst");
	int src = source_file(s, SPLICE_SOURCE);
	int dst = expect_fd(open(d, O_CREAT | O_EXCL | O_WRONLY, 0600), "open destination");
	const int sizes[2] = {SPLICE_1, SPLICE_2};
	loff_t in = 0, out = 0;
	int p[2];

	expect(pipe2(p, O_CLOEXEC), 0, "pipe");
	for (int i = 0; i < 2; i++) {
		expect(splice(src, &in, p[1], NULL, sizes[i], 0), sizes[i], "splice file to pipe");
		expect(splice(p[0], NULL, dst, &out, sizes[i], 0), sizes[i], "splice pipe to file");
	}
	close(p[0]);
	close(p[1]);
	close(dst);
	close(src);
	expect(unlink(s), 0, "unlink source");
	expect(unlink(d), 0, "unlink destination");
}

/*
 * splice from a pipe into a TCP socket (IPv4 loopback), and from the
 * receiving TCP socket into another pipe, 2345 then 999 bytes; the pipes are
 * filled and drained with write(2)/read(2) (not counted):
 *   tcp/ipv4 sends 2 (3344 bytes), receives 2 (3344 bytes); no file I/O
 */
static void scenario_splice_tcp(void)
{
	const int sizes[2] = {SPLICE_TCP_1, SPLICE_TCP_2};
	int in[2], out[2], c, srv;

	expect(pipe2(in, O_CLOEXEC), 0, "pipe");
	expect(pipe2(out, O_CLOEXEC), 0, "pipe");
	tcp_pair(&c, &srv);
	for (int i = 0; i < 2; i++) {
		expect(write(in[1], buf, sizes[i]), sizes[i], "write pipe");
		expect(splice(in[0], NULL, c, NULL, sizes[i], 0), sizes[i], "splice pipe to TCP");
		expect(splice(srv, NULL, out[1], NULL, sizes[i], 0), sizes[i],
		       "splice TCP to pipe");
		expect(read(out[0], buf, sizes[i]), sizes[i], "read pipe");
	}
	close(c);
	close(srv);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

/* --- MSG_PEEK, sendmmsg/recvmmsg --------------------------------------- */

enum {
	PEEK_TCP = 1500,
	PEEK_TCP_PREFIX = 700,
	PEEK_UDP_1 = 321,
	PEEK_UDP_2 = 123,
	MMSG_COUNT = 5, /* datagrams of 11, 22, 33, 44, 55 bytes */
	MMSG_UNIT = 11,
};

/*
 * TCP over IPv4 loopback: one send of 1500 bytes, peeked with recv,
 * recvfrom (a 700-byte prefix) and recvmsg, then received by one recv:
 *   tcp/ipv4 sends 1 (1500 bytes), receives 1 (1500 bytes)
 */
static void scenario_peek_tcp(void)
{
	struct iovec iov = {buf, PEEK_TCP};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	int c, srv;

	tcp_pair(&c, &srv);
	expect(send(c, buf, PEEK_TCP, 0), PEEK_TCP, "send");
	expect(recv(srv, buf, PEEK_TCP, MSG_PEEK | MSG_WAITALL), PEEK_TCP, "recv MSG_PEEK");
	expect(recvfrom(srv, buf, PEEK_TCP_PREFIX, MSG_PEEK, NULL, NULL), PEEK_TCP_PREFIX,
	       "recvfrom MSG_PEEK");
	expect(recvmsg(srv, &msg, MSG_PEEK), PEEK_TCP, "recvmsg MSG_PEEK");
	expect(recv(srv, buf, PEEK_TCP, MSG_WAITALL), PEEK_TCP, "recv");
	close(c);
	close(srv);
}

/*
 * UDP over IPv4 loopback: datagrams of 321 and 123 bytes, each peeked
 * (recv and recvmsg MSG_PEEK, then recvfrom MSG_PEEK) before its real
 * receive:
 *   udp/ipv4 sends 2 (444 bytes), receives 2 (444 bytes)
 */
static void scenario_peek_udp(void)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int r = loopback(AF_INET, SOCK_DGRAM, &addr, &len, 0);
	int s = expect_fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	expect(sendto(s, buf, PEEK_UDP_1, 0, (struct sockaddr *)&addr, len), PEEK_UDP_1,
	       "sendto 1");
	expect(sendto(s, buf, PEEK_UDP_2, 0, (struct sockaddr *)&addr, len), PEEK_UDP_2,
	       "sendto 2");
	expect(recv(r, buf, sizeof(buf), MSG_PEEK), PEEK_UDP_1, "recv MSG_PEEK");
	expect(recvmsg(r, &msg, MSG_PEEK), PEEK_UDP_1, "recvmsg MSG_PEEK");
	expect(recvfrom(r, buf, sizeof(buf), 0, NULL, NULL), PEEK_UDP_1, "recvfrom");
	expect(recvfrom(r, buf, sizeof(buf), MSG_PEEK, NULL, NULL), PEEK_UDP_2,
	       "recvfrom MSG_PEEK");
	expect(recv(r, buf, sizeof(buf), 0), PEEK_UDP_2, "recv");
	close(s);
	close(r);
}

/*
 * UDP over IPv4 loopback: one sendmmsg of 5 datagrams (11, 22, 33, 44, 55
 * bytes), one recvmmsg receiving the 5:
 *   udp/ipv4 sends 5 (165 bytes), receives 5 (165 bytes)
 */
static void scenario_mmsg_udp(void)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int r = loopback(AF_INET, SOCK_DGRAM, &addr, &len, 0);
	int s = expect_fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
	static char in[MMSG_COUNT][256];
	struct iovec siov[MMSG_COUNT], riov[MMSG_COUNT];
	struct mmsghdr smsg[MMSG_COUNT], rmsg[MMSG_COUNT];

	memset(smsg, 0, sizeof(smsg));
	memset(rmsg, 0, sizeof(rmsg));
	for (int i = 0; i < MMSG_COUNT; i++) {
		siov[i] = (struct iovec){buf, (size_t)(i + 1) * MMSG_UNIT};
		smsg[i].msg_hdr = (struct msghdr){.msg_name = &addr,
						  .msg_namelen = len,
						  .msg_iov = &siov[i],
						  .msg_iovlen = 1};
		riov[i] = (struct iovec){in[i], sizeof(in[i])};
		rmsg[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
	}
	expect(sendmmsg(s, smsg, MMSG_COUNT, 0), MMSG_COUNT, "sendmmsg");
	for (int i = 0; i < MMSG_COUNT; i++)
		if (smsg[i].msg_len != (unsigned int)(i + 1) * MMSG_UNIT)
			fail("sendmmsg message %d sent %u bytes", i, smsg[i].msg_len);
	expect(recvmmsg(r, rmsg, MMSG_COUNT, 0, NULL), MMSG_COUNT, "recvmmsg");
	for (int i = 0; i < MMSG_COUNT; i++)
		if (rmsg[i].msg_len != (unsigned int)(i + 1) * MMSG_UNIT)
			fail("recvmmsg message %d received %u bytes", i, rmsg[i].msg_len);
	close(s);
	close(r);
}

static void run(int argc, char **argv)
{
	const char *s = argv[2];
	const char *arg = argc > 3 ? argv[3] : NULL;
	const char *arg2 = argc > 4 ? argv[4] : NULL;

	memset(buf, 'x', sizeof(buf));
	if (!strcmp(s, "rw") && arg)
		scenario_rw(arg);
	else if (!strcmp(s, "errors") && arg)
		scenario_errors(arg);
	else if (!strcmp(s, "opens") && arg)
		scenario_opens(arg);
	else if (!strcmp(s, "dirs") && arg)
		scenario_dirs(arg);
	else if (!strcmp(s, "tcp4"))
		scenario_tcp(AF_INET, 0);
	else if (!strcmp(s, "tcp6"))
		scenario_tcp(AF_INET6, 0);
	else if (!strcmp(s, "tcp6-mapped"))
		scenario_tcp(AF_INET6, 1);
	else if (!strcmp(s, "udp4"))
		scenario_udp(AF_INET);
	else if (!strcmp(s, "udp6"))
		scenario_udp(AF_INET6);
	else if (!strcmp(s, "ignored"))
		scenario_ignored();
	else if (!strcmp(s, "threads") && arg && arg2)
		scenario_threads(arg, atol(arg2));
	else if (!strcmp(s, "reads") && arg && arg2)
		scenario_reads(arg, atol(arg2));
	else if (!strcmp(s, "uring") && arg)
		scenario_uring(arg);
	else if (!strcmp(s, "uring-sqpoll") && arg)
		scenario_uring_sqpoll(arg);
	else if (!strcmp(s, "uring-nonfile") && arg)
		scenario_uring_nonfile(arg);
	else if (!strcmp(s, "aio") && arg)
		scenario_aio(arg);
	else if (!strcmp(s, "copy-file-range") && arg)
		scenario_copy_file_range(arg);
	else if (!strcmp(s, "sendfile-file") && arg)
		scenario_sendfile_file(arg);
	else if (!strcmp(s, "sendfile-tcp") && arg)
		scenario_sendfile_tcp(arg);
	else if (!strcmp(s, "splice-file") && arg)
		scenario_splice_file(arg);
	else if (!strcmp(s, "splice-tcp"))
		scenario_splice_tcp();
	else if (!strcmp(s, "peek-tcp"))
		scenario_peek_tcp();
	else if (!strcmp(s, "peek-udp"))
		scenario_peek_udp();
	else if (!strcmp(s, "mmsg-udp"))
		scenario_mmsg_udp();
	else if (!strcmp(s, "mmap") && arg)
		scenario_mmap(arg, !(arg2 && !strcmp(arg2, "--cached")));
	else {
		fprintf(stderr, "cgio_trigger: unknown scenario or missing argument: %s\n", s);
		_exit(2);
	}
}

int main(int argc, char **argv)
{
	int go[2], status;
	pid_t worker;
	char procs[4096], pid_text[32];
	int fd, n;

	if (argc < 3) {
		fprintf(stderr, "usage: cgio_trigger <cgroup dir> <scenario> [args...]\n");
		return 2;
	}
	/* Keep this binary's and its libraries' pages in memory while the
	 * worker runs: the page cache of some VMs is trimmed by their host, and
	 * a code page the worker faults in again would be a mapped read in the
	 * measured cgroup (cgio_vfs_mmap_pagein_bytes_total) that no scenario
	 * made. The worker maps the same pages. */
	if (mlockall(MCL_CURRENT) != 0)
		fail("mlockall");
	if (pipe2(go, O_CLOEXEC) != 0)
		fail("pipe");
	worker = fork();
	if (worker < 0)
		fail("fork");
	if (worker == 0) {
		char c;
		close(go[1]);
		/* This read enters in the old cgroup and returns in the new one;
		 * a pipe is not counted anywhere. */
		if (read(go[0], &c, 1) != 1)
			_exit(11);
		close(go[0]);
		run(argc, argv);
		_exit(0);
	}
	close(go[0]);
	n = snprintf(pid_text, sizeof(pid_text), "%d", worker);
	/* "dir1:dir2": one cgroup per hierarchy (a v1 job's and a cgroup2 one). */
	for (char *dir = strtok(argv[1], ":"); dir; dir = strtok(NULL, ":")) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			fail("open %s", procs);
		if (write(fd, pid_text, n) != n)
			fail("write %s", procs);
		close(fd);
	}
	if (write(go[1], "g", 1) != 1)
		fail("signal worker");
	close(go[1]);
	if (waitpid(worker, &status, 0) != worker)
		fail("waitpid");
	if (!WIFEXITED(status)) {
		fprintf(stderr, "cgio_trigger: worker killed by signal %d\n", WTERMSIG(status));
		return 12;
	}
	return WEXITSTATUS(status);
}
