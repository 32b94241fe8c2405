// Part 1: hook overhead per operation. Rounds attach one config (nothing,
// the floor, cgio_exporter, bpftrace), run every workload in a worker
// process pinned to one CPU in a fresh cgroup, and detach; configs take turns
// (A B C D A B C D ...) so slow drifts of a shared machine hit all of them,
// and the report takes medians across rounds.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <libaio.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>

#include "exporter_process.h"
#include "floor.h"
#include "kernel/mounts.h"
#include "parts.h"

namespace cgio::bench {
namespace {

struct WorkloadSpec {
  const char* id;
  const char* name;
  bool counted;  // cgio counts it (else its hooks run and count nothing)
};

constexpr WorkloadSpec kWorkloads[] = {
    {"pwrite", "pwrite 64 B, tmpfs", true},
    {"pread", "pread 64 B, tmpfs", true},
    {"open_close", "open+close, tmpfs", true},
    {"devnull", "write 64 B, /dev/null (filtered)", false},
    {"udp", "UDP send+recv 64 B, loopback", true},
    {"tcp", "TCP send+recv 64 B, loopback", true},
    {"getppid", "getppid (not hooked by cgio)", false},
    {"uring_write", "io_uring write 4 KiB, tmpfs", true},
    {"uring_read", "io_uring read 4 KiB, tmpfs", true},
    {"aio_write", "libaio pwrite 4 KiB, tmpfs", true},
    {"aio_read", "libaio pread 4 KiB, tmpfs", true},
    {"copy_file_range", "copy_file_range 4 KiB, tmpfs", true},
};
constexpr size_t kWorkloadCount = std::size(kWorkloads);
constexpr size_t kGetppid = 6;  // the collateral row
constexpr size_t kIoSize = 64;
// The rows of the interfaces that move a file's data without read/write
// syscalls: one request of a page at a time, submitted and completed.
constexpr size_t kBlockSize = 4096;

// --- the worker ---------------------------------------------------------------

Result<std::pair<Fd, Fd>> udp_pair() {
  Fd rx(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  Fd tx(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!rx.valid() || !tx.valid()) return errno_error("UDP socket", errno);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (bind(rx.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      getsockname(rx.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0 ||
      connect(tx.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    return errno_error("UDP on 127.0.0.1", errno);
  }
  return std::pair{std::move(tx), std::move(rx)};
}

Result<std::pair<Fd, Fd>> tcp_pair() {
  Fd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  Fd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid() || !client.valid()) return errno_error("TCP socket", errno);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(listener.get(), 1) != 0 ||
      getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0 ||
      connect(client.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    return errno_error("TCP on 127.0.0.1", errno);
  }
  Fd server(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server.valid()) return errno_error("TCP accept", errno);
  const int one = 1;
  setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(server.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return std::pair{std::move(client), std::move(server)};
}

// One io_uring, one request in flight: submit a page read or write at offset
// 0 and wait for its completion (what an event loop does per request).
class Uring {
 public:
  static Result<std::unique_ptr<Uring>> create() {
    auto u = std::unique_ptr<Uring>(new Uring);
    if (const int r = io_uring_queue_init(8, &u->ring_, 0); r < 0) return errno_error("io_uring_queue_init", -r);
    u->ready_ = true;
    return u;
  }
  ~Uring() {
    if (ready_) io_uring_queue_exit(&ring_);
  }
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;

  bool run(bool write, int fd, char* buf) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return false;
    if (write) {
      io_uring_prep_write(sqe, fd, buf, kBlockSize, 0);
    } else {
      io_uring_prep_read(sqe, fd, buf, kBlockSize, 0);
    }
    io_uring_cqe* cqe = nullptr;
    if (io_uring_submit_and_wait(&ring_, 1) != 1 || io_uring_peek_cqe(&ring_, &cqe) != 0) return false;
    const bool ok = cqe->res == static_cast<int>(kBlockSize);
    io_uring_cqe_seen(&ring_, cqe);
    return ok;
  }

 private:
  Uring() = default;
  io_uring ring_{};
  bool ready_ = false;
};

// One Linux AIO context, one iocb in flight: io_submit, then io_getevents
// for its event.
class Aio {
 public:
  static Result<std::unique_ptr<Aio>> create() {
    auto a = std::unique_ptr<Aio>(new Aio);
    if (const int r = io_setup(8, &a->ctx_); r < 0) return errno_error("io_setup", -r);
    return a;
  }
  ~Aio() {
    if (ctx_ != nullptr) io_destroy(ctx_);
  }
  Aio(const Aio&) = delete;
  Aio& operator=(const Aio&) = delete;

  bool run(bool write, int fd, char* buf) {
    iocb cb{};
    iocb* cbs[1] = {&cb};
    if (write) {
      io_prep_pwrite(&cb, fd, buf, kBlockSize, 0);
    } else {
      io_prep_pread(&cb, fd, buf, kBlockSize, 0);
    }
    io_event ev{};
    return io_submit(ctx_, 1, cbs) == 1 && io_getevents(ctx_, 1, 1, &ev, nullptr) == 1 &&
           static_cast<long>(ev.res) == static_cast<long>(kBlockSize);
  }

 private:
  Aio() = default;
  io_context_t ctx_ = nullptr;
};

// ns per call of `op` over `n` calls after `warmup` calls; NaN when a call
// failed (`op` returns false).
template <typename Op>
double time_loop(uint64_t warmup, uint64_t n, Op op) {
  bool ok = true;
  for (uint64_t i = 0; i < warmup && ok; ++i) ok = op();
  const int64_t start = monotonic_ns();
  for (uint64_t i = 0; i < n && ok; ++i) ok = op();
  const int64_t end = monotonic_ns();
  return ok ? static_cast<double>(end - start) / static_cast<double>(n) : NAN;
}

int worker_fail(const std::string& what) {
  const std::string line = "error " + what + "\n";
  (void)!write(STDOUT_FILENO, line.data(), line.size());
  return 1;
}

}  // namespace

// args: <cgroup dir> <cpu> <iterations> <warmup> <tmpfs file> <second tmpfs file>
int overhead_worker(const std::vector<std::string>& args) {
  if (args.size() != 6) {
    return worker_fail("usage: --worker overhead <cgroup> <cpu> <iterations> <warmup> <file> <copy target>");
  }
  const std::string& cgroup = args[0];
  const int cpu = std::stoi(args[1]);
  const uint64_t n = std::stoull(args[2]);
  const uint64_t warmup = std::stoull(args[3]);
  const std::string& path = args[4];
  const std::string& copy_path = args[5];

  if (auto r = lock_own_pages(); !r) return worker_fail(r.error().message);
  // Everything from here on happens in the workload's cgroup: every counted
  // operation is tallied below so the orchestrator can compare.
  if (auto r = join_cgroup(cgroup); !r) return worker_fail(r.error().message);
  if (auto r = pin_to_cpu(cpu); !r) return worker_fail(r.error().message);
  Fd file(open(path.c_str(), O_RDWR | O_CLOEXEC));
  Fd devnull(open("/dev/null", O_WRONLY | O_CLOEXEC));
  Fd copy(open(copy_path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!file.valid() || !devnull.valid() || !copy.valid()) {
    return worker_fail("open " + path + ", " + copy_path + " or /dev/null");
  }
  const uint64_t setup_opens = 3;
  auto uring = Uring::create();
  if (!uring) return worker_fail(uring.error().message);
  auto aio = Aio::create();
  if (!aio) return worker_fail(aio.error().message);
  auto udp = udp_pair();
  if (!udp) return worker_fail(udp.error().message);
  auto tcp = tcp_pair();
  if (!tcp) return worker_fail(tcp.error().message);
  const int f = file.get(), dn = devnull.get();
  const int utx = udp->first.get(), urx = udp->second.get(), tcl = tcp->first.get(), tsv = tcp->second.get();
  const char* file_path = path.c_str();
  char buf[kIoSize] = {'c', 'g', 'i', 'o'};
  alignas(4096) static char block[kBlockSize];
  std::fill(std::begin(block), std::end(block), 'b');
  const int cf = copy.get();
  constexpr auto io = static_cast<ssize_t>(kIoSize);

  double ns[kWorkloadCount];
  ns[0] = time_loop(warmup, n, [&] { return pwrite(f, buf, kIoSize, 0) == io; });
  ns[1] = time_loop(warmup, n, [&] { return pread(f, buf, kIoSize, 0) == io; });
  ns[2] = time_loop(warmup, n, [&] {
    const int fd = open(file_path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 && close(fd) == 0;
  });
  ns[3] = time_loop(warmup, n, [&] { return write(dn, buf, kIoSize) == io; });
  ns[4] = time_loop(warmup, n, [&] { return send(utx, buf, kIoSize, 0) == io && recv(urx, buf, kIoSize, 0) == io; });
  ns[5] = time_loop(warmup, n,
                    [&] { return send(tcl, buf, kIoSize, 0) == io && recv(tsv, buf, kIoSize, MSG_WAITALL) == io; });
  ns[6] = time_loop(warmup, n, [] { return syscall(SYS_getppid) > 0; });
  ns[7] = time_loop(warmup, n, [&] { return (*uring)->run(true, f, block); });
  ns[8] = time_loop(warmup, n, [&] { return (*uring)->run(false, f, block); });
  ns[9] = time_loop(warmup, n, [&] { return (*aio)->run(true, f, block); });
  ns[10] = time_loop(warmup, n, [&] { return (*aio)->run(false, f, block); });
  ns[11] = time_loop(warmup, n, [&] {
    loff_t in = 0, out = 0;
    return copy_file_range(f, &in, cf, &out, kBlockSize, 0) == static_cast<ssize_t>(kBlockSize);
  });

  std::ostringstream out;
  for (size_t w = 0; w < kWorkloadCount; ++w) {
    if (std::isnan(ns[w])) return worker_fail(std::string("workload ") + kWorkloads[w].id + " failed");
    out << "ns " << kWorkloads[w].id << " " << fixed(ns[w], 2) << "\n";
  }
  // What cgio must have counted for this cgroup (every other counter: 0).
  // Files: pwrite/pread of kIoSize; io_uring, libaio and copy_file_range
  // (a read of the source and a write of the target) of kBlockSize each.
  const uint64_t ops = n + warmup, bytes = ops * kIoSize, blocks = ops * kBlockSize;
  out << "count cgio_vfs_writes_total " << 4 * ops << "\n"
      << "count cgio_vfs_write_bytes_total " << bytes + 3 * blocks << "\n"
      << "count cgio_vfs_reads_total " << 4 * ops << "\n"
      << "count cgio_vfs_read_bytes_total " << bytes + 3 * blocks << "\n"
      << "count cgio_vfs_opens_total " << ops + setup_opens << "\n";
  for (const char* proto : {"udp", "tcp"}) {
    const std::string labels = std::string("{family=ipv4,protocol=") + proto + "}";
    out << "count cgio_net_sends_total" << labels << " " << ops << "\n"
        << "count cgio_net_sent_bytes_total" << labels << " " << bytes << "\n"
        << "count cgio_net_receives_total" << labels << " " << ops << "\n"
        << "count cgio_net_received_bytes_total" << labels << " " << bytes << "\n";
  }
  // One write: bpftrace counts it (a pipe), and the checks know it is one.
  const std::string text = out.str();
  if (write(STDOUT_FILENO, text.data(), text.size()) != static_cast<ssize_t>(text.size())) return 1;
  return 0;
}

namespace {

// --- the orchestrator -----------------------------------------------------------

enum class Kind { baseline, floor, cgio, bpftrace };

struct Config {
  Kind kind = Kind::baseline;
  ProbeType type = ProbeType::tracepoint;  // floor and cgio
  std::string name;                        // column header
  std::string slug;                        // in cgroup names
  std::vector<Hook> hooks;                 // floor
  std::vector<std::string> args;           // cgio: more exporter flags
  size_t floor = 0;                        // cgio: the index of its probe type's floor
};

struct WorkerRun {
  double ns[kWorkloadCount] = {};
  std::map<std::string, uint64_t> counts;  // what cgio must report
};

Result<WorkerRun> run_worker(const Context& ctx, const std::string& cgroup_dir, const std::string& file,
                             const std::string& copy_target, int cpu) {
  const Settings& s = ctx.settings;
  auto child = ChildProcess::spawn({s.self, "--worker", "overhead", cgroup_dir, std::to_string(cpu),
                                    std::to_string(s.iterations), std::to_string(s.warmup), file, copy_target});
  if (!child) return child.error();
  // Generous: 200 µs per operation is far slower than anything here.
  const auto timeout_ms =
      static_cast<int>(std::min<uint64_t>(60000 + (s.iterations + s.warmup) * kWorkloadCount / 5, 3600000));
  const int status = (*child)->wait(timeout_ms, interrupted);
  const std::string out = (*child)->output();
  if (!exited_ok(status)) return Error{"workload process: " + describe_status(status) + ": " + out};
  WorkerRun run;
  size_t seen = 0;
  std::istringstream lines(out);
  std::string kind, key;
  while (lines >> kind >> key) {
    if (kind == "ns") {
      double v = 0;
      lines >> v;
      for (size_t w = 0; w < kWorkloadCount; ++w) {
        if (key == kWorkloads[w].id) {
          run.ns[w] = v;
          ++seen;
        }
      }
    } else if (kind == "count") {
      uint64_t v = 0;
      lines >> v;
      run.counts[key] = v;
    } else {
      std::string rest;
      std::getline(lines, rest);
    }
  }
  if (seen != kWorkloadCount) return Error{"workload process printed no figures: " + out};
  return run;
}

// "name{a=b,c=d}" -> name, labels.
std::pair<std::string, std::map<std::string, std::string>> split_series(const std::string& key) {
  const size_t brace = key.find('{');
  if (brace == std::string::npos) return {key, {}};
  std::map<std::string, std::string> labels;
  std::istringstream in(key.substr(brace + 1, key.size() - brace - 2));
  std::string kv;
  while (std::getline(in, kv, ',')) {
    const size_t eq = kv.find('=');
    labels[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return {key.substr(0, brace), labels};
}

// The value of `name` in the series whose labels include `subset`.
std::optional<double> value_with(const test::Metrics& m, const std::string& name,
                                 const std::map<std::string, std::string>& subset) {
  const auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  for (const test::Sample& s : it->second) {
    bool all = true;
    for (const auto& [k, v] : subset) {
      const auto l = s.labels.find(k);
      all = all && l != s.labels.end() && l->second == v;
    }
    if (all) return s.value;
  }
  return std::nullopt;
}

// cgio must have counted exactly what the workload did: a broken hook must
// not pass as a cheap one.
Result<void> check_cgio_counts(uint16_t port, const std::string& cgroup, const WorkerRun& run) {
  const test::HttpResponse r = test::http_get(port, "/metrics");
  if (r.status != 200) return Error{"scrape of the exporter failed (status " + std::to_string(r.status) + ")"};
  const test::Metrics m = test::parse_metrics(r.body);
  // Every counter of the contract: those the workload did not touch must be 0.
  std::map<std::string, uint64_t> want = run.counts;
  for (const char* op : {"read", "write"}) {
    for (const char* what : {"s", "_bytes", "_errors"})
      want.emplace(std::string("cgio_vfs_") + op + what + "_total", 0);
  }
  for (const char* op : {"open", "create", "unlink", "mkdir", "rmdir"}) {
    want.emplace(std::string("cgio_vfs_") + op + "s_total", 0);
    want.emplace(std::string("cgio_vfs_") + op + "_errors_total", 0);
  }
  // tmpfs keeps no writeback accounting: nothing of the files is mapped I/O.
  want.emplace("cgio_vfs_mmap_pagein_bytes_total", 0);
  want.emplace("cgio_vfs_mmap_dirtied_bytes_total", 0);
  for (const char* name : {"sent_bytes", "sends", "received_bytes", "receives"}) {
    for (const char* family : {"ipv4", "ipv6"}) {
      for (const char* protocol : {"tcp", "udp"}) {
        want.emplace(std::string("cgio_net_") + name + "_total{family=" + family + ",protocol=" + protocol + "}", 0);
      }
    }
  }
  std::string wrong;
  for (const auto& [key, expected] : want) {
    auto [name, labels] = split_series(key);
    labels["cgroup"] = cgroup;
    const auto got = value_with(m, name, labels);
    const auto value = static_cast<uint64_t>(got.value_or(0));
    if (value != expected) {
      wrong += " " + key + " = " + std::to_string(value) + " (the workload made " + std::to_string(expected) + ");";
    }
  }
  if (!wrong.empty()) return Error{"cgio_exporter miscounted cgroup " + cgroup + ":" + wrong};
  return {};
}

// The operations the exporter reports counted (cgio_bpf_program_attached 1).
std::vector<std::string> attached_operations(uint16_t port) {
  std::vector<std::string> ops;
  const test::Metrics m = test::parse_metrics(test::http_get(port, "/metrics").body);
  const auto it = m.find("cgio_bpf_program_attached");
  if (it == m.end()) return ops;
  for (const test::Sample& s : it->second) {
    if (s.value == 1) ops.push_back(s.labels.at("program"));
  }
  std::sort(ops.begin(), ops.end());
  return ops;
}

// bpftrace's own count of write and read calls for one cgroup, from the
// maps it prints when it stops ("@writes[<cgroup id>]: <n>").
std::map<std::string, uint64_t> bpftrace_counts(const std::string& output, uint64_t cgroup_id) {
  std::map<std::string, uint64_t> counts;
  const std::regex line(R"(^@(\w+)\[(\d+)\]: (\d+)$)");
  std::istringstream in(output);
  std::string l;
  while (std::getline(in, l)) {
    std::smatch m;
    if (std::regex_match(l, m, line) && std::stoull(m[2]) == cgroup_id) counts[m[1]] = std::stoull(m[3]);
  }
  return counts;
}

// Tracing BPF programs loaded on the machine right now (other users'
// exporters, bpftrace, ...): their cost lands in every config alike.
size_t tracing_programs_loaded() {
  size_t n = 0;
  uint32_t id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    Fd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid()) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
    switch (info.type) {
      case BPF_PROG_TYPE_TRACEPOINT:
      case BPF_PROG_TYPE_KPROBE:
      case BPF_PROG_TYPE_TRACING:
      case BPF_PROG_TYPE_RAW_TRACEPOINT:
      case BPF_PROG_TYPE_PERF_EVENT:
        ++n;
        break;
      default:
        break;
    }
  }
  return n;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

}  // namespace

Result<void> run_overhead(Context& ctx) {
  const Settings& s = ctx.settings;
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  const int cpu = s.cpu >= 0 ? s.cpu : static_cast<int>(online > 0 ? online - 1 : 0);

  // Only the worker runs on the measuring CPU: this process, the exporter
  // and bpftrace stay on the others.
  const CpuExclusion exclusion(cpu);
  auto kernel = KernelView::inspect();
  if (!kernel) return kernel.error();

  // The configs: nothing, then per probe type the kernel allows, its floor
  // and cgio forced to it, then bpftrace.
  std::vector<Config> configs;
  configs.push_back({Kind::baseline, ProbeType::tracepoint, "baseline", "baseline", {}, {}, 0});
  std::string notes;
  std::vector<std::pair<ProbeType, std::vector<Hook>>> usable;
  for (ProbeType type : kProbeTypesByPreference) {
    const std::string t(to_string(type));
    std::vector<std::string> uncounted;
    auto hooks = cgio_hooks(**kernel, type, &uncounted);
    if (!hooks) return hooks.error().context("cgio's hooks for " + t);
    if (hooks->empty()) {
      notes += "- Probe type " + t + ": this kernel allows none of its hooks; not measured.\n";
      continue;
    }
    std::vector<std::string> sections;
    for (const Hook& h : *hooks) sections.push_back(h.section);
    notes += "- floor (" + t + "): " + std::to_string(hooks->size()) +
             " empty programs, one per cgio program: " + join(sections, ", ") + ".\n";
    if (!uncounted.empty()) notes += "- cgio (" + t + ") cannot count here: " + join(uncounted, ", ") + ".\n";
    usable.emplace_back(type, std::move(hooks.value()));
  }
  // Column names carry the probe type only when there is more than one.
  for (auto& [type, hooks] : usable) {
    const std::string t(to_string(type));
    const std::string suffix = usable.size() > 1 ? " (" + t + ")" : "";
    configs.push_back({Kind::floor, type, "floor" + suffix, "floor-" + t, std::move(hooks), {}, 0});
    configs.push_back({Kind::cgio, type, "cgio" + suffix, "cgio-" + t, {}, {}, configs.size() - 1});
  }
  // Hybrid hosts: the default decides per event between the task's v1 and
  // cgroup2 cgroup (one more map lookup); cgroup2 alone beside it shows the cost.
  if (auto mounts = read_mountinfo("/proc/self/mountinfo");
      mounts && find_mount(*mounts, "cgroup2") && find_cgroup_v1_mount(*mounts, "cpuacct") && !usable.empty()) {
    const ProbeType type = usable.front().first;
    const std::string t(to_string(type));
    size_t floor = 0;
    for (size_t i = 0; i < configs.size(); ++i) {
      if (configs[i].kind == Kind::floor && configs[i].type == type) floor = i;
    }
    configs.push_back({Kind::cgio,
                       type,
                       "cgio v2-only" + std::string(usable.size() > 1 ? " (" + t + ")" : ""),
                       "cgio-v2-" + t,
                       {},
                       {"--cgroup.mode=v2"},
                       floor});
    notes +=
        "- This host is hybrid (cgroup2 beside a v1 cpuacct hierarchy): cgio runs with its default, which "
        "charges each event to the task's v1 cgroup when that is a workload and else to its cgroup2 one; "
        "\"cgio v2-only\" is --cgroup.mode=v2, to show what that choice costs.\n";
  }
  configs.push_back({Kind::bpftrace, ProbeType::tracepoint, "bpftrace", "bpftrace", {}, {}, 0});

  auto tmpfs = Tmpfs::create();
  if (!tmpfs) return tmpfs.error();
  const std::string file = tmpfs->dir() + "/data", copy_target = tmpfs->dir() + "/copy";
  for (const std::string& path : {file, copy_target}) {
    Fd f(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    const std::string block(kBlockSize, 'x');
    if (!f.valid() || write(f.get(), block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      return errno_error("create " + path, errno);
    }
  }

  // ns[config][workload]: one figure per round.
  std::vector<std::vector<std::vector<double>>> ns(configs.size(), std::vector<std::vector<double>>(kWorkloadCount));
  size_t busy_baselines = 0, most_foreign = 0;
  std::vector<std::string> checks;
  for (int round = 0; round < s.rounds; ++round) {
    for (size_t c = 0; c < configs.size(); ++c) {
      if (interrupted()) return Error{"interrupted"};
      const Config& config = configs[c];
      auto cg = Cgroup::create(ctx.cgroup_root + "/cgio-bench-" + std::to_string(getpid()) + "-" + config.slug + "-" +
                               std::to_string(round));
      if (!cg) return cg.error();
      const std::string label = cgroup_label(ctx.cgroup_root, cg->dir());
      const std::string where = config.name + ", round " + std::to_string(round + 1);

      std::optional<Floor> floor;
      std::unique_ptr<test::ExporterProcess> exporter;
      std::unique_ptr<ChildProcess> bpftrace;
      switch (config.kind) {
        case Kind::baseline:
          if (const size_t foreign = tracing_programs_loaded(); foreign > 0) {
            ++busy_baselines;
            most_foreign = std::max(most_foreign, foreign);
          }
          break;
        case Kind::floor: {
          auto f = Floor::attach(**kernel, config.hooks);
          if (!f) return f.error().context(where);
          floor.emplace(std::move(f.value()));
          break;
        }
        case Kind::cgio: {
          std::string err;
          std::vector<std::string> args = {"--web.listen-address=127.0.0.1:0",
                                           "--bpf.probe-type=" + std::string(to_string(config.type))};
          args.insert(args.end(), config.args.begin(), config.args.end());
          exporter = test::ExporterProcess::start(s.exporter, args, &err);
          if (!exporter) return Error{where + ": cgio_exporter did not start: " + err};
          if (round == 0) {
            std::vector<std::string> floor_ops;
            for (const Config& other : configs) {
              if (other.kind != Kind::floor || other.type != config.type) continue;
              for (const Hook& h : other.hooks) {
                if (std::find(floor_ops.begin(), floor_ops.end(), h.operation) == floor_ops.end()) {
                  floor_ops.push_back(h.operation);
                }
              }
            }
            std::sort(floor_ops.begin(), floor_ops.end());
            const auto attached = attached_operations(exporter->port());
            notes +=
                attached == floor_ops
                    ? "- " + config.name + " counts the operations the floor hooks: " + join(attached, ", ") + ".\n"
                    : "- **" + config.name + " counts " + join(attached, ", ") + " but the floor hooks " +
                          join(floor_ops, ", ") + "**.\n";
          }
          break;
        }
        case Kind::bpftrace: {
          auto b = ChildProcess::spawn({s.bpftrace, s.bpftrace_script});
          if (!b) return b.error().context(where + ": bpftrace");
          bpftrace = std::move(b.value());
          if (!bpftrace->wait_for_output("cgio-bench ready", 120000)) {
            return Error{where + ": bpftrace did not attach: " + bpftrace->output()};
          }
          break;
        }
      }

      auto run = run_worker(ctx, cg->dir(), file, copy_target, cpu);
      if (!run) return run.error().context(where);
      for (size_t w = 0; w < kWorkloadCount; ++w) ns[c][w].push_back(run->ns[w]);

      if (exporter) {
        if (auto ok = check_cgio_counts(exporter->port(), label, *run); !ok) return ok.error().context(where);
        const int status = exporter->stop(SIGTERM);
        if (!exited_ok(status)) return Error{where + ": cgio_exporter stopped with " + describe_status(status)};
        if (round == 0) {
          checks.push_back(config.name + " (" + std::string(to_string(config.type)) +
                           "): counted exactly what the workload did: all 34 VFS and network counters of its "
                           "cgroup in /metrics, after every round");
        }
      }
      if (bpftrace) {
        const int status = bpftrace->stop(SIGINT, 60000, interrupted);
        if (!exited_ok(status)) return Error{where + ": bpftrace stopped with " + describe_status(status)};
        // Besides the workload's calls, bpftrace sees two writes cgio leaves
        // out: joining the cgroup (cgroup.procs) and the worker's report (a pipe).
        const uint64_t ops = s.iterations + s.warmup;
        const auto got = bpftrace_counts(bpftrace->output(), cg->id());
        const uint64_t blocks = ops * kBlockSize;
        const std::map<std::string, uint64_t> want{
            {"writes", 2 * ops + 2},  // pwrite, /dev/null, the 2 others
            {"reads", ops},
            {"uring_writes", ops},
            {"uring_write_bytes", blocks},
            {"uring_reads", ops},
            {"uring_read_bytes", blocks},
            {"aio_writes", ops},
            {"aio_write_bytes", blocks},
            {"aio_reads", ops},
            {"aio_read_bytes", blocks},
            {"copies", ops},
            {"copy_bytes", blocks},
        };
        std::string wrong;
        for (const auto& [map, expected] : want) {
          const uint64_t value = got.contains(map) ? got.at(map) : 0;
          if (value != expected) {
            wrong += " @" + map + " " + std::to_string(value) + " (expected " + std::to_string(expected) + ")";
          }
        }
        if (!wrong.empty()) {
          notes += "- **bpftrace, round " + std::to_string(round + 1) + ": counted" + wrong + "**.\n";
        } else if (round == 0) {
          checks.push_back(
              "bpftrace: counted the workload's reads, writes, io_uring and libaio requests and copy_file_range "
              "calls (its maps, after every round)");
        }
      }
    }
  }

  // --- the report -------------------------------------------------------------
  std::vector<std::vector<double>> med(configs.size(), std::vector<double>(kWorkloadCount));
  for (size_t c = 0; c < configs.size(); ++c) {
    for (size_t w = 0; w < kWorkloadCount; ++w) med[c][w] = median(ns[c][w]);
  }
  std::vector<std::string> header{"workload"};
  for (const Config& c : configs) header.push_back(c.name + " ns/op");
  for (size_t c = 1; c < configs.size(); ++c) header.push_back(configs[c].name + " +ns");
  std::vector<size_t> cgio_columns, floor_columns;
  size_t bpftrace_column = 0;
  for (size_t c = 0; c < configs.size(); ++c) {
    if (configs[c].kind == Kind::cgio) cgio_columns.push_back(c);
    if (configs[c].kind == Kind::floor) floor_columns.push_back(c);
    if (configs[c].kind == Kind::bpftrace) bpftrace_column = c;
  }
  for (size_t c : cgio_columns) {
    header.push_back(configs[c].name + "/floor");
    header.push_back(configs[c].name + "/bpftrace");
  }
  Table table(header);
  Table spread({"workload", "config", "min ns/op", "median", "max", "rounds"});
  const auto added = [&](size_t c, size_t w) { return med[c][w] - med[0][w]; };
  for (size_t w = 0; w < kWorkloadCount; ++w) {
    std::vector<std::string> row{kWorkloads[w].name};
    for (size_t c = 0; c < configs.size(); ++c) row.push_back(fixed(med[c][w], 0));
    for (size_t c = 1; c < configs.size(); ++c) row.push_back(fixed(added(c, w), 0));
    for (size_t c : cgio_columns) {
      row.push_back(ratio_text(added(c, w), added(configs[c].floor, w)));
      row.push_back(ratio_text(added(c, w), added(bpftrace_column, w)));
    }
    table.row(row);
    for (size_t c = 0; c < configs.size(); ++c) {
      const auto [lo, hi] = std::minmax_element(ns[c][w].begin(), ns[c][w].end());
      spread.row({kWorkloads[w].name, configs[c].name, fixed(*lo, 0), fixed(med[c][w], 0), fixed(*hi, 0),
                  std::to_string(ns[c][w].size())});
    }
  }

  std::string text = "## Hook overhead per operation\n\n" + machine_note(ctx) + "\n\n";
  text += std::to_string(s.rounds) + " rounds of " + std::to_string(configs.size()) + " configs, interleaved; " +
          std::to_string(s.iterations) + " operations per workload and round after " + std::to_string(s.warmup) +
          " of warm-up, timed with CLOCK_MONOTONIC around the loop, in one process pinned to CPU " +
          std::to_string(cpu) +
          " in a fresh cgroup per round. Figures are medians across rounds; +ns is a "
          "config's median minus the baseline's; the ratios divide added ns.\n\n";
  text += table.markdown() + "\n";
  text += "Checks:\n\n";
  for (const auto& c : checks) text += "- " + c + ".\n";
  text += notes;
  if (busy_baselines > 0) {
    text += "- Other processes had up to " + std::to_string(most_foreign) + " tracing BPF programs loaded in " +
            std::to_string(busy_baselines) + " of " + std::to_string(s.rounds) +
            " baseline rounds: their cost is in every config (the machine was shared).\n";
  }
  text += "\n<details><summary>Spread across rounds</summary>\n\n" + spread.markdown() + "\n</details>\n\n";
  ctx.report.print(text);

  for (size_t c : cgio_columns) {
    const size_t f = configs[c].floor;
    for (size_t w = 0; w < kWorkloadCount; ++w) {
      if (!kWorkloads[w].counted) continue;
      const double a = added(c, w), af = added(f, w), ab = added(bpftrace_column, w);
      const auto verdict = [](double r, double limit, double denominator) -> std::string {
        if (std::isnan(r) || denominator <= 0) return "n/a (denominator not a positive cost)";
        return r <= limit ? "met" : "not met";
      };
      ctx.targets.push_back({configs[c].name + " " + kWorkloads[w].name + ": added <= 1.3 x floor's",
                             fixed(a, 0) + " vs " + fixed(af, 0) + " ns = " + ratio_text(a, af),
                             verdict(a / af, 1.3, af)});
      ctx.targets.push_back({configs[c].name + " " + kWorkloads[w].name + ": added <= 0.4 x bpftrace's",
                             fixed(a, 0) + " vs " + fixed(ab, 0) + " ns = " + ratio_text(a, ab),
                             verdict(a / ab, 0.4, ab)});
    }
    // Both hook sets put every syscall on the same slow path, so the two
    // are expected equal; a difference smaller than the rounds' own scatter
    // (median absolute deviation) is called so.
    const size_t g = kGetppid;
    const double over = added(c, g) - added(f, g);
    std::vector<double> deviations;
    for (double v : ns[c][g]) deviations.push_back(std::fabs(v - med[c][g]));
    const double mad = median(deviations);
    ctx.targets.push_back({configs[c].name + " getppid (collateral): added <= floor's",
                           fixed(added(c, g), 1) + " vs " + fixed(added(f, g), 1) + " ns",
                           over <= 0     ? "met"
                           : over <= mad ? "not met by " + fixed(over, 1) + " ns, within the rounds' scatter (MAD " +
                                               fixed(mad, 1) + " ns)"
                                         : "not met (+" + fixed(over, 1) + " ns)"});
  }
  return {};
}

}  // namespace cgio::bench
