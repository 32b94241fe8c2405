// Live-kernel tier, one exporter per test: flags that change what is
// counted, a full map, and the ways the process starts and stops.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "live_support.h"
#include "util/bpf_handles.h"

namespace cgio::test {
namespace {

// Ids of loaded BPF programs whose kernel name starts with "cgio_".
std::set<__u32> cgio_program_ids() {
  std::set<__u32> ids;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    Fd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid()) continue;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 && std::strncmp(info.name, "cgio_", 5) == 0) {
      ids.insert(id);
    }
  }
  return ids;
}

bool can_bind(uint16_t port) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

class LiveLifecycle : public ::testing::Test {
 protected:
  void SetUp() override { CGIO_REQUIRE_ROOT(); }
};

TEST_F(LiveLifecycle, IncludePseudoFsCountsProcReadsButNotDevices) {
  auto exporter = start_exporter({"--vfs.include-pseudo-fs", "--no-collector.net"});
  ASSERT_TRUE(exporter);
  TestCgroup cg("pseudo");
  run_trigger(cg.dir(), {"ignored"});
  const Metrics m = scrape(exporter->port());
  EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", {{"cgroup", cg.path()}}), 1.0);
  EXPECT_GT(value_of(m, "cgio_vfs_read_bytes_total", {{"cgroup", cg.path()}}).value_or(0), 0.0);
  // /dev/null is a character device: never file I/O.
  EXPECT_EQ(value_of(m, "cgio_vfs_writes_total", {{"cgroup", cg.path()}}), 0.0);
}

TEST_F(LiveLifecycle, DisabledCollectorIsNeitherLoadedNorServed) {
  auto exporter = start_exporter({"--no-collector.net"});
  ASSERT_TRUE(exporter);
  const Metrics m = scrape(exporter->port());
  EXPECT_EQ(m.count("cgio_net_sent_bytes_total"), 0u);
  EXPECT_TRUE(find_sample_with(m, "cgio_bpf_program_attached", {{"program", "vfs_read"}}));
  EXPECT_FALSE(find_sample_with(m, "cgio_bpf_program_attached", {{"program", "net_send"}}));
  EXPECT_FALSE(find_sample(m, "cgio_bpf_map_full_total", {{"map", "net"}}));
}

// Every way a counter map can lose an update, summed: full, nomem, busy, other.
double lost_updates(const Metrics& m, const std::string& map, std::string* detail) {
  double sum = find_sample(m, "cgio_bpf_map_full_total", {{"map", map}}).value_or(0);
  *detail = "full=" + std::to_string(sum);
  for (const char* reason : {"nomem", "busy", "other"}) {
    const double v =
        find_sample(m, "cgio_bpf_map_update_failures_total", {{"map", map}, {"reason", reason}}).value_or(0);
    *detail += std::string(" ") + reason + "=" + std::to_string(v);
    sum += v;
  }
  return sum;
}

TEST_F(LiveLifecycle, FullMapLosesUpdatesVisiblyNotSilently) {
  // One entry: the first cgroup to do file I/O takes it, every other
  // cgroup's updates are lost and counted.
  auto exporter = start_exporter({"--bpf.map-entries=1", "--no-collector.net"});
  ASSERT_TRUE(exporter);
  Tmpfs fs;
  TestCgroup first("full-a");
  run_trigger(first.dir(), {"reads", fs.dir(), "1"});
  std::string before_detail, after_detail;
  const Metrics before = scrape(exporter->port());
  const double full_before = find_sample(before, "cgio_bpf_map_full_total", {{"map", "vfs"}}).value_or(-1);
  const double lost_before = lost_updates(before, "vfs", &before_detail);
  ASSERT_GE(full_before, 0);
  EXPECT_EQ(value_of(before, "cgio_bpf_map_capacity", {{"map", "vfs"}}), 1.0) << "--bpf.map-entries, exported";
  EXPECT_EQ(value_of(before, "cgio_bpf_map_entries", {{"map", "vfs"}}), 1.0) << "so the map reads as full";

  TestCgroup second("full-b");
  constexpr int reads = 500;
  run_trigger(second.dir(), {"reads", fs.dir(), std::to_string(reads)});
  const Metrics after = scrape(exporter->port());
  // The second cgroup's 1 open + 1 write + 500 reads + 1 unlink were lost
  // (other cgroups' concurrent I/O may add more), and reported as a full map.
  const double lost = lost_updates(after, "vfs", &after_detail) - lost_before;
  const double full = find_sample(after, "cgio_bpf_map_full_total", {{"map", "vfs"}}).value_or(0) - full_before;
  EXPECT_GE(full, reads + 3) << "before: " << before_detail << "; after: " << after_detail;
  EXPECT_GE(lost, full);
  // Its series exists (the cgroup is tracked) but nothing was counted in it.
  EXPECT_EQ(value_of(after, "cgio_vfs_reads_total", {{"cgroup", second.path()}}).value_or(0), 0.0);
  // And logged, once, naming the flag to raise.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::string log = exporter->log();
  const std::string line = "BPF map vfs is full";
  const size_t at = log.find(line);
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_NE(log.find("raise --bpf.map-entries", at), std::string::npos) << log;
  EXPECT_EQ(log.find(line, at + 1), std::string::npos) << "logged more than once: " << log;
}

