// Live-kernel tier for the I/O paths beyond the read/write syscalls (issue
// 10): io_uring, Linux AIO, copy_file_range, sendfile, splice, MSG_PEEK and
// sendmmsg/recvmmsg. Like live_counts_test.cpp: a fresh cgroup per test, a
// trigger scenario known to the byte, every counter compared for equality.
//
// The expectations follow from the counting contract and from the
// scenarios' own sizes, repeated here under the names the trigger
// (tests/trigger/cgio_trigger.c) gives them; the trigger checks every
// result the kernel returns against those sizes.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include "live_support.h"

namespace cgio::test {
namespace {

// io_uring (scenarios uring, uring-sqpoll, uring-nonfile)
constexpr uint64_t URING_WRITE = 301, URING_WRITEV_A = 61, URING_WRITEV_B = 96, URING_WRITE_FIXED = 89;
constexpr uint64_t URING_READ = 211, URING_READV_A = 50, URING_READV_B = 63, URING_READ_FIXED = 67;
constexpr uint64_t SQPOLL_WRITE = 401, SQPOLL_WRITEV_A = 37, SQPOLL_WRITEV_B = 64;
constexpr uint64_t SQPOLL_READ = 257, SQPOLL_READV_A = 13, SQPOLL_READV_B = 20;
constexpr uint64_t NONFILE_FILE_WRITE = 123, NONFILE_FILE_READ = 45;
// Linux AIO (scenario aio)
constexpr uint64_t AIO_PWRITE = 303, AIO_PWRITEV_A = 71, AIO_PWRITEV_B = 80;
constexpr uint64_t AIO_PREAD = 199, AIO_PREADV_A = 45, AIO_PREADV_B = 52;
// copy_file_range, sendfile, splice
constexpr uint64_t CFR_SOURCE = 4000, CFR_COPY_1 = 1001, CFR_COPY_2 = 1303, CFR_COPY_3 = 1696;
constexpr uint64_t SENDFILE_SOURCE = 1308, SENDFILE_1 = 901, SENDFILE_2 = 407;
constexpr uint64_t SENDFILE_TCP_PIECE = 60000, SENDFILE_TCP_PIECES = 5;  // the source, written with write(2)
constexpr uint64_t SENDFILE_TCP_1 = 200003, SENDFILE_TCP_2 = 99997;      // several internal chunks each
constexpr uint64_t SPLICE_SOURCE = 1760, SPLICE_1 = 1237, SPLICE_2 = 523;
constexpr uint64_t SPLICE_TCP_1 = 2345, SPLICE_TCP_2 = 999;
// MSG_PEEK, sendmmsg/recvmmsg
constexpr uint64_t PEEK_TCP = 1500;
constexpr uint64_t PEEK_UDP_1 = 321, PEEK_UDP_2 = 123;
constexpr uint64_t MMSG_COUNT = 5, MMSG_UNIT = 11;  // datagrams of 11, 22, 33, 44, 55 bytes

static_assert(CFR_COPY_1 + CFR_COPY_2 + CFR_COPY_3 == CFR_SOURCE);
static_assert(SENDFILE_1 + SENDFILE_2 == SENDFILE_SOURCE);
static_assert(SENDFILE_TCP_1 + SENDFILE_TCP_2 == SENDFILE_TCP_PIECES * SENDFILE_TCP_PIECE);
static_assert(SPLICE_1 + SPLICE_2 == SPLICE_SOURCE);

// One exporter for the suite, started with its first test.
class LiveTransfers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root()) return;
    std::string error;
    exporter_ = ExporterProcess::start(exporter_bin(), exporter_args({"--web.listen-address=127.0.0.1:0"}), &error);
    start_error_ = error;
  }
  static void TearDownTestSuite() {
    if (!exporter_) return;
    const int status = exporter_->stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "exporter did not exit cleanly on SIGTERM (status " << status << "); log:\n"
        << exporter_->log();
    exporter_.reset();
  }
  void SetUp() override {
    CGIO_REQUIRE_ROOT();
    ASSERT_NE(exporter_, nullptr) << "shared exporter did not start: " << start_error_;
  }
  static Metrics scrape_shared() { return scrape(exporter_->port()); }

  static std::unique_ptr<ExporterProcess> exporter_;
  static std::string start_error_;
};

