// Live-kernel tier: counting that survives the exporter (--bpf.pin-path).
// A job runs across a SIGTERM restart and a SIGKILL restart, reading all
// the while and while no exporter runs; jobs start and end entirely while
// none runs. Every read is counted once, no scraped counter goes back, and
// each job gets exactly one record with all of its reads.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "live_support.h"

namespace cgio::test {
namespace {

using namespace std::chrono_literals;

class LivePinning : public ::testing::Test {
 protected:
  void SetUp() override { CGIO_REQUIRE_ROOT(); }
};

std::map<std::string, std::vector<nlohmann::json>> records_of(const std::string& path) {
  std::map<std::string, std::vector<nlohmann::json>> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not a record: " << line.substr(0, 200);
    if (j.is_object()) out[j.value("cgroup", "")].push_back(std::move(j));
  }
  return out;
}

uint64_t record_reads(const nlohmann::json& r) { return r["counters"].value("cgio_vfs_reads_total", uint64_t{0}); }

struct Fixture {
  PinnedState pins{exporter_bin()};
  Tmpfs data, acct;
  std::string file = acct.dir() + "/accounting.jsonl";
  std::string scope = "/system.slice/pin" + std::to_string(getpid()) + "_slurmstepd.scope";
  std::unique_ptr<ExporterProcess> exporter;
  std::vector<double> seen;  // every scrape of the long job's reads, in order

