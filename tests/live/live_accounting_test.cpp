// Live-kernel tier: per-job accounting on real cgroup trees, cgroup v2 and
// v1; jobs that end (retention, accounting records, a job of 100 ms),
// churn leaving the maps empty, and the per-filesystem breakdown.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kernel/mounts.h"
#include "live_support.h"

namespace cgio::test {
namespace {

namespace fs = std::filesystem;

// A directory tree of cgroups made for one test, removed deepest first.
class CgroupTree {
 public:
  explicit CgroupTree(std::string root) : root_(std::move(root)) {}
  ~CgroupTree() { remove_all(); }
  // mkdir -p root/rel; returns the absolute directory.
  std::string add(const std::string& rel) {
    std::string path = root_;
    std::stringstream parts(rel);
    std::string part;
    while (std::getline(parts, part, '/')) {
      if (part.empty()) continue;
      path += "/" + part;
      if (mkdir(path.c_str(), 0755) == 0) made_.push_back(path);
    }
    return path;
  }
  // rmdir everything made, children first; true when all went away.
  bool remove_all() {
    bool ok = true;
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      bool gone = false;
      for (int i = 0; i < 50 && !gone; ++i) {
        gone = rmdir(it->c_str()) == 0 || errno == ENOENT;
        if (!gone) usleep(20000);
      }
      ok = ok && gone;
    }
    made_.clear();
    return ok;
  }

 private:
  std::string root_;
  std::vector<std::string> made_;
};

std::string unique(const std::string& base) { return base + std::to_string(getpid()); }

class LiveAccounting : public ::testing::Test {
 protected:
  void SetUp() override { CGIO_REQUIRE_ROOT(); }
};

TEST_F(LiveAccounting, SlurmV2JobTotalsSumTheTasksOfItsSteps) {
  Tmpfs fs;
  const std::string job = "/system.slice/" + unique("n1_") + "_slurmstepd.scope/job_4242";
  CgroupTree tree(cgroup2_mount());
  const std::string task0 = tree.add(job + "/step_0/user/task_0");
  const std::string task1 = tree.add(job + "/step_1/user/task_0");
  auto unit = start_exporter({});
  auto step = start_exporter({"--cgroup.aggregate=step", "--no-collector.net"});
  ASSERT_TRUE(unit && step);
  run_trigger(task0, {"rw", fs.dir()});
  run_trigger(task1, {"reads", fs.dir(), "1000"});

  const Metrics m = scrape(unit->port());
  const std::map<std::string, std::string> job_labels = {
      {"cgroup", job}, {"workload", "slurm"}, {"workload_id", "4242"}};
  EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", job_labels), 6.0 + 1000);
  EXPECT_EQ(value_of(m, "cgio_vfs_read_bytes_total", job_labels), 455.0 + 1000);
  EXPECT_EQ(value_of(m, "cgio_vfs_writes_total", job_labels), 5.0 + 1);
  EXPECT_EQ(value_of(m, "cgio_vfs_write_bytes_total", job_labels), 455.0 + 1);
  EXPECT_EQ(value_of(m, "cgio_vfs_opens_total", job_labels), 2.0);
  EXPECT_EQ(value_of(m, "cgio_vfs_unlinks_total", job_labels), 2.0);
  EXPECT_FALSE(value_of(m, "cgio_vfs_reads_total", {{"cgroup", job + "/step_0"}})) << "steps are summed into the job";

  const Metrics s = scrape(step->port());
  EXPECT_EQ(value_of(s, "cgio_vfs_reads_total", {{"cgroup", job + "/step_0"}, {"step", "0"}, {"workload_id", "4242"}}),
            6.0);
  EXPECT_EQ(value_of(s, "cgio_vfs_reads_total", {{"cgroup", job + "/step_1"}, {"step", "1"}, {"workload_id", "4242"}}),
            1000.0);
}

TEST_F(LiveAccounting, AnEndedJobKeepsItsTotalsForTheRetentionAndIsRecordedOnce) {
  Tmpfs fs;
  const std::string records = fs.dir() + "/accounting.jsonl";
  const std::string job = "/system.slice/" + unique("n2_") + "_slurmstepd.scope/job_77";
  CgroupTree tree(cgroup2_mount());
  const std::string task = tree.add(job + "/step_0/user/task_0");
  auto exporter = start_exporter({"--accounting.file=" + records, "--cgroup.retain-ended=3s"});
  ASSERT_TRUE(exporter);
  run_trigger(task, {"reads", fs.dir(), "300"});
  ASSERT_TRUE(tree.remove_all());
  // The removal is an event: folded at once, no scrape happened before it.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::map<std::string, std::string> labels = {{"cgroup", job}, {"workload_id", "77"}};
  const Metrics ended = scrape(exporter->port());
  EXPECT_EQ(value_of(ended, "cgio_vfs_reads_total", labels), 300.0);
  EXPECT_GE(value_of(ended, "cgio_units_ended_total", {}).value_or(0), 1.0);

  std::ifstream in(records);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"cgroup\":\"" + job + "\"") != std::string::npos) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 1u) << "exactly one record for the job";
  EXPECT_NE(lines[0].find("\"workload\":\"slurm\",\"workload_id\":\"77\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"cgio_vfs_reads_total\":300"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"cgio_vfs_read_bytes_total\":300"), std::string::npos) << lines[0];

  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_FALSE(value_of(scrape(exporter->port()), "cgio_vfs_reads_total", labels)) << "retention is over";
}