std::unique_ptr<ExporterProcess> LiveTransfers::exporter_;
std::string LiveTransfers::start_error_;

// The net series of one family and protocol.
Expected net(const std::string& family, const std::string& protocol, uint64_t sends, uint64_t sent_bytes,
             uint64_t receives, uint64_t received_bytes) {
  const std::string l = "{family=" + family + ",protocol=" + protocol + "}";
  return {{"cgio_net_sends_total" + l, sends},
          {"cgio_net_sent_bytes_total" + l, sent_bytes},
          {"cgio_net_receives_total" + l, receives},
          {"cgio_net_received_bytes_total" + l, received_bytes}};
}

Expected merged(Expected a, const Expected& b) {
  a.insert(b.begin(), b.end());
  return a;
}

// --- io_uring: one request at a time, every completion a call ------------

TEST_F(LiveTransfers, IoUringReadsWritesOpensAndDirectoryOpsOnAFile) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_io_uring");
  Tmpfs fs;
  TestCgroup cg("uring");
  run_trigger(cg.dir(), {"uring", fs.dir()});
  // WRITE, WRITEV, WRITE_FIXED, and a WRITE on a read-only fd (-EBADF).
  // READ, READV, READ_FIXED, a READ at the end of the file (0 bytes), and a
  // READ on a write-only fd (-EBADF).
  // OPENAT: O_CREAT|O_EXCL (creates), write-only, read-only, a missing file
  // (open error), O_CREAT in a missing directory (open and create error).
  // MKDIRAT, again (-EEXIST); UNLINKAT, again (-ENOENT); UNLINKAT with
  // AT_REMOVEDIR, again (-ENOENT).
  expect_cgroup_counts(
      scrape_shared(), cg.path(),
      {{"cgio_vfs_writes_total", 4},
       {"cgio_vfs_write_bytes_total", URING_WRITE + URING_WRITEV_A + URING_WRITEV_B + URING_WRITE_FIXED},
       {"cgio_vfs_write_errors_total", 1},
       {"cgio_vfs_reads_total", 5},
       {"cgio_vfs_read_bytes_total", URING_READ + URING_READV_A + URING_READV_B + URING_READ_FIXED},
       {"cgio_vfs_read_errors_total", 1},
       {"cgio_vfs_opens_total", 5},
       {"cgio_vfs_open_errors_total", 2},
       {"cgio_vfs_creates_total", 1},
       {"cgio_vfs_create_errors_total", 1},
       {"cgio_vfs_mkdirs_total", 2},
       {"cgio_vfs_mkdir_errors_total", 1},
       {"cgio_vfs_unlinks_total", 2},
       {"cgio_vfs_unlink_errors_total", 1},
       {"cgio_vfs_rmdirs_total", 2},
       {"cgio_vfs_rmdir_errors_total", 1}});
}

// The kernel's submission thread (and io-wq workers) do the I/O; it is
// charged to the cgroup of the task that set up the ring. The file is
// opened, created and removed with syscalls.
TEST_F(LiveTransfers, IoUringSqpollIsChargedToTheSubmitter) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_io_uring");
  Tmpfs fs;
  TestCgroup cg("sqpoll");
  run_trigger(cg.dir(), {"uring-sqpoll", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 2},
                        {"cgio_vfs_write_bytes_total", SQPOLL_WRITE + SQPOLL_WRITEV_A + SQPOLL_WRITEV_B},
                        {"cgio_vfs_reads_total", 2},
                        {"cgio_vfs_read_bytes_total", SQPOLL_READ + SQPOLL_READV_A + SQPOLL_READV_B},
                        {"cgio_vfs_opens_total", 1},
                        {"cgio_vfs_creates_total", 1},
                        {"cgio_vfs_unlinks_total", 1}});
}

