#include "bench_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kernel/mounts.h"

namespace cgio::bench {

// --- the machine --------------------------------------------------------------

namespace {

std::string first_value(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
  }
  return {};
}

}  // namespace

Machine describe_machine() {
  Machine m;
  utsname u{};
  if (uname(&u) == 0) m.kernel = u.release;
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  m.cpus = online > 0 ? static_cast<unsigned>(online) : 0;
  m.cpu_model = first_value("/proc/cpuinfo", "model name");
  if (m.cpu_model.empty()) m.cpu_model = "unknown CPU";
  const std::string total = first_value("/proc/meminfo", "MemTotal");  // "24683656 kB"
  try {
    m.memory = fixed(std::stod(total) / (1024.0 * 1024.0), 1) + " GiB";
  } catch (...) {
    m.memory = "unknown";
  }
  return m;
}

std::string machine_line(const Machine& m) {
  return "kernel " + m.kernel + ", " + std::to_string(m.cpus) + " CPUs (" + m.cpu_model + "), " + m.memory + " memory";
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "unknown" : one;
}

// --- statistics ---------------------------------------------------------------

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

LinearFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  LinearFit f;
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return f;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0) return f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  double ss_res = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = y[i] - (f.slope * x[i] + f.intercept);
    ss_res += e * e;
  }
  f.r2 = syy == 0 ? 1.0 : 1.0 - ss_res / syy;
  return f;
}

namespace {
std::atomic<bool> g_interrupted{false};
}  // namespace

void request_stop() { g_interrupted.store(true); }
bool interrupted() { return g_interrupted.load(); }

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string fixed(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string ratio_text(double numerator, double denominator) {
  if (std::isnan(numerator) || std::isnan(denominator) || denominator <= 0) return "n/a";
  return fixed(numerator / denominator, 2);
}

// --- cgroups, mounts ---------------------------------------------------------

Result<std::string> cgroup2_root() {
  auto mounts = read_mountinfo("/proc/self/mountinfo");
  if (!mounts) return mounts.error();
  auto m = find_mount(*mounts, "cgroup2");
  if (!m) return Error{"no cgroup2 mount in /proc/self/mountinfo"};
  return m->mount_point;
}

Result<Cgroup> Cgroup::create(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0) return errno_error("mkdir " + dir, errno);
  Cgroup c;
  c.dir_ = dir;
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return errno_error("stat " + dir, errno);  // c removes it
  c.id_ = st.st_ino;
  return c;
}

Cgroup::Cgroup(Cgroup&& other) noexcept
    : dir_(std::exchange(other.dir_, std::string())), id_(std::exchange(other.id_, 0)) {}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
  if (this != &other) {
    Cgroup gone(std::move(*this));
    dir_ = std::exchange(other.dir_, std::string());
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

Cgroup::~Cgroup() {
  if (dir_.empty()) return;
  // A process that just exited may still be leaving the cgroup: EBUSY for
  // a moment.
  for (int i = 0; i < 250 && rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i) usleep(20000);
}

std::string cgroup_label(const std::string& root, const std::string& dir) {
  if (dir.compare(0, root.size(), root) == 0) return dir.substr(root.size());
  return dir;
}

Result<void> join_cgroup(const std::string& dir) {
  const std::string procs = dir + "/cgroup.procs";
  const int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open " + procs, errno);
  const std::string pid = std::to_string(getpid());
  const ssize_t n = write(fd, pid.data(), pid.size());
  const int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(pid.size())) return errno_error("write " + procs, err);
  return {};
}

Result<void> lock_own_pages() {
  if (mlockall(MCL_CURRENT) != 0) return errno_error("mlockall", errno);
  return {};
}

Result<Tmpfs> Tmpfs::create() {
  // Named after this process, so a later run can tell a leftover.
  std::string tmpl = "/tmp/cgio-bench-" + std::to_string(getpid()) + "-XXXXXX";
  const char* d = mkdtemp(tmpl.data());
  if (d == nullptr) return errno_error("mkdtemp", errno);
  if (mount("cgio-bench", d, "tmpfs", 0, "size=64m") != 0) {
    const int err = errno;
    rmdir(d);
    return errno_error(std::string("mount tmpfs on ") + d, err);
  }
  Tmpfs t;
  t.dir_ = d;
  return t;
}

Tmpfs::Tmpfs(Tmpfs&& other) noexcept : dir_(std::exchange(other.dir_, std::string())) {}

Tmpfs::~Tmpfs() {
  if (dir_.empty()) return;
  umount2(dir_.c_str(), MNT_DETACH);
  rmdir(dir_.c_str());
}