TEST_F(LiveLifecycle, SigtermWithoutPinsDetachesProgramsAndReleasesThePort) {
  // Other exporters (earlier tests) may still be going away: follow the
  // programs this one loads, by id.
  const std::set<__u32> before = cgio_program_ids();
  auto exporter = start_exporter({"--bpf.pin-path=none"});
  ASSERT_TRUE(exporter);
  const uint16_t port = exporter->port();
  std::set<__u32> mine;
  for (__u32 id : cgio_program_ids()) {
    if (!before.contains(id)) mine.insert(id);
  }
  EXPECT_FALSE(mine.empty());
  EXPECT_FALSE(can_bind(port));
  const int status = exporter->stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << exporter->log();
  std::set<__u32> left;
  for (__u32 id : cgio_program_ids()) {
    if (mine.contains(id)) left.insert(id);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " of the exporter's programs are still loaded";
  EXPECT_TRUE(can_bind(port));
}

// Pinned (the default), the programs outlive the process and count on;
// --bpf.unpin detaches them and frees the maps.
TEST_F(LiveLifecycle, PinnedProgramsOutliveTheExporterUntilUnpinned) {
  PinnedState pins(exporter_bin());
  const std::set<__u32> before = cgio_program_ids();
  auto exporter = start_exporter(pins.flags());
  ASSERT_TRUE(exporter);
  const uint16_t port = exporter->port();
  std::set<__u32> mine;
  for (__u32 id : cgio_program_ids()) {
    if (!before.contains(id)) mine.insert(id);
  }
  ASSERT_FALSE(mine.empty());
  const int status = exporter->stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << exporter->log();
  EXPECT_TRUE(can_bind(port));
  const auto still = [&] {
    size_t n = 0;
    for (__u32 id : cgio_program_ids()) n += mine.contains(id) ? 1 : 0;
    return n;
  };
  EXPECT_EQ(still(), mine.size()) << "every program stays attached through its pinned link";
  EXPECT_TRUE(std::filesystem::exists(pins.pin_path + "/v1/cgio_vfs"));
  std::string out;
  const int unpinned = run_command({exporter_bin(), "--bpf.unpin", pins.flags()[0], pins.flags()[1]}, &out);
  EXPECT_TRUE(WIFEXITED(unpinned) && WEXITSTATUS(unpinned) == 0) << out;
  EXPECT_FALSE(std::filesystem::exists(pins.pin_path));
  EXPECT_FALSE(std::filesystem::exists(pins.state_file));
  // Links close when unpinned; the programs are freed once the kernel's
  // deferred release runs.
  for (int i = 0; i < 50 && still() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(still(), 0u) << "programs left loaded after --bpf.unpin";
}

TEST_F(LiveLifecycle, SigintStopsCleanlyToo) {
  auto exporter = start_exporter({"--no-collector.net"});
  ASSERT_TRUE(exporter);
  const int status = exporter->stop(SIGINT);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << exporter->log();
  EXPECT_NE(exporter->log().find("msg=\"shutting down\" signal=Interrupt"), std::string::npos) << exporter->log();
}

TEST_F(LiveLifecycle, ListenAddressInUseIsAClearErrorAndNonZeroExit) {
  Fd holder(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(holder.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(listen(holder.get(), 1), 0);
  socklen_t len = sizeof sa;
  getsockname(holder.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));

  std::string output;
  const int status = run_command(exporter_args({exporter_bin(), "--web.listen-address=" + address}), &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
  EXPECT_NE(output.find("cannot listen on " + address + ": Address already in use"), std::string::npos) << output;
}

TEST_F(LiveLifecycle, WithoutCapabilitiesTheMissingOnesAreNamed) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], STDERR_FILENO);
    if (setgid(nobody->pw_gid) != 0 || setuid(nobody->pw_uid) != 0) _exit(126);
    const std::string bin = exporter_bin();
    execl(bin.c_str(), bin.c_str(), "--web.listen-address=127.0.0.1:0", nullptr);
    _exit(127);
  }
  close(pipefd[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
  EXPECT_NE(output.find("missing capability CAP_BPF and CAP_PERFMON"), std::string::npos) << output;
}

}  // namespace
}  // namespace cgio::test
