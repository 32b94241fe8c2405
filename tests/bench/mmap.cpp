// Part 4: memory-mapped files. tmpfs keeps no page cache accounting, so
// this part runs on ext4 on a loop device: a worker in a fresh cgroup maps
// a file and, per round, evicts it (fsync, POSIX_FADV_DONTNEED, checked with
// mincore), reads one byte of every page through a shared mapping (the
// faults bring the file in) and stores one byte to every page, then msyncs
// (every folio dirtied once and written back). Rounds alternate nothing
// attached and the exporter as shipped; cgio's two mmap counters must equal
// the file's size after every cgio round. A fault here costs microseconds
// and a round's writeback far more, so the wall-clock figures cannot resolve
// the ~100 ns a hook adds: a last cgio round runs with the kernel's BPF
// statistics enabled and reports what cgio's mmap programs themselves cost
// per run (run_time_ns / run_cnt), the precise figure.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>

#include "exporter_process.h"
#include "loop_ext4.h"
#include "parts.h"
#include "util/bpf_handles.h"

namespace cgio::bench {
namespace {

constexpr uint64_t kMib = 64;  // the mapped file

int worker_fail(const std::string& what) {
  const std::string line = "error " + what + " (" + std::strerror(errno) + ")\n";
  (void)!write(STDOUT_FILENO, line.data(), line.size());
  return 1;
}

uint64_t resident(void* map, size_t len, size_t page) {
  std::vector<unsigned char> vec(len / page);
  if (mincore(map, len, vec.data()) != 0) return ~0ull;
  return static_cast<uint64_t>(std::count_if(vec.begin(), vec.end(), [](unsigned char c) { return c & 1; }));
}

}  // namespace

// args: <cgroup dir> <file>. The file exists (kMib MiB, written by the
// orchestrator): the worker only maps it.
int mmap_worker(const std::vector<std::string>& args) {
  if (args.size() != 2) return worker_fail("usage: --worker mmap <cgroup> <file>");
  if (auto r = lock_own_pages(); !r) return worker_fail(r.error().message);
  if (auto r = join_cgroup(args[0]); !r) return worker_fail(r.error().message);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t len = kMib << 20;
  Fd fd(open(args[1].c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return worker_fail("open " + args[1]);
  if (fsync(fd.get()) != 0 || posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) != 0) {
    return worker_fail("evict " + args[1]);
  }
  auto* map = static_cast<volatile char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  if (map == MAP_FAILED) return worker_fail("mmap");
  if (const uint64_t cached = resident(const_cast<char*>(map), len, page); cached != 0) {
    errno = 0;
    return worker_fail(std::to_string(cached) + " pages still cached after POSIX_FADV_DONTNEED");
  }
  char sum = 0;
  const int64_t t0 = monotonic_ns();
  for (size_t i = 0; i < len; i += page) sum = static_cast<char>(sum + map[i]);
  const int64_t t1 = monotonic_ns();
  for (size_t i = 0; i < len; i += page) map[i] = static_cast<char>(sum + 1);
  if (msync(const_cast<char*>(map), len, MS_SYNC) != 0) return worker_fail("msync");
  const int64_t t2 = monotonic_ns();
  munmap(const_cast<char*>(map), len);
  const double pages = static_cast<double>(len / page);
  std::ostringstream out;
  out << "ns read " << fixed(static_cast<double>(t1 - t0) / pages, 1) << "\n"
      << "ns store " << fixed(static_cast<double>(t2 - t1) / pages, 1) << "\n"
      << "bytes " << len << "\n";
  const std::string text = out.str();
  return write(STDOUT_FILENO, text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : 1;
}

namespace {

struct MmapRun {
  double read_ns = 0, store_ns = 0;
  uint64_t bytes = 0;
};

Result<MmapRun> run_mmap_worker(const Context& ctx, const std::string& cgroup_dir, const std::string& file) {
  auto child = ChildProcess::spawn({ctx.settings.self, "--worker", "mmap", cgroup_dir, file});
  if (!child) return child.error();
  const int status = (*child)->wait(600000, interrupted);
  const std::string out = (*child)->output();
  if (!exited_ok(status)) return Error{"mmap workload: " + describe_status(status) + ": " + out};
  MmapRun run;
  std::istringstream lines(out);
  std::string kind, key;
  while (lines >> kind) {
    if (kind == "ns" && lines >> key) {
      (key == "read" ? run.read_ns : run.store_ns) = [&] {
        double v = 0;
        lines >> v;
        return v;
      }();
    } else if (kind == "bytes") {
      lines >> run.bytes;
    }
  }
  if (run.bytes == 0) return Error{"mmap workload printed no figures: " + out};
  return run;
}

// The kernel's run statistics of the loaded programs whose name starts with
// `prefix` (names are cut at 15 characters): name -> {runs, ns}.
std::map<std::string, std::pair<uint64_t, uint64_t>> program_stats(const std::string& prefix) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> stats;
  uint32_t id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    Fd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid()) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
    const std::string name = info.name;
    if (name.rfind(prefix, 0) != 0) continue;
    auto& s = stats[name];
    s.first += info.run_cnt;
    s.second += info.run_time_ns;
  }
  return stats;
}

}  // namespace

