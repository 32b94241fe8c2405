// SPDX-License-Identifier: Apache-2.0
/*
 * cgio_trigger: runs a workload whose I/O is known to the byte inside a
 * given cgroup, for the live-kernel tests.
 *
 *   cgio_trigger <cgroup dir> <scenario> [args...]
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
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", argv[1]);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open %s", procs);
	n = snprintf(pid_text, sizeof(pid_text), "%d", worker);
	if (write(fd, pid_text, n) != n)
		fail("write %s", procs);
	close(fd);
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
