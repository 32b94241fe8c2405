// Shared pieces of the live-kernel tests: root gating, fresh cgroups, a
// private tmpfs, the trigger, and exact comparison of a cgroup's counters.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "exporter_process.h"
#include "loop_ext4.h"

namespace cgio::test {

// Skips the test when not root, unless CGIO_REQUIRE_ROOT_TESTS=1 (CI), where
// a missing privilege is a failure: the tier must not silently not run.
#define CGIO_REQUIRE_ROOT()                                                         \
  do {                                                                              \
    if (!::cgio::test::running_as_root()) {                                         \
      if (::cgio::test::root_tests_required())                                      \
        FAIL() << "live-kernel tests need root (CGIO_REQUIRE_ROOT_TESTS=1 is set)"; \
      GTEST_SKIP() << "live-kernel tests need root; skipped";                       \
    }                                                                               \
  } while (0)

bool running_as_root();
bool root_tests_required();

// Environment knobs, so the same tests run on the host and in the VM matrix:
//   CGIO_EXPORTER_BIN, CGIO_TRIGGER_BIN  binaries (default: the build tree's)
//   CGIO_TEST_EXPORTER_ARGS  extra flags for every exporter a test starts,
//                            e.g. "--bpf.probe-type=kprobe"
//   CGIO_TEST_PROBE_TYPE     the probe type every counted operation must use
//   CGIO_TEST_UNCOUNTED      operations that must NOT be counted in this run
//                            (comma-separated; e.g. net_send,net_receive for the
//                            tracepoint type on a kernel before 6.3); tests that
//                            need them are skipped with that reason
std::string exporter_bin();
std::string trigger_bin();
std::vector<std::string> exporter_args(std::vector<std::string> args);
// Starts the exporter on a free port of 127.0.0.1 with `args` and the run's
// extra flags; a start failure is a test failure with the exporter's log.
std::unique_ptr<ExporterProcess> start_exporter(std::vector<std::string> args);
std::string expected_probe_type();
bool expected_uncounted(const std::string& operation);

// Skips a test whose operation this run declares uncounted.
#define CGIO_SKIP_IF_UNCOUNTED(op)                                                      \
  do {                                                                                  \
    if (::cgio::test::expected_uncounted(op))                                           \
      GTEST_SKIP() << op << " is declared uncounted in this run (CGIO_TEST_UNCOUNTED)"; \
  } while (0)

// A new cgroup directly under the cgroup2 mount, removed on destruction.
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& name);
  ~TestCgroup();
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  const std::string& dir() const { return dir_; }    // absolute directory
  const std::string& path() const { return path_; }  // metric label, "/name"

 private:
  std::string dir_, path_;
};

// A tmpfs mounted on a fresh temporary directory for the test's files.
class Tmpfs {
 public:
  // `size`: tmpfs's size= option.
  explicit Tmpfs(const std::string& size = "64m");
  ~Tmpfs();
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Runs the trigger scenario inside `cgroup_dir`; fails the test on a
// non-zero exit, with the trigger's output.
void run_trigger(const std::string& cgroup_dir, const std::vector<std::string>& args);

// Expected counters of one cgroup. Keys: a VFS metric name, or a net metric
// name with its labels, e.g. "cgio_net_sends_total{family=ipv4,protocol=tcp}".
// Every counter not listed must be 0 (or absent when the cgroup has no
// counters of that collector at all).
using Expected = std::map<std::string, uint64_t>;
void expect_cgroup_counts(const Metrics& metrics, const std::string& cgroup, const Expected& want);

// The counter contract: every VFS and net series key.
std::vector<std::string> vfs_series_keys();
std::vector<std::string> net_series_keys();

Metrics scrape(uint16_t port);

// The value of the sample of `name` whose labels include `subset` (a
// cgroup's series also carry workload labels).
std::optional<double> value_of(const Metrics& m, const std::string& name,
                               const std::map<std::string, std::string>& subset);

// The first sample of `name` whose labels include `subset`.
std::optional<Sample> find_sample_with(const Metrics& m, const std::string& name,
                                       const std::map<std::string, std::string>& subset);

}  // namespace cgio::test
