// Live-kernel tier: accounting records a site can bill from. The file on a
// filesystem that fills up and then grows, or goes read-only and back: every
// record ends up written once, whole; a churn of 20,000 units at full speed:
// one right record each.
#include <gtest/gtest.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "live_support.h"

namespace cgio::test {
namespace {

using namespace std::chrono_literals;

class LiveRecords : public ::testing::Test {
 protected:
  void SetUp() override { CGIO_REQUIRE_ROOT(); }
};

// Every line of the accounting file, parsed; a line that is not one JSON
// object fails the test. Keyed by the record's cgroup.
std::map<std::string, std::vector<nlohmann::json>> read_records(const std::string& path) {
  std::map<std::string, std::vector<nlohmann::json>> by_cgroup;
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ADD_FAILURE() << path << " line " << n << " is not a record: " << line.substr(0, 200);
      continue;
    }
    by_cgroup[j.value("cgroup", "")].push_back(std::move(j));
  }
  return by_cgroup;
}

// Scrapes until `done` holds for the scrape (true) or `timeout` passes.
bool scrape_until(uint16_t port, const std::function<bool(const Metrics&)>& done, std::chrono::milliseconds timeout,
                  Metrics* last = nullptr) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Metrics m = scrape(port);
    const bool ok = done(m);
    if (last) *last = std::move(m);
    if (ok) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(100ms);
  }
}

double metric(const Metrics& m, const std::string& name) { return value_of(m, name, {}).value_or(-1); }

// Slurm jobs under a per-test stepd scope, each doing `reads` known reads.
class Jobs {
 public:
  explicit Jobs(const std::string& tag)
      : scope_("/system.slice/" + tag + std::to_string(getpid()) + "_slurmstepd.scope") {
    mkdir((cgroup2_mount() + "/system.slice").c_str(), 0755);
    EXPECT_EQ(mkdir((cgroup2_mount() + scope_).c_str(), 0755), 0) << std::strerror(errno);
  }
  ~Jobs() { rmdir((cgroup2_mount() + scope_).c_str()); }
  std::string cgroup(int id) const { return scope_ + "/job_" + std::to_string(id); }
  // Creates the job, runs `reads` reads of a file in `data` in it, removes it.
  void run(int id, const std::string& data, int reads) const {
    const std::string dir = cgroup2_mount() + cgroup(id);
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << std::strerror(errno);
    run_trigger(dir, {"reads", data, std::to_string(reads)});
    ASSERT_EQ(rmdir(dir.c_str()), 0) << std::strerror(errno);
  }

 private:
  std::string scope_;
};

// The job's one record, with its read count.
void expect_one_record(const std::map<std::string, std::vector<nlohmann::json>>& records, const std::string& cgroup,
                       int reads) {
  auto it = records.find(cgroup);
  ASSERT_NE(it, records.end()) << "no record for " << cgroup;
  ASSERT_EQ(it->second.size(), 1u) << "records for " << cgroup;
  EXPECT_EQ(it->second[0]["counters"].value("cgio_vfs_reads_total", uint64_t{0}), static_cast<uint64_t>(reads))
      << cgroup;
}

TEST_F(LiveRecords, AFilesystemThatFillsUpDelaysRecordsAndLosesNone) {
  Tmpfs data;
  Tmpfs small("64k");  // room for a few dozen records
  const std::string file = small.dir() + "/accounting.jsonl";
  auto exporter = start_exporter({"--accounting.file=" + file, "--no-collector.net"});
  ASSERT_TRUE(exporter);
  Jobs jobs("full_");
  constexpr int kJobs = 100;
  for (int i = 1; i <= kJobs; ++i) jobs.run(i, data.dir(), i);
  Metrics m;
  // The file fills up: records wait, none is dropped.
  ASSERT_TRUE(scrape_until(
      exporter->port(),
      [](const Metrics& s) {
        return metric(s, "cgio_accounting_records_pending") > 0 && metric(s, "cgio_accounting_write_errors_total") > 0;
      },
      10s, &m))
      << "expected the 64 KiB filesystem to refuse records";
  EXPECT_EQ(metric(m, "cgio_accounting_records_dropped_total"), 0.0);
  const auto err = find_sample_with(m, "cgio_accounting_last_error_timestamp_seconds", {});
  ASSERT_TRUE(err);
  EXPECT_NE(err->labels.at("error").find("No space left on device"), std::string::npos) << err->labels.at("error");
  const double pending = metric(m, "cgio_accounting_records_pending");

  // Room again: every record is written, once, whole.
  ASSERT_EQ(mount(nullptr, small.dir().c_str(), nullptr, MS_REMOUNT, "size=16m"), 0) << std::strerror(errno);
  ASSERT_TRUE(scrape_until(
      exporter->port(), [](const Metrics& s) { return metric(s, "cgio_accounting_records_pending") == 0; }, 20s, &m));
  EXPECT_EQ(metric(m, "cgio_accounting_records_dropped_total"), 0.0);
  EXPECT_GE(metric(m, "cgio_accounting_records_written_total"), kJobs);
  const auto records = read_records(file);
  for (int i = 1; i <= kJobs; ++i) expect_one_record(records, jobs.cgroup(i), i);
  RecordProperty("records_pending_while_full", static_cast<int>(pending));
}

