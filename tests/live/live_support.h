// Shared pieces of the live-kernel tests: root gating, fresh cgroups, a
// private tmpfs, the trigger, and exact comparison of a cgroup's counters.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "exporter_process.h"

namespace cgio::test {

// Skips the test when not root, unless CGIO_REQUIRE_ROOT_TESTS=1 (CI), where
// a missing privilege is a failure: the tier must not silently not run.
#define CGIO_REQUIRE_ROOT()                                                              \
  do {                                                                                   \
    if (!::cgio::test::running_as_root()) {                                              \
      if (::cgio::test::root_tests_required())                                           \
        FAIL() << "live-kernel tests need root (CGIO_REQUIRE_ROOT_TESTS=1 is set)";      \
      GTEST_SKIP() << "live-kernel tests need root; skipped";                            \
    }                                                                                    \
  } while (0)

bool running_as_root();
bool root_tests_required();

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
  Tmpfs();
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

}  // namespace cgio::test
