// Live-kernel tier: a real cgio_exporter on the running kernel, a fresh
// cgroup per test, a trigger doing I/O known to the byte inside it, and an
// exact comparison of every counter scraped over HTTP.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live_support.h"

namespace cgio::test {
namespace {

ExporterProcess* g_exporter = nullptr;

class SharedExporter : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!running_as_root()) return;
    std::string error;
    exporter_ = ExporterProcess::start(exporter_bin(), exporter_args({"--web.listen-address=127.0.0.1:0"}), &error);
    ASSERT_NE(exporter_, nullptr) << error;
    g_exporter = exporter_.get();
  }
  void TearDown() override {
    if (!exporter_) return;
    const int status = exporter_->stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "exporter did not exit cleanly on SIGTERM (status " << status << "); log:\n"
        << exporter_->log();
    g_exporter = nullptr;
  }

 private:
  std::unique_ptr<ExporterProcess> exporter_;
};

[[maybe_unused]] const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new SharedExporter);

class LiveCounts : public ::testing::Test {
 protected:
  void SetUp() override {
    CGIO_REQUIRE_ROOT();
    ASSERT_NE(g_exporter, nullptr) << "shared exporter did not start";
  }
  Metrics scrape_shared() { return scrape(g_exporter->port()); }
};

TEST_F(LiveCounts, ReadWriteFamiliesOnTmpfs) {
  Tmpfs fs;
  TestCgroup cg("rw");
  run_trigger(cg.dir(), {"rw", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 5},
                        {"cgio_vfs_write_bytes_total", 100 + 200 + 120 + 30 + 5},
                        {"cgio_vfs_reads_total", 6},
                        {"cgio_vfs_read_bytes_total", 100 + 200 + 120 + 30 + 5},
                        {"cgio_vfs_opens_total", 1},
                        {"cgio_vfs_creates_total", 1},
                        {"cgio_vfs_unlinks_total", 1}});
}

TEST_F(LiveCounts, FailingReadsAndWritesAreErrors) {
  Tmpfs fs;
  TestCgroup cg("errors");
  run_trigger(cg.dir(), {"errors", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 2},
                        {"cgio_vfs_write_bytes_total", 10},
                        {"cgio_vfs_write_errors_total", 1},
                        {"cgio_vfs_reads_total", 3},
                        {"cgio_vfs_read_bytes_total", 10},
                        {"cgio_vfs_read_errors_total", 2},
                        {"cgio_vfs_opens_total", 2},
                        {"cgio_vfs_creates_total", 1},
                        {"cgio_vfs_unlinks_total", 1}});
}

TEST_F(LiveCounts, OpensCreatesAndTheirFailures) {
  Tmpfs fs;
  TestCgroup cg("opens");
  run_trigger(cg.dir(), {"opens", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_opens_total", 9},
                        {"cgio_vfs_open_errors_total", 4},
                        {"cgio_vfs_creates_total", 3},
                        {"cgio_vfs_create_errors_total", 2},
                        {"cgio_vfs_unlinks_total", 3}});
}

TEST_F(LiveCounts, MkdirRmdirUnlinkAndUnlinkat) {
  Tmpfs fs;
  TestCgroup cg("dirs");
  run_trigger(cg.dir(), {"dirs", fs.dir()});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_mkdirs_total", 3},
                        {"cgio_vfs_mkdir_errors_total", 1},
                        {"cgio_vfs_rmdirs_total", 4},
                        {"cgio_vfs_rmdir_errors_total", 2},
                        {"cgio_vfs_unlinks_total", 3},
                        {"cgio_vfs_unlink_errors_total", 2},
                        {"cgio_vfs_opens_total", 1},
                        {"cgio_vfs_creates_total", 1}});
}

Expected tcp(const std::string& family) {
  const std::string l = "{family=" + family + ",protocol=tcp}";
  return {{"cgio_net_sent_bytes_total" + l, 10000},
          {"cgio_net_sends_total" + l, 4},
          {"cgio_net_received_bytes_total" + l, 10000},
          {"cgio_net_receives_total" + l, 4}};
}

Expected udp(const std::string& family) {
  const std::string l = "{family=" + family + ",protocol=udp}";
  return {{"cgio_net_sent_bytes_total" + l, 600},
          {"cgio_net_sends_total" + l, 3},
          {"cgio_net_received_bytes_total" + l, 600},
          {"cgio_net_receives_total" + l, 3}};
}

// Socket read()/write() count as network I/O and never as file I/O: the
// expectations below leave every vfs counter at zero.
TEST_F(LiveCounts, TcpOverIpv4Loopback) {
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("tcp4");
  run_trigger(cg.dir(), {"tcp4"});
  expect_cgroup_counts(scrape_shared(), cg.path(), tcp("ipv4"));
}

TEST_F(LiveCounts, TcpOverIpv6Loopback) {
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("tcp6");
  run_trigger(cg.dir(), {"tcp6"});
  expect_cgroup_counts(scrape_shared(), cg.path(), tcp("ipv6"));
}

TEST_F(LiveCounts, TcpOverIpv4MappedIpv6IsIpv6) {
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("tcp6m");
  run_trigger(cg.dir(), {"tcp6-mapped"});
  expect_cgroup_counts(scrape_shared(), cg.path(), tcp("ipv6"));
}

TEST_F(LiveCounts, UdpOverIpv4Loopback) {
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("udp4");
  run_trigger(cg.dir(), {"udp4"});
  expect_cgroup_counts(scrape_shared(), cg.path(), udp("ipv4"));
}