TEST_F(LiveRecords, AReadOnlyRemountDelaysRecordsAndLosesNone) {
  Tmpfs data;
  Tmpfs dir("16m");
  const std::string file = dir.dir() + "/accounting.jsonl";
  auto exporter = start_exporter({"--accounting.file=" + file, "--no-collector.net"});
  ASSERT_TRUE(exporter);
  EXPECT_NE(exporter->log().find("spool=" + file + ".spool"), std::string::npos)
      << "the default spool is beside the file:\n"
      << exporter->log();
  Jobs jobs("ro_");
  jobs.run(1, data.dir(), 10);
  ASSERT_TRUE(scrape_until(
      exporter->port(), [](const Metrics& s) { return metric(s, "cgio_accounting_records_written_total") >= 1; }, 10s));
  ASSERT_EQ(mount(nullptr, dir.dir().c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0) << std::strerror(errno);
  for (int i = 2; i <= 6; ++i) jobs.run(i, data.dir(), 10 * i);
  Metrics m;
  ASSERT_TRUE(scrape_until(
      exporter->port(), [](const Metrics& s) { return metric(s, "cgio_accounting_records_pending") >= 5; }, 10s, &m));
  const auto err = find_sample_with(m, "cgio_accounting_last_error_timestamp_seconds", {});
  ASSERT_TRUE(err);
  EXPECT_NE(err->labels.at("error").find("Read-only file system"), std::string::npos) << err->labels.at("error");

  ASSERT_EQ(mount(nullptr, dir.dir().c_str(), nullptr, MS_REMOUNT, nullptr), 0) << std::strerror(errno);
  ASSERT_TRUE(scrape_until(
      exporter->port(), [](const Metrics& s) { return metric(s, "cgio_accounting_records_pending") == 0; }, 20s, &m));
  EXPECT_EQ(metric(m, "cgio_accounting_records_dropped_total"), 0.0);
  const auto records = read_records(file);
  expect_one_record(records, jobs.cgroup(1), 10);
  for (int i = 2; i <= 6; ++i) expect_one_record(records, jobs.cgroup(i), 10 * i);
  for (int i = 0; i < 50 && access((file + ".spool").c_str(), F_OK) == 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_NE(access((file + ".spool").c_str(), F_OK), 0) << "no spool is left once every record is written";
}

// A restart while the file's filesystem is full: what was still queued goes
// to the spool (on a filesystem with room) and the next exporter writes it
// once there is room again. Each job ends up with one record, from either.
TEST_F(LiveRecords, ARestartWhileTheDiskIsFullKeepsQueuedRecordsInTheSpool) {
  Tmpfs data;
  Tmpfs small("64k");
  Tmpfs spool_fs("16m");
  const std::string file = small.dir() + "/accounting.jsonl";
  const std::string spool = spool_fs.dir() + "/accounting.spool";
  const std::vector<std::string> args = {"--accounting.file=" + file, "--accounting.spool-file=" + spool,
                                         "--no-collector.net"};
  auto exporter = start_exporter(args);
  ASSERT_TRUE(exporter);
  Jobs jobs("spool_");
  constexpr int kJobs = 100;
  for (int i = 1; i <= kJobs; ++i) jobs.run(i, data.dir(), i);
  Metrics m;
  ASSERT_TRUE(scrape_until(
      exporter->port(),
      [](const Metrics& s) {
        return metric(s, "cgio_accounting_records_pending") > 0 &&
               metric(s, "cgio_accounting_records_written_total") + metric(s, "cgio_accounting_records_pending") >=
                   kJobs;
      },
      20s, &m))
      << "expected the 64 KiB filesystem to refuse records";
  ASSERT_EQ(exporter->stop(SIGTERM), 0) << exporter->log();
  EXPECT_NE(exporter->log().find("accounting records kept in the spool file"), std::string::npos) << exporter->log();

  // Between the two exporters every job has its record exactly once: in the
  // file or in the spool.
  const auto in_file = read_records(file);
  const auto in_spool = read_records(spool);
  size_t spooled = 0;
  for (int i = 1; i <= kJobs; ++i) {
    const std::string cg = jobs.cgroup(i);
    const size_t n =
        (in_file.contains(cg) ? in_file.at(cg).size() : 0) + (in_spool.contains(cg) ? in_spool.at(cg).size() : 0);
    EXPECT_EQ(n, 1u) << cg;
    spooled += in_spool.contains(cg) ? 1 : 0;
  }
  EXPECT_GT(spooled, 0u);
  EXPECT_EQ(static_cast<double>(spooled), metric(m, "cgio_accounting_records_pending"))
      << "the spool holds what was pending at the last scrape";

  ASSERT_EQ(mount(nullptr, small.dir().c_str(), nullptr, MS_REMOUNT, "size=16m"), 0) << std::strerror(errno);
  exporter = start_exporter(args);
  ASSERT_TRUE(exporter);
  ASSERT_TRUE(scrape_until(
      exporter->port(),
      [&](const Metrics& s) {
        return metric(s, "cgio_accounting_records_pending") == 0 &&
               metric(s, "cgio_accounting_records_written_total") >= static_cast<double>(spooled);
      },
      20s, &m));
  const auto records = read_records(file);
  for (int i = 1; i <= kJobs; ++i) expect_one_record(records, jobs.cgroup(i), i);
  for (int i = 0; i < 50 && access(spool.c_str(), F_OK) == 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_NE(access(spool.c_str(), F_OK), 0) << "the spool is removed once its records are in the file";
  RecordProperty("records_spooled", static_cast<int>(spooled));
}

TEST_F(LiveRecords, AChurnOfTwentyThousandUnitsAtFullSpeedGivesEachOneRecord) {
  Tmpfs data;
  Tmpfs dir("256m");
  const std::string file = dir.dir() + "/accounting.jsonl";
  auto exporter = start_exporter({"--accounting.file=" + file, "--no-collector.net", "--cgroup.retain-ended=1s"});
  ASSERT_TRUE(exporter);
  const Metrics before = scrape(exporter->port());
  // 20,000 by default; the VM tier runs fewer (CGIO_TEST_CHURN).
  const char* env = std::getenv("CGIO_TEST_CHURN");
  const int n = env ? std::max(100, std::atoi(env) * 10) : 20000;
  constexpr int kWithIo = 100;  // every 100th unit does known I/O
  const std::string slice = "/" + std::string("cgio-records-") + std::to_string(getpid()) + ".slice";
  const std::string parent = cgroup2_mount() + slice;
  ASSERT_EQ(mkdir(parent.c_str(), 0755), 0);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    const std::string cg = parent + "/u" + std::to_string(i) + ".service";
    ASSERT_EQ(mkdir(cg.c_str(), 0755), 0) << std::strerror(errno);
    if (i % kWithIo == 0) run_trigger(cg, {"reads", data.dir(), std::to_string(1 + i / kWithIo)});
    ASSERT_EQ(rmdir(cg.c_str()), 0) << std::strerror(errno);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(rmdir(parent.c_str()), 0) << std::strerror(errno);
  const double written_before = metric(before, "cgio_accounting_records_written_total");
  Metrics m;
  ASSERT_TRUE(scrape_until(
      exporter->port(),
      [&](const Metrics& s) {
        return metric(s, "cgio_accounting_records_written_total") - written_before >= n &&
               metric(s, "cgio_accounting_records_pending") == 0;
      },
      60s, &m))
      << "records written: " << metric(m, "cgio_accounting_records_written_total") - written_before << " of " << n
      << ", events lost: " << metric(m, "cgio_cgroup_events_lost_total");
  EXPECT_EQ(metric(m, "cgio_accounting_records_dropped_total"), 0.0);
  const auto records = read_records(file);
  int found = 0;
  for (int i = 0; i < n; ++i) {
    const std::string cg = slice + "/u" + std::to_string(i) + ".service";
    auto it = records.find(cg);
    if (it == records.end()) {
      ADD_FAILURE() << "no record for " << cg;
      continue;
    }
    ++found;
    ASSERT_EQ(it->second.size(), 1u) << cg;
    const uint64_t reads = it->second[0]["counters"].value("cgio_vfs_reads_total", uint64_t{0});
    EXPECT_EQ(reads, i % kWithIo == 0 ? static_cast<uint64_t>(1 + i / kWithIo) : 0u) << cg;
  }
  EXPECT_EQ(found, n);
  RecordProperty("units", n);
  RecordProperty("units_per_second", static_cast<int>(n / seconds));
  RecordProperty("events_lost", static_cast<int>(metric(m, "cgio_cgroup_events_lost_total")));
}

// Paths past the kernel's 1023-byte tracepoint buffer, and up to it: units
// that live a few milliseconds are named, counted and recorded exactly.
TEST_F(LiveRecords, ShortLivedUnitsWithPathsOfOverAThousandBytesAreRecordedExactly) {
  Tmpfs data;
  Tmpfs dir("16m");
  const std::string file = dir.dir() + "/accounting.jsonl";
  auto exporter = start_exporter({"--accounting.file=" + file, "--no-collector.net", "--cgroup.retain-ended=1m"});
  ASSERT_TRUE(exporter);
  for (const size_t length : {1000u, 1500u, 3000u}) {
    // Slices of 200-byte names down to about `length` bytes.
    std::string slices = "/cgio-long-" + std::to_string(getpid()) + "-" + std::to_string(length) + ".slice";
    std::vector<std::string> made = {slices};
    ASSERT_EQ(mkdir((cgroup2_mount() + slices).c_str(), 0755), 0) << std::strerror(errno);
    while (slices.size() + 220 < length) {
      slices += "/" + std::string(200, 'x') + std::to_string(made.size()) + ".slice";
      made.push_back(slices);
      ASSERT_EQ(mkdir((cgroup2_mount() + slices).c_str(), 0755), 0) << std::strerror(errno);
    }
    std::vector<std::string> units;
    for (int i = 1; i <= 20; ++i) {
      const std::string unit = slices + "/u" + std::to_string(i) + ".service";
      const std::string abs = cgroup2_mount() + unit;
      ASSERT_EQ(mkdir(abs.c_str(), 0755), 0) << std::strerror(errno);
      run_trigger(abs, {"reads", data.dir(), std::to_string(i)});
      ASSERT_EQ(rmdir(abs.c_str()), 0) << std::strerror(errno);
      units.push_back(unit);
    }
    for (auto it = made.rbegin(); it != made.rend(); ++it) rmdir((cgroup2_mount() + *it).c_str());
    ASSERT_GE(units.back().size(), length - 250) << "path length";
    Metrics m;
    ASSERT_TRUE(scrape_until(
        exporter->port(),
        [&](const Metrics& s) {
          return metric(s, "cgio_accounting_records_pending") == 0 &&
                 value_of(s, "cgio_vfs_reads_total", {{"cgroup", units.back()}}).has_value();
        },
        10s, &m))
        << "the last unit of " << units.back().size() << " bytes is not reported";
    const auto records = read_records(file);
    for (int i = 1; i <= 20; ++i) {
      const std::string& unit = units[static_cast<size_t>(i - 1)];
      EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", {{"cgroup", unit}}), static_cast<double>(i)) << unit.size();
      expect_one_record(records, unit, i);
    }
    EXPECT_EQ(value_of(m, "cgio_vfs_reads_total", {{"cgroup", "unresolved"}}).value_or(0), 0.0);
    RecordProperty("path_bytes_" + std::to_string(length), static_cast<int>(units.back().size()));
  }
}

}  // namespace
}  // namespace cgio::test