// READ and WRITE on a pipe and on a unix socket pair are neither file nor
// network I/O; one WRITE and one READ on a regular file show the ring is
// counted at all.
TEST_F(LiveTransfers, IoUringOnPipesAndUnixSocketsIsNotFileIo) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_io_uring");
  Tmpfs fs;
  TestCgroup cg("uring-nonfile");
  run_trigger(cg.dir(), {"uring-nonfile", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 1},
                        {"cgio_vfs_write_bytes_total", NONFILE_FILE_WRITE},
                        {"cgio_vfs_reads_total", 1},
                        {"cgio_vfs_read_bytes_total", NONFILE_FILE_READ},
                        {"cgio_vfs_opens_total", 1},
                        {"cgio_vfs_creates_total", 1},
                        {"cgio_vfs_unlinks_total", 1}});
}

// --- Linux AIO: every reaped event a call ---------------------------------

// PWRITE + PWRITEV reaped by io_getevents, PREAD + PREADV + FSYNC reaped by
// io_pgetevents, a PREAD and a PWRITE into a bad buffer (events with
// -EFAULT), and a PREAD on a write-only fd that io_submit refuses (no event:
// nothing). The FSYNC counts nothing. Two opens (one creating) and the
// unlink are syscalls.
TEST_F(LiveTransfers, LinuxAioEventsAreReadsAndWrites) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_aio");
  Tmpfs fs;
  TestCgroup cg("aio");
  run_trigger(cg.dir(), {"aio", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 3},
                        {"cgio_vfs_write_bytes_total", AIO_PWRITE + AIO_PWRITEV_A + AIO_PWRITEV_B},
                        {"cgio_vfs_write_errors_total", 1},
                        {"cgio_vfs_reads_total", 3},
                        {"cgio_vfs_read_bytes_total", AIO_PREAD + AIO_PREADV_A + AIO_PREADV_B},
                        {"cgio_vfs_read_errors_total", 1},
                        {"cgio_vfs_opens_total", 2},
                        {"cgio_vfs_creates_total", 1},
                        {"cgio_vfs_unlinks_total", 1}});
}

// --- copy_file_range, sendfile, splice: the file sides --------------------

// The source is written with one write(2). Three copies move it whole, a
// fourth at its end returns 0 (a read and a write of 0 bytes), a fifth from
// a write-only fd fails with EBADF (both fds are regular files: a read
// error and a write error).
TEST_F(LiveTransfers, CopyFileRangeReadsTheSourceAndWritesTheDestination) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_transfer");
  Tmpfs fs;
  TestCgroup cg("cfr");
  run_trigger(cg.dir(), {"copy-file-range", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 1 + 5},
                        {"cgio_vfs_write_bytes_total", CFR_SOURCE + CFR_COPY_1 + CFR_COPY_2 + CFR_COPY_3},
                        {"cgio_vfs_write_errors_total", 1},
                        {"cgio_vfs_reads_total", 5},
                        {"cgio_vfs_read_bytes_total", CFR_COPY_1 + CFR_COPY_2 + CFR_COPY_3},
                        {"cgio_vfs_read_errors_total", 1},
                        {"cgio_vfs_opens_total", 3},
                        {"cgio_vfs_creates_total", 2},
                        {"cgio_vfs_unlinks_total", 2}});
}

// Like copy_file_range: two sendfile calls move the source whole, one at
// its end returns 0, one from a write-only fd fails with EBADF.
TEST_F(LiveTransfers, SendfileBetweenFilesReadsAndWrites) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_transfer");
  Tmpfs fs;
  TestCgroup cg("sendfile-file");
  run_trigger(cg.dir(), {"sendfile-file", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 1 + 4},
                        {"cgio_vfs_write_bytes_total", SENDFILE_SOURCE + SENDFILE_1 + SENDFILE_2},
                        {"cgio_vfs_write_errors_total", 1},
                        {"cgio_vfs_reads_total", 4},
                        {"cgio_vfs_read_bytes_total", SENDFILE_1 + SENDFILE_2},
                        {"cgio_vfs_read_errors_total", 1},
                        {"cgio_vfs_opens_total", 3},
                        {"cgio_vfs_creates_total", 2},
                        {"cgio_vfs_unlinks_total", 2}});
}