namespace {

bool tracefs_mounted() {
  auto mounts = read_mountinfo("/proc/self/mountinfo");
  if (!mounts) return false;
  if (find_mount(*mounts, "tracefs")) return true;
  struct stat st {};
  auto debugfs = find_mount(*mounts, "debugfs");
  return debugfs && stat((debugfs->mount_point + "/tracing/events").c_str(), &st) == 0;
}

constexpr const char* kTracefsDir = "/sys/kernel/tracing";

}  // namespace

TracefsGuard::TracefsGuard() {
  was_mounted_ = tracefs_mounted();
  if (!was_mounted_) {
    if (mount("tracefs", kTracefsDir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      std::cerr << "cgio_bench: cannot mount tracefs on " << kTracefsDir << ": " << std::strerror(errno) << "\n";
    }
  }
}

TracefsGuard::~TracefsGuard() {
  if (!was_mounted_) umount2(kTracefsDir, MNT_DETACH);
}

Result<void> pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<size_t>(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) return errno_error("pin to CPU " + std::to_string(cpu), errno);
  return {};
}

CpuExclusion::CpuExclusion(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return;
  cpu_set_t others = set;
  CPU_CLR(static_cast<size_t>(cpu), &others);
  if (CPU_COUNT(&others) == 0) return;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(static_cast<size_t>(c), &set)) saved_.push_back(c);
  }
  if (sched_setaffinity(0, sizeof others, &others) != 0) saved_.clear();
}

CpuExclusion::~CpuExclusion() {
  if (saved_.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : saved_) CPU_SET(static_cast<size_t>(c), &set);
  sched_setaffinity(0, sizeof set, &set);
}

uint64_t status_kib(pid_t pid, const std::string& field) {
  const std::string v = first_value("/proc/" + std::to_string(pid) + "/status", field);  // "33348 kB"
  try {
    return std::stoull(v);
  } catch (...) {
    return 0;
  }
}

uint64_t vm_rss_kib(pid_t pid) { return status_kib(pid, "VmRSS"); }

// --- HTTP ---------------------------------------------------------------------

TimedGet timed_get(uint16_t port, const std::string& path, bool accept_gzip) {
  TimedGet r;
  const int64_t start = monotonic_ns();
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return r;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return r;
  }
  const std::string req =
      "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + (accept_gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return r;
  }
  static thread_local std::vector<char> buf(1 << 20);
  std::string head;
  bool in_body = false;
  while (true) {
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (in_body) {
      r.bytes += static_cast<uint64_t>(n);
      continue;
    }
    head.append(buf.data(), static_cast<size_t>(n));
    const size_t split = head.find("\r\n\r\n");
    if (split == std::string::npos) continue;
    in_body = true;
    r.bytes = head.size() - split - 4;
    head.resize(split);
  }
  r.ns = monotonic_ns() - start;
  close(fd);
  if (!in_body || head.compare(0, 7, "HTTP/1.") != 0 || head.size() < 12) return r;
  r.status = std::atoi(head.c_str() + 9);
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  r.gzip = lower.find("content-encoding: gzip") != std::string::npos;
  return r;
}

// --- the report ----------------------------------------------------------------

std::string Table::markdown() const {
  std::vector<size_t> width(header_.size(), 3);
  const auto measure = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size() && i < width.size(); ++i) width[i] = std::max(width[i], cells[i].size());
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string s = "|";
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string c = i < cells.size() ? cells[i] : "";
      // Figures right-aligned, words left-aligned.
      const bool numeric = !c.empty() && (std::isdigit(static_cast<unsigned char>(c[0])) ||
                                          ((c[0] == '-' || c[0] == '+') && c.size() > 1));
      const std::string pad(width[i] - c.size(), ' ');
      s += " " + (numeric ? pad + c : c + pad) + " |";
    }
    return s + "\n";
  };
  std::string out = line(header_);
  out += "|";
  for (size_t w : width) out += std::string(w + 2, '-') + "|";
  out += "\n";
  for (const auto& r : rows_) out += line(r);
  return out;
}

void Report::print(const std::string& text) {
  std::cout << text << std::flush;
  text_ += text;
}

Result<void> Report::write(const std::string& path) const {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    // mkdir -p of the results directory.
    for (size_t pos = 1; pos <= slash; ++pos) {
      if (pos == slash || path[pos] == '/') mkdir(path.substr(0, pos).c_str(), 0755);
    }
  }
  std::ofstream out(path, std::ios::trunc);
  out << text_;
  out.close();
  if (!out) return Error{"cannot write " + path};
  return {};
}

}  // namespace cgio::bench