  Fixture() {
    mkdir((cgroup2_mount() + "/system.slice").c_str(), 0755);
    EXPECT_EQ(mkdir((cgroup2_mount() + scope).c_str(), 0755), 0) << std::strerror(errno);
  }
  ~Fixture() {
    exporter.reset();
    // A failed test leaves its cgroups: later exporters would report them.
    std::vector<std::string> dirs;
    for (const auto& e : std::filesystem::recursive_directory_iterator(cgroup2_mount() + scope)) {
      if (e.is_directory()) dirs.push_back(e.path());
    }
    std::sort(dirs.rbegin(), dirs.rend());  // children before parents
    for (const std::string& d : dirs) rmdir(d.c_str());
    rmdir((cgroup2_mount() + scope).c_str());
  }
  std::string job(int id) const { return scope + "/job_" + std::to_string(id); }
  std::string dir(const std::string& cgroup) const { return cgroup2_mount() + cgroup; }
  void start() {
    std::vector<std::string> args = pins.flags();
    args.insert(args.end(), {"--accounting.file=" + file, "--no-collector.net"});
    exporter = start_exporter(args);
    ASSERT_TRUE(exporter);
  }
  // A cgroup that reads `n` times and is removed, all now.
  void short_cgroup(const std::string& cgroup, int n) {
    ASSERT_EQ(mkdir(dir(cgroup).c_str(), 0755), 0) << std::strerror(errno);
    run_trigger(dir(cgroup), {"reads", data.dir(), std::to_string(n)});
    ASSERT_EQ(rmdir(dir(cgroup).c_str()), 0) << std::strerror(errno);
  }
  // Scrapes until the job's reads reach `want` (or 10 s pass); each scrape
  // is kept for the monotonicity check.
  double reads_reach(const std::string& cgroup, double want) {
    double v = -1;
    for (int i = 0; i < 100; ++i) {
      v = value_of(scrape(exporter->port()), "cgio_vfs_reads_total", {{"cgroup", cgroup}}).value_or(-1);
      if (v >= 0) seen.push_back(v);
      if (v >= want) break;
      std::this_thread::sleep_for(100ms);
    }
    return v;
  }
  // Waits until `cgroup` has a record.
  std::vector<nlohmann::json> records(const std::string& cgroup) {
    for (int i = 0; i < 100; ++i) {
      auto all = records_of(file);
      if (all.contains(cgroup)) return all[cgroup];
      std::this_thread::sleep_for(100ms);
    }
    return {};
  }
};

// Reads per run of the `reads` scenario that goes on across a restart.
constexpr int kRunReads = 2000;

TEST_F(LivePinning, AJobAcrossSigtermAndSigkillRestartsKeepsEveryReadAndGetsOneRecord) {
  Fixture f;
  f.start();
  const std::string job = f.job(1);
  ASSERT_EQ(mkdir(f.dir(job).c_str(), 0755), 0) << std::strerror(errno);
  uint64_t want = 0;
  f.short_cgroup(job + "/step_0", 1000);  // folded into the job before any restart
  want += 1000;
  run_trigger(f.dir(job), {"reads", f.data.dir(), "100"});
  want += 100;
  EXPECT_EQ(f.reads_reach(job, static_cast<double>(want)), static_cast<double>(want));

  // Reads going on while the exporter stops, while none runs, and while
  // the next one hands over from the pinned programs: runs of kRunReads
  // reads, one after the other, until the next exporter has been ready a
  // while (in a directory of their own: the scenario's file is exclusive).
  ASSERT_EQ(mkdir(f.dir(job + "/step_1").c_str(), 0755), 0);
  const std::string long_data = f.data.dir() + "/long";
  ASSERT_EQ(mkdir(long_data.c_str(), 0755), 0);
  std::atomic<bool> enough{false};
  std::atomic<int> runs{0};
  std::thread reader([&] {
    while (!enough) {
      run_trigger(f.dir(job + "/step_1"), {"reads", long_data, std::to_string(kRunReads)});
      ++runs;
    }
  });
  struct Join {  // also when an assertion returns early
    std::atomic<bool>& enough;
    std::thread& t;
    ~Join() {
      enough = true;
      if (t.joinable()) t.join();
    }
  } join{enough, reader};
  while (runs < 2) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(f.exporter->stop(SIGTERM), 0) << f.exporter->log();
  const int runs_at_stop = runs;
  // While no exporter runs: a step of the job, and a whole other job.
  f.short_cgroup(job + "/step_2", 300);
  want += 300;
  f.short_cgroup(f.job(2), 50);
  f.start();
  const int runs_at_start = runs;
  std::this_thread::sleep_for(300ms);
  enough = true;
  reader.join();
  RecordProperty("reader_runs", runs.load());
  EXPECT_GT(runs_at_start, runs_at_stop) << "reads ran while no exporter did";
  EXPECT_GT(runs.load(), runs_at_start) << "reads ran across the handover";
  want += static_cast<uint64_t>(runs.load()) * kRunReads;
  EXPECT_EQ(rmdir(f.dir(job + "/step_1").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(f.reads_reach(job, static_cast<double>(want)), static_cast<double>(want))
      << "every read across the SIGTERM restart, once";
  const auto job2 = f.records(f.job(2));
  ASSERT_EQ(job2.size(), 1u) << "the job that lived while no exporter ran";
  EXPECT_EQ(record_reads(job2[0]), 50u);
  EXPECT_FALSE(job2[0].contains("ended_after")) << "its end is known from the pinned event ring";

  // SIGKILL: nothing is written at exit.
  run_trigger(f.dir(job), {"reads", f.data.dir(), "7"});
  want += 7;
  EXPECT_EQ(f.reads_reach(job, static_cast<double>(want)), static_cast<double>(want));
  const int killed = f.exporter->stop(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(killed)) << killed;
  run_trigger(f.dir(job), {"reads", f.data.dir(), "11"});
  want += 11;
  f.short_cgroup(job + "/step_3", 13);
  want += 13;
  f.short_cgroup(f.job(3), 17);
  f.start();
  EXPECT_EQ(f.reads_reach(job, static_cast<double>(want)), static_cast<double>(want))
      << "every read across the SIGKILL restart, once";

  ASSERT_EQ(rmdir(f.dir(job).c_str()), 0) << std::strerror(errno);
  const auto job1 = f.records(job);
  ASSERT_EQ(job1.size(), 1u);
  EXPECT_EQ(record_reads(job1[0]), want) << "one record with every read of its life";
  const auto job3 = f.records(f.job(3));
  ASSERT_EQ(job3.size(), 1u);
  EXPECT_EQ(record_reads(job3[0]), 17u);
  const auto all = records_of(f.file);
  EXPECT_EQ(all.at(f.job(2)).size(), 1u) << "no second record after the restarts";
  for (size_t i = 1; i < f.seen.size(); ++i) {
    EXPECT_LE(f.seen[i - 1], f.seen[i]) << "the job's counter went back at scrape " << i;
  }
  RecordProperty("job_reads", static_cast<int>(want));
}

// Fills the cgroup event ring: `n` cgroups created and removed under the
// scope (not units), two events each, while no one reads the ring.
void overflow_ring(const Fixture& f, int n) {
  for (int i = 0; i < n; ++i) {
    const std::string d = f.dir(f.scope + "/fill" + std::to_string(i));
    ASSERT_EQ(mkdir(d.c_str(), 0755), 0) << d << ": " << std::strerror(errno);
    ASSERT_EQ(rmdir(d.c_str()), 0) << d << ": " << std::strerror(errno);
  }
}

// Units whose removal events the full ring could not hold are still
// recorded, each once and exactly, from what their cgroups left in the
// maps: while the exporter runs (it is only stalled) through the walk that
// follows lost events, and while none runs through the journal's record of
// the running instances.
TEST_F(LivePinning, UnitsRemovedWhileTheRingOverflowedAreRecordedFromTheMaps) {
  Fixture f;
  f.start();
  constexpr int kJobs = 4;
  constexpr int kFill = 12000;  // 24,000 events: a few times what the 1 MiB ring holds
  const auto make_jobs = [&](int first) {
    for (int i = first; i < first + kJobs; ++i) {
      ASSERT_EQ(mkdir(f.dir(f.job(i)).c_str(), 0755), 0) << std::strerror(errno);
      run_trigger(f.dir(f.job(i)), {"reads", f.data.dir(), std::to_string(10 * i)});
    }
    for (int i = first; i < first + kJobs; ++i) {
      EXPECT_EQ(f.reads_reach(f.job(i), 10.0 * i), 10.0 * i) << f.job(i);
    }
  };
  const auto remove_jobs = [&](int first) {
    for (int i = first; i < first + kJobs; ++i) EXPECT_EQ(rmdir(f.dir(f.job(i)).c_str()), 0) << std::strerror(errno);
  };
  const auto lost = [&] {
    return value_of(scrape(f.exporter->port()), "cgio_cgroup_events_lost_total", {}).value_or(0);
  };

  // Stalled: the ring fills, then the jobs end.
  make_jobs(1);
  const double lost_before = lost();
  ASSERT_EQ(kill(f.exporter->pid(), SIGSTOP), 0);
  overflow_ring(f, kFill);
  remove_jobs(1);
  ASSERT_EQ(kill(f.exporter->pid(), SIGCONT), 0);
  for (int i = 1; i <= kJobs; ++i) {
    const auto r = f.records(f.job(i));
    ASSERT_EQ(r.size(), 1u) << f.job(i);
    EXPECT_EQ(record_reads(r[0]), static_cast<uint64_t>(10 * i)) << f.job(i);
  }
  EXPECT_GT(lost(), lost_before) << "the ring did overflow";

  // Stopped: the same while no exporter runs.
  make_jobs(11);
  ASSERT_EQ(f.exporter->stop(SIGTERM), 0);
  overflow_ring(f, kFill);
  remove_jobs(11);
  f.start();
  for (int i = 11; i < 11 + kJobs; ++i) {
    const auto r = f.records(f.job(i));
    ASSERT_EQ(r.size(), 1u) << f.job(i);
    EXPECT_EQ(record_reads(r[0]), static_cast<uint64_t>(10 * i)) << f.job(i);
    EXPECT_TRUE(r[0].contains("ended_after")) << "its end is known only within an interval: " << r[0].dump();
  }
  const auto all = records_of(f.file);
  for (int i : {1, 2, 3, 4}) EXPECT_EQ(all.at(f.job(i)).size(), 1u) << "recorded again after the restart";
}

}  // namespace
}  // namespace cgio::test