// File to pipe, pipe to file, twice: the file sides are one read and one
// write per splice call; the pipe sides count nothing.
TEST_F(LiveTransfers, SpliceThroughAPipeReadsAndWritesTheFiles) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_transfer");
  Tmpfs fs;
  TestCgroup cg("splice-file");
  run_trigger(cg.dir(), {"splice-file", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 1 + 2},
                        {"cgio_vfs_write_bytes_total", SPLICE_SOURCE + SPLICE_1 + SPLICE_2},
                        {"cgio_vfs_reads_total", 2},
                        {"cgio_vfs_read_bytes_total", SPLICE_1 + SPLICE_2},
                        {"cgio_vfs_opens_total", 2},
                        {"cgio_vfs_creates_total", 2},
                        {"cgio_vfs_unlinks_total", 2}});
}

// --- sendfile and splice with a TCP socket: the socket side as calls ------

// Two sendfile calls from a file to a TCP socket, each several of the
// kernel's internal chunks: 2 reads of the file and 2 send calls; the
// peer's two recv calls with MSG_WAITALL (in a thread of the worker) are 2
// receives.
TEST_F(LiveTransfers, SendfileToTcpReadsTheFileAndIsOneSendPerCall) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_transfer");
  CGIO_SKIP_IF_UNCOUNTED("net_transfer");
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  Tmpfs fs;
  TestCgroup cg("sendfile-tcp");
  run_trigger(cg.dir(), {"sendfile-tcp", fs.dir()});
  expect_cgroup_counts(
      scrape_shared(), cg.path(),
      merged({{"cgio_vfs_writes_total", SENDFILE_TCP_PIECES},
              {"cgio_vfs_write_bytes_total", SENDFILE_TCP_PIECES * SENDFILE_TCP_PIECE},
              {"cgio_vfs_reads_total", 2},
              {"cgio_vfs_read_bytes_total", SENDFILE_TCP_1 + SENDFILE_TCP_2},
              {"cgio_vfs_opens_total", 1},
              {"cgio_vfs_creates_total", 1},
              {"cgio_vfs_unlinks_total", 1}},
             net("ipv4", "tcp", 2, SENDFILE_TCP_1 + SENDFILE_TCP_2, 2, SENDFILE_TCP_1 + SENDFILE_TCP_2)));
}

// Pipe to TCP socket and TCP socket to pipe, twice: one send and one
// receive (with its bytes: tcp_splice_read bypasses recvmsg) per splice
// call; the pipes (filled and drained with write/read) count nothing.
TEST_F(LiveTransfers, SpliceWithTcpIsOneSendOrReceivePerCall) {
  CGIO_SKIP_IF_UNCOUNTED("net_transfer");
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("splice-tcp");
  run_trigger(cg.dir(), {"splice-tcp"});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       net("ipv4", "tcp", 2, SPLICE_TCP_1 + SPLICE_TCP_2, 2, SPLICE_TCP_1 + SPLICE_TCP_2));
}

// --- MSG_PEEK and sendmmsg/recvmmsg ----------------------------------------

// One send, peeked by recv, recvfrom (a prefix) and recvmsg with MSG_PEEK,
// then received by one recv: only that one is a receive.
TEST_F(LiveTransfers, TcpPeeksAreNotReceives) {
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("peek-tcp");
  run_trigger(cg.dir(), {"peek-tcp"});
  expect_cgroup_counts(scrape_shared(), cg.path(), net("ipv4", "tcp", 1, PEEK_TCP, 1, PEEK_TCP));
}

// Two datagrams, each peeked (recv, recvmsg, recvfrom with MSG_PEEK) before
// its real receive.
TEST_F(LiveTransfers, UdpPeeksAreNotReceives) {
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("peek-udp");
  run_trigger(cg.dir(), {"peek-udp"});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       net("ipv4", "udp", 2, PEEK_UDP_1 + PEEK_UDP_2, 2, PEEK_UDP_1 + PEEK_UDP_2));
}