TEST_F(LiveAccounting, AJobOf100MillisecondsBetweenTwoScrapesIsFullyAccounted) {
  Tmpfs fs;
  auto exporter = start_exporter({});
  ASSERT_TRUE(exporter);
  scrape(exporter->port());
  const std::string job = "/system.slice/" + unique("n3_") + "_slurmstepd.scope/job_9";
  const auto start = std::chrono::steady_clock::now();
  {
    CgroupTree tree(cgroup2_mount());
    const std::string task = tree.add(job + "/step_0/user/task_0");
    run_trigger(task, {"rw", fs.dir()});
    ASSERT_TRUE(tree.remove_all());
  }
  const auto lived = std::chrono::steady_clock::now() - start;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const Metrics m = scrape(exporter->port());
  const std::map<std::string, std::string> labels = {{"cgroup", job}, {"workload", "slurm"}, {"workload_id", "9"}};
  EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", labels), 6.0);
  EXPECT_EQ(value_of(m, "cgio_vfs_write_bytes_total", labels), 455.0);
  EXPECT_EQ(value_of(m, "cgio_vfs_creates_total", labels), 1.0);
  RecordProperty("job_lived_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(lived).count()));
}

TEST_F(LiveAccounting, ChurnOfThousandsOfCgroupsLeavesTheMapsEmpty) {
  Tmpfs fs;
  auto exporter = start_exporter({"--no-collector.net", "--cgroup.retain-ended=1s"});
  ASSERT_TRUE(exporter);
  const Metrics before = scrape(exporter->port());
  const double entries_before = value_of(before, "cgio_bpf_map_entries", {{"map", "vfs"}}).value_or(-1);
  const double ended_before = value_of(before, "cgio_units_ended_total", {}).value_or(-1);
  // 2,000 by default; the VM tier runs fewer (CGIO_TEST_CHURN).
  const char* env = std::getenv("CGIO_TEST_CHURN");
  const int n = env ? std::atoi(env) : 2000;
  // Units (services) below a slice, which is no unit itself.
  const std::string parent = cgroup2_mount() + "/" + unique("cgio-churn-") + ".slice";
  ASSERT_EQ(mkdir(parent.c_str(), 0755), 0);
  for (int i = 0; i < n; ++i) {
    const std::string cg = parent + "/c" + std::to_string(i) + ".service";
    ASSERT_EQ(mkdir(cg.c_str(), 0755), 0);
    run_trigger(cg, {"reads", fs.dir(), "1"});
    ASSERT_EQ(rmdir(cg.c_str()), 0);
  }
  ASSERT_EQ(rmdir(parent.c_str()), 0) << std::strerror(errno);
  // Removal events are handled as they come; allow the reader to drain.
  const auto removed_at = std::chrono::steady_clock::now();
  Metrics after;
  for (int i = 0; i < 100; ++i) {
    after = scrape(exporter->port());
    if (value_of(after, "cgio_units_ended_total", {}).value_or(0) - ended_before >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto lag = std::chrono::steady_clock::now() - removed_at;
  RecordProperty("event_lag_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(lag).count()));
  // Every churned cgroup was folded and deleted: the map is back to the
  // entries of the cgroups that were there before (others may come and go).
  EXPECT_LE(value_of(after, "cgio_bpf_map_entries", {{"map", "vfs"}}).value_or(1e9), entries_before + 2);
  EXPECT_EQ(value_of(after, "cgio_units_ended_total", {}).value_or(0) - ended_before, n)
      << "every unit ended, and the slice is none";
  EXPECT_EQ(value_of(after, "cgio_cgroup_events_lost_total", {}), 0.0);
  RecordProperty("churned_cgroups", n);
}

TEST_F(LiveAccounting, ReadsAndWritesAreBrokenDownByListedFilesystem) {
  Tmpfs scratch, home, elsewhere;
  auto exporter = start_exporter({"--vfs.mountpoints=" + scratch.dir() + "," + home.dir(), "--no-collector.net"});
  ASSERT_TRUE(exporter);
  TestCgroup cg("mounts");
  run_trigger(cg.dir(), {"rw", scratch.dir()});
  run_trigger(cg.dir(), {"reads", home.dir(), "20"});
  run_trigger(cg.dir(), {"errors", elsewhere.dir()});
  const Metrics m = scrape(exporter->port());
  const auto at = [&](const char* name, const std::string& mountpoint) {
    return value_of(m, name, {{"cgroup", cg.path()}, {"mountpoint", mountpoint}});
  };
  EXPECT_EQ(at("cgio_vfs_reads_total", scratch.dir()), 6.0);
  EXPECT_EQ(at("cgio_vfs_write_bytes_total", scratch.dir()), 455.0);
  EXPECT_EQ(at("cgio_vfs_reads_total", home.dir()), 20.0);
  EXPECT_EQ(at("cgio_vfs_write_bytes_total", home.dir()), 1.0);
  EXPECT_EQ(at("cgio_vfs_reads_total", "other"), 3.0);
  EXPECT_EQ(at("cgio_vfs_read_errors_total", "other"), 2.0);
  EXPECT_EQ(at("cgio_vfs_write_errors_total", "other"), 1.0);
  // Everything else keeps one series per cgroup, without mountpoint.
  EXPECT_EQ(value_of(m, "cgio_vfs_opens_total", {{"cgroup", cg.path()}}), 4.0);
  EXPECT_FALSE(value_of(m, "cgio_vfs_opens_total", {{"mountpoint", "other"}}));
}

TEST_F(LiveAccounting, SlurmV1JobOnTheCpuacctHierarchy) {
  // The host's v1 cpuacct hierarchy, or one mounted for this test.
  std::string root;
  std::string own_mount;
  if (auto mounts = read_mountinfo("/proc/self/mountinfo")) {
    if (auto m = find_cgroup_v1_mount(*mounts, "cpuacct")) root = m->mount_point;
  }
  if (root.empty()) {
    char tmpl[] = "/tmp/cgio-cpuacct-XXXXXX";
    own_mount = mkdtemp(tmpl);
    if (mount("cgio-v1", own_mount.c_str(), "cgroup", 0, "cpuacct") != 0) {
      rmdir(own_mount.c_str());
      GTEST_SKIP() << "no cgroup v1 cpuacct hierarchy and cannot mount one: " << std::strerror(errno);
    }
    root = own_mount;
  }
  Tmpfs fs;
  const std::string job = "/" + unique("slurm_n") + "/uid_0/job_501";
  {
    CgroupTree tree(root);
    const std::string task0 = tree.add(job + "/step_0/task_0");
    const std::string task1 = tree.add(job + "/step_1/task_0");
    auto exporter = start_exporter({"--cgroup.mode=v1", "--no-collector.net"});
    ASSERT_TRUE(exporter);
    EXPECT_NE(exporter->log().find("hierarchy=v1 cgroup2_root=\"\" v1_root=" + root), std::string::npos)
        << exporter->log();
    run_trigger(task0, {"rw", fs.dir()});
    run_trigger(task1, {"reads", fs.dir(), "50"});
    const Metrics m = scrape(exporter->port());
    const std::map<std::string, std::string> labels = {{"cgroup", job}, {"workload", "slurm"}, {"workload_id", "501"}};
    EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", labels), 56.0);
    EXPECT_EQ(value_of(m, "cgio_vfs_read_bytes_total", labels), 505.0);
    EXPECT_EQ(value_of(m, "cgio_vfs_writes_total", labels), 6.0);
    // The job ends in v1 too: folded and kept.
    ASSERT_TRUE(tree.remove_all());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const Metrics ended = scrape(exporter->port());
    EXPECT_EQ(value_of(ended, "cgio_vfs_reads_total", labels), 56.0);
    EXPECT_GE(value_of(ended, "cgio_units_ended_total", {}).value_or(0), 1.0);
  }
  if (!own_mount.empty()) {
    umount2(own_mount.c_str(), MNT_DETACH);
    rmdir(own_mount.c_str());
  }
}

// A pure v1 host (RHEL 8's legacy layout: no cgroup2 mount): the defaults
// charge the v1 controller's cgroups, exactly. Runs in the VM tier's v1
// layout; skips where cgroup2 is mounted.
TEST_F(LiveAccounting, PureV1HostCountsJobsWithDefaultFlags) {
  if (!cgroup2_mount().empty()) GTEST_SKIP() << "cgroup2 is mounted: not a pure v1 host";
  std::string root;
  if (auto mounts = read_mountinfo("/proc/self/mountinfo")) {
    if (auto m = find_cgroup_v1_mount(*mounts, "cpuacct")) root = m->mount_point;
  }
  ASSERT_FALSE(root.empty()) << "neither cgroup2 nor a v1 cpuacct hierarchy";
  Tmpfs fs;
  auto exporter = start_exporter({"--no-collector.net"});
  ASSERT_TRUE(exporter);
  EXPECT_NE(exporter->log().find("hierarchy=v1"), std::string::npos) << exporter->log();
  EXPECT_NE(exporter->log().find("no cgroup2 mount"), std::string::npos) << exporter->log();
  const std::string job = "/" + unique("slurm_n") + "/uid_0/job_12";
  CgroupTree tree(root);
  const std::string task = tree.add(job + "/step_0/task_0");
  run_trigger(task, {"reads", fs.dir(), "33"});
  const Metrics m = scrape(exporter->port());
  EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", {{"cgroup", job}, {"workload", "slurm"}, {"workload_id", "12"}}), 33.0);
}

// The default on a hybrid host, started before any job (the boot order of
// every node): a job that appears in the v1 hierarchy afterwards is charged
// as that job, although its tasks also sit in the service's cgroup2 cgroup;
// the service keeps exactly its own I/O; only the job gets a record.
TEST_F(LiveAccounting, HybridHostChargesAJobCreatedAfterStartToTheJob) {
  std::string v1_root;
  if (auto mounts = read_mountinfo("/proc/self/mountinfo")) {
    if (auto m = find_cgroup_v1_mount(*mounts, "cpuacct")) v1_root = m->mount_point;
  }
  if (v1_root.empty()) GTEST_SKIP() << "no cgroup v1 cpuacct hierarchy beside cgroup2 on this host";
  Tmpfs fs;
  const std::string records = fs.dir() + "/accounting.jsonl";
  const std::string service = unique("slurmd") + ".service";
  CgroupTree v2(cgroup2_mount());
  const std::string slurmd = v2.add("/system.slice/" + service);
  auto exporter = start_exporter({"--accounting.file=" + records, "--no-collector.net"});
  ASSERT_TRUE(exporter);
  EXPECT_NE(exporter->log().find("hierarchy=hybrid"), std::string::npos) << exporter->log();

  const std::string node = "/" + unique("slurm_n");
  const std::string job = node + "/uid_0/job_88";
  {
    CgroupTree v1(v1_root);
    const std::string batch = v1.add(job + "/step_batch/task_0");
    const std::string step0 = v1.add(job + "/step_0/task_0");
    run_trigger(batch + ":" + slurmd, {"rw", fs.dir()});
    run_trigger(step0 + ":" + slurmd, {"reads", fs.dir(), "50"});
    run_trigger(slurmd, {"reads", fs.dir(), "9"});  // the service itself, in v1's root
    const Metrics m = scrape(exporter->port());
    const std::map<std::string, std::string> job_labels = {
        {"cgroup", job}, {"workload", "slurm"}, {"workload_id", "88"}};
    EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", job_labels), 56.0);
    EXPECT_EQ(value_of(m, "cgio_vfs_read_bytes_total", job_labels), 505.0);
    EXPECT_EQ(value_of(m, "cgio_vfs_writes_total", job_labels), 6.0);
    const std::map<std::string, std::string> service_labels = {{"workload", "systemd"}, {"workload_id", service}};
    EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", service_labels), 9.0);
    EXPECT_EQ(value_of(m, "cgio_vfs_writes_total", service_labels), 1.0);  // the scenario makes its file
    // The directories between the hierarchy's root and the job are no series.
    EXPECT_FALSE(value_of(m, "cgio_vfs_reads_total", {{"cgroup", node}}));
    EXPECT_FALSE(value_of(m, "cgio_vfs_reads_total", {{"cgroup", node + "/uid_0"}}));
    ASSERT_TRUE(v1.remove_all());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::ifstream in(records);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find(node) != std::string::npos) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 1u) << "one record, for the job alone";
  EXPECT_NE(lines[0].find("\"cgroup\":\"" + job + "\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"cgio_vfs_reads_total\":56"), std::string::npos) << lines[0];
}

TEST_F(LiveAccounting, CustomWorkloadPatternNamesTheUnit) {
  Tmpfs fs;
  const std::string base = unique("batch-");
  CgroupTree tree(cgroup2_mount());
  const std::string task = tree.add("/" + base + "/run-31/worker");
  auto exporter =
      start_exporter({"--cgroup.workload-pattern=/batch-[0-9]+/run-(?<workload_id>[0-9]+)", "--no-collector.net"});
  ASSERT_TRUE(exporter);
  run_trigger(task, {"reads", fs.dir(), "7"});
  const Metrics m = scrape(exporter->port());
  EXPECT_EQ(value_of(m, "cgio_vfs_reads_total",
                     {{"cgroup", "/" + base + "/run-31"}, {"workload", "custom"}, {"workload_id", "31"}}),
            7.0);
}

TEST_F(LiveAccounting, InvalidWorkloadPatternIsRejectedWithItsPosition) {
  std::string output;
  const int status = run_command({exporter_bin(), "--cgroup.workload-pattern=job_(?<workload_id>[0-9+"}, &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << output;
  EXPECT_NE(output.find("--cgroup.workload-pattern"), std::string::npos) << output;
  EXPECT_NE(output.find("position"), std::string::npos) << output;
}

}  // namespace
}  // namespace cgio::test
