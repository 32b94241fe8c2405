#include "collectors/process.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "collectors/families.h"

namespace cgio {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The soft limit of a row of self/limits ("Max open files  1024  4096  files");
// "unlimited" is the largest value, as client_golang reports it.
double soft_limit(const std::string& limits, const std::string& row) {
  const size_t at = limits.find(row);
  if (at == std::string::npos) return 0;
  std::istringstream fields(limits.substr(at + row.size()));
  std::string soft;
  fields >> soft;
  if (soft == "unlimited") return static_cast<double>(std::numeric_limits<uint64_t>::max());
  return std::strtod(soft.c_str(), nullptr);
}

}  // namespace

ProcessCollector::ProcessCollector(std::string procfs)
    : procfs_(std::move(procfs)), ticks_per_second_(sysconf(_SC_CLK_TCK)), page_size_(sysconf(_SC_PAGESIZE)) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  // Fields after the command name, which is in parentheses and may hold
  // spaces or parentheses itself: the last ')' ends it.
  const std::string stat = read_file(procfs_ + "/self/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("unreadable " + procfs_ + "/self/stat");
  std::istringstream rest(stat.substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string w; rest >> w;) f.push_back(w);
  if (f.size() < 22) throw std::runtime_error("short " + procfs_ + "/self/stat");
  const double ticks = static_cast<double>(ticks_per_second_);
  const double cpu = (std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr)) / ticks;
  const double start_ticks = std::strtod(f[19].c_str(), nullptr);
  const double vsize = std::strtod(f[20].c_str(), nullptr);
  const double rss = std::strtod(f[21].c_str(), nullptr) * static_cast<double>(page_size_);

  double btime = 0;
  {
    std::istringstream lines(read_file(procfs_ + "/stat"));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("btime ", 0) == 0) btime = std::strtod(line.c_str() + 6, nullptr);
    }
  }
  size_t fds = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(procfs_ + "/self/fd", ec)) {
    (void)entry;
    ++fds;
  }
  const std::string limits = read_file(procfs_ + "/self/limits");

  using T = prometheus::MetricType;
  const struct {
    const char* name;
    const char* help;
    T type;
    double value;
  } rows[] = {
      {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", T::Counter, cpu},
      {"process_resident_memory_bytes", "Resident memory size in bytes.", T::Gauge, rss},
      {"process_virtual_memory_bytes", "Virtual memory size in bytes.", T::Gauge, vsize},
      {"process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", T::Gauge,
       soft_limit(limits, "Max address space")},
      {"process_open_fds", "Number of open file descriptors.", T::Gauge, static_cast<double>(fds)},
      {"process_max_fds", "Maximum number of open file descriptors.", T::Gauge, soft_limit(limits, "Max open files")},
      {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.", T::Gauge,
       btime + start_ticks / ticks},
  };
  std::vector<prometheus::MetricFamily> out;
  for (const auto& r : rows) {
    prometheus::MetricFamily fam = family(r.name, r.help, r.type);
    add_sample(fam, {}, r.value);
    out.push_back(std::move(fam));
  }
  return out;
}

}  // namespace cgio