// One sendmmsg of 5 datagrams and one recvmmsg of the 5: a call per message.
TEST_F(LiveTransfers, SendmmsgAndRecvmmsgCountEveryMessage) {
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("mmsg-udp");
  run_trigger(cg.dir(), {"mmsg-udp"});
  uint64_t bytes = 0;
  for (uint64_t i = 1; i <= MMSG_COUNT; ++i) bytes += i * MMSG_UNIT;
  expect_cgroup_counts(scrape_shared(), cg.path(), net("ipv4", "udp", MMSG_COUNT, bytes, MMSG_COUNT, bytes));
}

// --- memory-mapped files ----------------------------------------------------

// The mmap scenario's file (tests/trigger/cgio_trigger.c): MMAP_PAGES pages.
constexpr uint64_t MMAP_PAGES = 256;

// On ext4 (writeback): a mapped read of the evicted file pages all of it in
// once, two rounds of stores (an msync between) dirty it twice, a private
// mapping's stores nothing; the write() that made the file stays a write.
TEST_F(LiveTransfers, MmapPageInAndDirtiedBytesOnExt4) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_mmap");
  LoopExt4 fs;
  if (fs.dir().empty()) GTEST_SKIP() << fs.error();
  TestCgroup cg("mmap");
  run_trigger(cg.dir(), {"mmap", fs.dir()});
  const uint64_t file = MMAP_PAGES * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 1},
                        {"cgio_vfs_write_bytes_total", file},
                        {"cgio_vfs_opens_total", 1},
                        {"cgio_vfs_creates_total", 1},
                        {"cgio_vfs_unlinks_total", 1},
                        {"cgio_vfs_mmap_pagein_bytes_total", file},
                        {"cgio_vfs_mmap_dirtied_bytes_total", 2 * file}});
}

// tmpfs keeps no writeback accounting: the same scenario counts no mmap
// bytes there (README: what cgio cannot see).
TEST_F(LiveTransfers, MmapOnTmpfsCountsNoMappedBytes) {
  CGIO_SKIP_IF_UNCOUNTED("vfs_mmap");
  Tmpfs fs;
  TestCgroup cg("mmap-tmpfs");
  run_trigger(cg.dir(), {"mmap", fs.dir(), "--cached"});
  const uint64_t file = MMAP_PAGES * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 1},
                        {"cgio_vfs_write_bytes_total", file},
                        {"cgio_vfs_opens_total", 1},
                        {"cgio_vfs_creates_total", 1},
                        {"cgio_vfs_unlinks_total", 1}});
}

// --- the new operations' self metrics --------------------------------------

// Each new operation is reported, attached unless this run declares it
// uncounted; io_uring and mmap are counted through their tracepoints
// whatever the probe type asked for.
TEST_F(LiveTransfers, SelfMetricsReportTheNewOperations) {
  const Metrics m = scrape_shared();
  const std::string want_type = expected_probe_type();
  for (const char* op : {"vfs_io_uring", "vfs_mmap", "vfs_aio", "vfs_transfer", "net_transfer"}) {
    const auto s = find_sample_with(m, "cgio_bpf_program_attached", {{"program", op}});
    ASSERT_TRUE(s) << op << " is not reported";
    if (expected_uncounted(op)) {
      EXPECT_EQ(s->value, 0.0) << op << " is declared uncounted but reports attached";
      continue;
    }
    EXPECT_EQ(s->value, 1.0) << op << " is not attached; exporter log:\n" << exporter_->log();
    EXPECT_EQ(find_sample(m, "cgio_bpf_program_misses_total", {{"program", op}}), 0.0) << op;
    if (std::string(op) == "vfs_io_uring" || std::string(op) == "vfs_mmap") {
      EXPECT_EQ(s->labels.at("probe_type"), "tracepoint") << op;
    } else if (!want_type.empty()) {
      EXPECT_EQ(s->labels.at("probe_type"), want_type) << op;
    }
  }
}

}  // namespace
}  // namespace cgio::test