Result<void> run_mmap(Context& ctx) {
  const Settings& s = ctx.settings;
  const int rounds = s.smoke ? 2 : 5;
  test::LoopExt4 fs(2 * kMib + 64);
  if (fs.dir().empty()) return Error{"no ext4 to map a file on: " + fs.error()};
  const std::string file = fs.dir() + "/mapped";
  {
    Fd f(open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    const std::string mib(1 << 20, 'm');
    bool ok = f.valid();
    for (uint64_t i = 0; ok && i < kMib; ++i) ok = write(f.get(), mib.data(), mib.size()) == 1 << 20;
    if (!ok || fsync(f.get()) != 0) return errno_error("create " + file, errno);
  }

  std::vector<double> read_ns[2], store_ns[2];  // [0] nothing attached, [1] cgio
  // One cgio round; with `stats`, the kernel's run statistics of cgio's mmap
  // programs over the workload (taken while the exporter still holds them).
  using Stats = std::map<std::string, std::pair<uint64_t, uint64_t>>;
  const auto cgio_round = [&](const std::string& slug, MmapRun* out, Stats* stats) -> Result<void> {
    std::string err;
    auto exporter = test::ExporterProcess::start(s.exporter, {"--web.listen-address=127.0.0.1:0"}, &err);
    if (!exporter) return Error{"cgio_exporter did not start: " + err};
    auto cg = Cgroup::create(ctx.cgroup_root + "/cgio-bench-" + std::to_string(getpid()) + "-mmap-" + slug);
    if (!cg) return cg.error();
    const Stats before = stats ? program_stats("cgio_mmap_") : Stats{};
    auto run = run_mmap_worker(ctx, cg->dir(), file);
    if (!run) return run.error();
    if (stats) {
      for (const auto& [name, after] : program_stats("cgio_mmap_")) {
        const auto b = before.contains(name) ? before.at(name) : std::pair<uint64_t, uint64_t>{};
        (*stats)[name] = {after.first - b.first, after.second - b.second};
      }
    }
    const test::Metrics m = test::parse_metrics(test::http_get(exporter->port(), "/metrics").body);
    const std::string label = cgroup_label(ctx.cgroup_root, cg->dir());
    std::string wrong;
    for (const char* name : {"cgio_vfs_mmap_pagein_bytes_total", "cgio_vfs_mmap_dirtied_bytes_total"}) {
      double got = 0;
      if (const auto it = m.find(name); it != m.end()) {
        for (const test::Sample& sample : it->second) {
          if (sample.labels.contains("cgroup") && sample.labels.at("cgroup") == label) got = sample.value;
        }
      }
      if (static_cast<uint64_t>(got) != run->bytes) {
        wrong += std::string(" ") + name + " = " + fixed(got, 0) + " (the workload mapped " +
                 std::to_string(run->bytes) + ")";
      }
    }
    if (!wrong.empty()) return Error{"cgio_exporter miscounted cgroup " + label + ":" + wrong};
    const int status = exporter->stop(SIGTERM);
    if (!exited_ok(status)) return Error{"cgio_exporter stopped with " + describe_status(status)};
    *out = *run;
    return {};
  };
  for (int round = 0; round < rounds; ++round) {
    if (interrupted()) return Error{"interrupted"};
    auto cg = Cgroup::create(ctx.cgroup_root + "/cgio-bench-" + std::to_string(getpid()) + "-mmap-baseline-" +
                             std::to_string(round));
    if (!cg) return cg.error();
    auto base = run_mmap_worker(ctx, cg->dir(), file);
    if (!base) return base.error().context("nothing attached, round " + std::to_string(round + 1));
    read_ns[0].push_back(base->read_ns);
    store_ns[0].push_back(base->store_ns);
    MmapRun run;
    if (auto ok = cgio_round(std::to_string(round), &run, nullptr); !ok) {
      return ok.error().context("cgio, round " + std::to_string(round + 1));
    }
    read_ns[1].push_back(run.read_ns);
    store_ns[1].push_back(run.store_ns);
  }

  // The programs' own cost: one more cgio round with statistics on (they
  // add two clock reads per run, so never during the rounds above).
  Stats stats;
  {
    Fd enabled(bpf_enable_stats(BPF_STATS_RUN_TIME));
    if (!enabled.valid()) return errno_error("BPF_ENABLE_STATS", errno);
    MmapRun run;
    if (auto ok = cgio_round("stats", &run, &stats); !ok) return ok.error().context("cgio with statistics");
  }
  if (stats.empty()) return Error{"cgio_exporter loaded no cgio_mmap_* program"};

  Table table({"pass, per page", "nothing ns", "cgio ns", "cgio +ns"});
  const auto row = [&](const char* name, std::vector<double>* v) {
    const double a = median(v[0]), b = median(v[1]);
    table.row({name, fixed(a, 0), fixed(b, 0), fixed(b - a, 0)});
  };
  row("read through the mapping, cold (faults page the file in)", read_ns);
  row("store through the mapping + msync (every folio dirtied, written back)", store_ns);
  std::string text = "## Memory-mapped files\n\n" + machine_note(ctx) + "\n\n";
  text += "A " + std::to_string(kMib) + " MiB file on ext4 on a loop device, " + std::to_string(rounds) +
          " rounds alternating nothing attached and cgio_exporter as shipped, medians; cgio's "
          "cgio_vfs_mmap_pagein_bytes_total and cgio_vfs_mmap_dirtied_bytes_total equalled the file's size "
          "after every cgio round.\n\n" +
          table.markdown() + "\n";
  Table programs({"program", "runs", "ns per run", "ns per page of the file"});
  const double pages = static_cast<double>((kMib << 20) / static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  for (const auto& [name, st] : stats) {
    programs.row({name, std::to_string(st.first),
                  st.first ? fixed(static_cast<double>(st.second) / static_cast<double>(st.first), 0) : "n/a",
                  fixed(static_cast<double>(st.second) / pages, 1)});
  }
  text +=
      "cgio's mmap programs over one more round, from the kernel's BPF statistics (every run on the "
      "machine while the workload ran: one per folio brought in or made dirty, and the runs for "
      "read()/write() they filter out):\n\n" +
      programs.markdown() + "\n";
  ctx.report.print(text);
  return {};
}

}  // namespace cgio::bench