TEST_F(LiveCounts, UdpOverIpv6Loopback) {
  CGIO_SKIP_IF_UNCOUNTED("net_send");
  CGIO_SKIP_IF_UNCOUNTED("net_receive");
  TestCgroup cg("udp6");
  run_trigger(cg.dir(), {"udp6"});
  expect_cgroup_counts(scrape_shared(), cg.path(), udp("ipv6"));
}

TEST_F(LiveCounts, ProcDevNullPipesAndUnixSocketsDoNotCount) {
  TestCgroup cg("ignored");
  run_trigger(cg.dir(), {"ignored"});
  expect_cgroup_counts(scrape_shared(), cg.path(), {{"cgio_vfs_opens_total", 2}});
}

TEST_F(LiveCounts, TwoThreadsWritingConcurrentlyLoseNothing) {
  Tmpfs fs;
  TestCgroup cg("threads");
  constexpr uint64_t n = 200000;
  run_trigger(cg.dir(), {"threads", fs.dir(), std::to_string(n)});
  expect_cgroup_counts(scrape_shared(), cg.path(),
                       {{"cgio_vfs_writes_total", 2 * n},
                        {"cgio_vfs_write_bytes_total", 2 * n * 64},
                        {"cgio_vfs_opens_total", 2},
                        {"cgio_vfs_creates_total", 2},
                        {"cgio_vfs_unlinks_total", 2}});
}

TEST_F(LiveCounts, NestedCgroupIsLabelledWithItsFullPath) {
  Tmpfs fs;
  TestCgroup parent("nest");
  const std::string child_dir = parent.dir() + "/job_7/step_0";
  ASSERT_EQ(mkdir((parent.dir() + "/job_7").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(child_dir.c_str(), 0755), 0);
  run_trigger(child_dir, {"reads", fs.dir(), "1000"});
  const Metrics m = scrape_shared();
  rmdir(child_dir.c_str());
  rmdir((parent.dir() + "/job_7").c_str());
  expect_cgroup_counts(m, parent.path() + "/job_7/step_0",
                       {{"cgio_vfs_reads_total", 1000},
                        {"cgio_vfs_read_bytes_total", 1000},
                        {"cgio_vfs_writes_total", 1},
                        {"cgio_vfs_write_bytes_total", 1},
                        {"cgio_vfs_opens_total", 1},
                        {"cgio_vfs_creates_total", 1},
                        {"cgio_vfs_unlinks_total", 1}});
  // Nothing is charged to the parent: counts are per cgroup, not summed.
  expect_cgroup_counts(m, parent.path(), {});
}

TEST_F(LiveCounts, CountersOnlyGrowBetweenScrapes) {
  Tmpfs fs;
  TestCgroup cg("grow");
  run_trigger(cg.dir(), {"reads", fs.dir(), "10"});
  const auto first = value_of(scrape_shared(), "cgio_vfs_reads_total", {{"cgroup", cg.path()}});
  run_trigger(cg.dir(), {"reads", fs.dir(), "25"});
  const auto second = value_of(scrape_shared(), "cgio_vfs_reads_total", {{"cgroup", cg.path()}});
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, 10);
  EXPECT_EQ(*second, 35);
}

TEST_F(LiveCounts, SelfMetricsReportEveryOperationAttached) {
  const Metrics m = scrape_shared();
  const std::string want_type = expected_probe_type();
  for (const char* op : {"vfs_read", "vfs_write", "vfs_open", "vfs_mkdir", "vfs_unlink", "vfs_rmdir", "vfs_transfer",
                         "vfs_aio", "vfs_io_uring", "net_send", "net_receive", "net_transfer"}) {
    const auto s = find_sample_with(m, "cgio_bpf_program_attached", {{"program", op}});
    ASSERT_TRUE(s) << op << " is not reported";
    if (expected_uncounted(op)) {
      EXPECT_EQ(s->value, 0.0) << op << " is declared uncounted but reports attached";
      continue;
    }
    EXPECT_EQ(s->value, 1.0) << op << " is not attached; exporter log:\n" << g_exporter->log();
    EXPECT_EQ(find_sample(m, "cgio_bpf_program_misses_total", {{"program", op}}), 0.0) << op;
    if (!want_type.empty()) {
      // io_uring's completion tracepoint serves every probe type.
      EXPECT_EQ(s->labels.at("probe_type"), std::string_view(op) == "vfs_io_uring" ? "tracepoint" : want_type) << op;
    }
  }
  for (const char* c : {"vfs", "net", "bpf"}) {
    EXPECT_EQ(find_sample(m, "cgio_scrape_errors_total", {{"collector", c}}), 0.0) << c;
    EXPECT_TRUE(find_sample(m, "cgio_scrape_duration_seconds", {{"collector", c}})) << c;
  }
  for (const char* map : {"vfs", "net"}) {
    EXPECT_EQ(find_sample(m, "cgio_bpf_map_full_total", {{"map", map}}), 0.0) << map;
    for (const char* reason : {"nomem", "busy", "other"}) {
      const auto failures = find_sample(m, "cgio_bpf_map_update_failures_total", {{"map", map}, {"reason", reason}});
      EXPECT_EQ(failures, 0.0) << map << " " << reason;
    }
  }
  ASSERT_EQ(m.count("cgio_build_info"), 1u);
  EXPECT_EQ(m.at("cgio_build_info").front().value, 1.0);
}

TEST_F(LiveCounts, LandingPageLinksToMetrics) {
  const HttpResponse root = http_get(g_exporter->port(), "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_NE(root.body.find("href=\"/metrics\""), std::string::npos) << root.body;
  EXPECT_EQ(http_get(g_exporter->port(), "/no-such-page").status, 404);
}

}  // namespace
}  // namespace cgio::test
