// The five parts of the benchmark and the worker processes they start.
// A part returns an error only when it could not measure (a config did not
// attach, a workload failed, the exporter miscounted); its figures, whatever
// they are, go to the report, and its targets next to them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_support.h"
#include "util/result.h"

namespace cgio::bench {

struct Settings {
  bool smoke = false;
  // overhead
  int rounds = 9;
  uint64_t iterations = 100000;
  uint64_t warmup = 10000;
  int cpu = -1;  // the measuring thread's CPU; -1: the last online CPU
  // scrape
  std::vector<uint64_t> sizes{100, 1000, 10000, 50000};
  int scrapes = 5;
  // concurrency
  int concurrency_rounds = 5;
  double concurrency_seconds = 2.0;
  // churn
  uint64_t churn_units = 20000;
  int churn_rounds = 3;
  // binaries
  std::string self;  // this program, for its worker modes
  std::string exporter;
  std::string bpftrace = "/usr/bin/bpftrace";
  std::string bpftrace_script;
};

struct Context {
  Settings settings;
  Machine machine;
  std::string cgroup_root;  // the cgroup2 mount
  Report report;
  std::vector<Target> targets;
};

Result<void> run_overhead(Context& ctx);
Result<void> run_scrape(Context& ctx);
Result<void> run_concurrency(Context& ctx);
Result<void> run_mmap(Context& ctx);
Result<void> run_churn(Context& ctx);

// Worker modes (cgio_bench --worker <part> ...): they move themselves into
// the cgroup they are given, do the I/O and print what they did.
int overhead_worker(const std::vector<std::string>& args);
int concurrency_worker(const std::vector<std::string>& args);
int mmap_worker(const std::vector<std::string>& args);

// "Measured on <machine>, load average <x>": printed with every result.
std::string machine_note(const Context& ctx);

}  // namespace cgio::bench
