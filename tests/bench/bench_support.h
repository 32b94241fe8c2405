// Pieces every benchmark part shares: the machine's description, statistics,
// cgroups and mounts that clean up after themselves, HTTP timing and the
// report (markdown tables on stdout and in a file).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "child_process.h"
#include "util/result.h"

namespace cgio::bench {

// Child processes (workers, the exporter, bpftrace) are test::ChildProcess.
using test::ChildProcess;
using test::describe_status;
using test::exited_ok;

// --- the machine --------------------------------------------------------------

struct Machine {
  std::string kernel;     // uname -r
  unsigned cpus = 0;      // online CPUs (nproc)
  std::string cpu_model;  // /proc/cpuinfo "model name"
  std::string memory;     // MemTotal, in GiB
};
Machine describe_machine();
// "kernel 6.18.44, 2 CPUs (AMD EPYC ...), 23.5 GiB memory"
std::string machine_line(const Machine& m);
// The 1-minute load average: other work on the machine shows up here.
std::string load_average();

// --- statistics ---------------------------------------------------------------

double median(std::vector<double> values);
// Least squares line y = slope * x + intercept, and R² of that fit.
struct LinearFit {
  double slope = 0, intercept = 0, r2 = 0;
};
LinearFit fit_line(const std::vector<double>& x, const std::vector<double>& y);

// SIGINT or SIGTERM arrived: parts stop at the next step and clean up.
void request_stop();
bool interrupted();

int64_t monotonic_ns();
std::string fixed(double value, int decimals);
// A ratio of two costs, or "n/a" when the denominator is not a positive cost.
std::string ratio_text(double numerator, double denominator);

// --- cgroups, mounts ---------------------------------------------------------

// The cgroup2 mount point (never assumed: hybrid hosts have it elsewhere).
Result<std::string> cgroup2_root();

// A cgroup directory made with mkdir and removed (rmdir) on destruction.
class Cgroup {
 public:
  static Result<Cgroup> create(const std::string& dir);
  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&& other) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  ~Cgroup();

  const std::string& dir() const { return dir_; }
  // The cgroup id: the directory's inode number.
  uint64_t id() const { return id_; }

 private:
  Cgroup() = default;
  std::string dir_;
  uint64_t id_ = 0;
};

// The path of `dir` below the cgroup2 root, as the exporter labels it ("/x").
std::string cgroup_label(const std::string& root, const std::string& dir);

// Moves the calling process into the cgroup directory `dir`.
Result<void> join_cgroup(const std::string& dir);
// Faults in and locks every page this process maps now (its binary and
// libraries), before it joins a measured cgroup: the page cache of this VM
// does not keep them (the host reclaims it), and a code page first run in a
// measured round would otherwise be a real mapped read cgio counts there.
Result<void> lock_own_pages();

// A tmpfs on a fresh directory under /tmp, unmounted and removed on
// destruction.
class Tmpfs {
 public:
  static Result<Tmpfs> create();
  Tmpfs(Tmpfs&& other) noexcept;
  Tmpfs& operator=(Tmpfs&&) = delete;
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  ~Tmpfs();
  const std::string& dir() const { return dir_; }

 private:
  Tmpfs() = default;
  std::string dir_;
};

// tracefs at /sys/kernel/tracing if nothing has it mounted; unmounted again
// on destruction if this process (or a child: the exporter mounts it when
// missing) mounted it.
class TracefsGuard {
 public:
  TracefsGuard();
  ~TracefsGuard();
  TracefsGuard(const TracefsGuard&) = delete;
  TracefsGuard& operator=(const TracefsGuard&) = delete;

 private:
  bool was_mounted_ = true;
};

Result<void> pin_to_cpu(int cpu);

// Keeps this process, and what it starts from now on (the exporter,
// bpftrace), off `cpu` so the measuring thread has it to itself; the old
// affinity comes back on destruction. Does nothing on a single-CPU machine.
class CpuExclusion {
 public:
  explicit CpuExclusion(int cpu);
  ~CpuExclusion();
  CpuExclusion(const CpuExclusion&) = delete;
  CpuExclusion& operator=(const CpuExclusion&) = delete;

 private:
  std::vector<int> saved_;  // the CPUs allowed before
};

// VmRSS of a process, in KiB (0 when unreadable).
uint64_t vm_rss_kib(pid_t pid);
// A field of /proc/<pid>/status in KiB (VmRSS, RssAnon, RssFile, ...), 0 if absent.
uint64_t status_kib(pid_t pid, const std::string& field);

// --- HTTP ---------------------------------------------------------------------

struct TimedGet {
  int status = 0;      // HTTP status; 0 when the request failed
  uint64_t bytes = 0;  // body bytes received
  int64_t ns = 0;      // connect to the last byte
  bool gzip = false;   // the body came gzip-encoded
};
// One HTTP/1.0 GET against 127.0.0.1:port, the body read and dropped as it
// arrives so the client's own bookkeeping stays out of the figure.
TimedGet timed_get(uint16_t port, const std::string& path, bool accept_gzip);

// --- the report ----------------------------------------------------------------

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // A markdown table with aligned columns.
  std::string markdown() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// What the run prints; the same text goes to the results file.
class Report {
 public:
  void print(const std::string& text);
  const std::string& text() const { return text_; }
  Result<void> write(const std::string& path) const;

 private:
  std::string text_;
};

// The targets of the issue, printed next to the figures (never asserted).
struct Target {
  std::string what;
  std::string figure;
  std::string verdict;  // "met", "not met", "n/a (...)"
};

}  // namespace cgio::bench
