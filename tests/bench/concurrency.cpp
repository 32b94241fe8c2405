// Part 3: two threads of one cgroup write flat out at once. Per-CPU slots
// and programs that cannot be preempted should lose nothing; this counts
// what the exporter reports against what the threads did, and what the
// hooks cost when both CPUs are busy. In the same interleaved rounds, a
// bench-only object (choices.bpf.c) keeps the same kind of count per-CPU,
// in one shared value with atomic adds, and in one shared value with plain
// adds: what per-CPU values buy, measured rather than assumed.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <sstream>
#include <thread>

#include "cgio_bench_choices.skel.h"
#include "exporter_process.h"
#include "maps/counter_source.h"
#include "parts.h"
#include "util/bpf_handles.h"

namespace cgio::bench {
namespace {

constexpr size_t kThreads = 2;
constexpr size_t kIoSize = 64;

struct ThreadResult {
  uint64_t ops = 0;
  int64_t ns = 0;
  bool ok = true;
};

}  // namespace

// args: <cgroup dir> <seconds> <directory for the files>
int concurrency_worker(const std::vector<std::string>& args) {
  const auto fail = [](const std::string& what) {
    const std::string line = "error " + what + "\n";
    (void)!write(STDOUT_FILENO, line.data(), line.size());
    return 1;
  };
  if (args.size() != 3) return fail("usage: --worker concurrency <cgroup> <seconds> <dir>");
  const int64_t duration_ns = static_cast<int64_t>(std::stod(args[1]) * 1e9);
  if (auto r = join_cgroup(args[0]); !r) return fail(r.error().message);

  Fd files[kThreads];
  for (size_t t = 0; t < kThreads; ++t) {
    const std::string path = args[2] + "/thread" + std::to_string(t);
    files[t] = Fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!files[t].valid()) return fail("open " + path);
  }
  ThreadResult results[kThreads];
  std::atomic<size_t> waiting{kThreads};
  const auto body = [&](size_t t) {
    char buf[kIoSize] = {'c', 'g', 'i', 'o'};
    const int fd = files[t].get();
    // Start together, so the two really overlap.
    waiting.fetch_sub(1);
    while (waiting.load() != 0) {
    }
    const int64_t start = monotonic_ns();
    int64_t now = start;
    uint64_t ops = 0;
    while (now - start < duration_ns) {
      for (int i = 0; i < 256; ++i) {
        if (pwrite(fd, buf, kIoSize, 0) != static_cast<ssize_t>(kIoSize)) {
          results[t].ok = false;
          break;
        }
        ++ops;
      }
      if (!results[t].ok) break;
      now = monotonic_ns();
    }
    results[t].ops = ops;
    results[t].ns = now - start;
  };
  std::thread threads[kThreads];
  for (size_t t = 0; t < kThreads; ++t) threads[t] = std::thread(body, t);
  for (auto& th : threads) th.join();

  std::ostringstream out;
  for (size_t t = 0; t < kThreads; ++t) {
    if (!results[t].ok) return fail("pwrite failed in thread " + std::to_string(t));
    out << "thread " << t << " " << results[t].ops << " " << results[t].ns << "\n";
  }
  const std::string text = out.str();
  return write(STDOUT_FILENO, text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : 1;
}

namespace {

struct Round {
  uint64_t ops = 0;
  double ns_per_op = 0;  // mean over the threads of elapsed / ops
};

Result<Round> run_threads(const Context& ctx, const std::string& cgroup_dir, const std::string& dir) {
  const Settings& s = ctx.settings;
  auto child =
      ChildProcess::spawn({s.self, "--worker", "concurrency", cgroup_dir, fixed(s.concurrency_seconds, 3), dir});
  if (!child) return child.error();
  const int status = (*child)->wait(static_cast<int>(s.concurrency_seconds * 1000) + 60000, interrupted);
  const std::string out = (*child)->output();
  if (!exited_ok(status)) return Error{"writer process: " + describe_status(status) + ": " + out};
  Round r;
  size_t threads = 0;
  std::istringstream lines(out);
  std::string word;
  size_t t = 0;
  uint64_t ops = 0;
  int64_t ns = 0;
  while (lines >> word >> t >> ops >> ns) {
    if (word != "thread" || ops == 0) return Error{"writer process printed: " + out};
    r.ops += ops;
    r.ns_per_op += static_cast<double>(ns) / static_cast<double>(ops) / kThreads;
    ++threads;
  }
  if (threads != kThreads) return Error{"writer process printed: " + out};
  return r;
}

// The three ways of keeping the count (choices.bpf.c), one attached at a time.
enum class Choice { kPerCpu, kSharedAtomic, kSharedPlain };
constexpr Choice kChoices[] = {Choice::kPerCpu, Choice::kSharedAtomic, Choice::kSharedPlain};

const char* choice_name(Choice c) {
  switch (c) {
    case Choice::kPerCpu:
      return "per-CPU hash, plain adds (as cgio)";
    case Choice::kSharedAtomic:
      return "shared hash, atomic adds";
    case Choice::kSharedPlain:
      return "shared hash, plain adds";
  }
  return "?";
}

using ChoicesPtr = std::unique_ptr<cgio_bench_choices, decltype(&cgio_bench_choices__destroy)>;

bpf_program* choice_program(cgio_bench_choices& skel, Choice c) {
  switch (c) {
    case Choice::kPerCpu:
      return skel.progs.percpu;
    case Choice::kSharedAtomic:
      return skel.progs.shared_atomic;
    case Choice::kSharedPlain:
      return skel.progs.shared_plain;
  }
  return nullptr;
}

// Calls counted for `cgroup_id` by `c` (summed over CPUs), and the entry
// removed so the next round starts from zero.
Result<uint64_t> take_choice_count(cgio_bench_choices& skel, Choice c, uint64_t cgroup_id) {
  const bool percpu = c == Choice::kPerCpu;
  const int fd = bpf_map__fd(percpu ? skel.maps.percpu_counts : skel.maps.shared_counts);
  const int cpus = percpu ? libbpf_num_possible_cpus() : 1;
  if (cpus <= 0) return Error{"libbpf_num_possible_cpus failed"};
  std::vector<uint64_t> values(2 * static_cast<size_t>(cpus), 0);  // {calls, bytes} per CPU
  if (bpf_map_lookup_elem(fd, &cgroup_id, values.data()) != 0) {
    if (errno == ENOENT) return uint64_t{0};
    return Error{std::string("reading the choice map: ") + std::strerror(errno)};
  }
  uint64_t calls = 0;
  sum_percpu(values, static_cast<size_t>(cpus), {&calls, 1});
  bpf_map_delete_elem(fd, &cgroup_id);
  return calls;
}

}  // namespace

Result<void> run_concurrency(Context& ctx) {
  const Settings& s = ctx.settings;
  auto tmpfs = Tmpfs::create();
  if (!tmpfs) return tmpfs.error();

  ChoicesPtr choices(cgio_bench_choices__open_and_load(), &cgio_bench_choices__destroy);
  if (!choices) return Error{std::string("loading the per-CPU/shared comparison programs: ") + std::strerror(errno)};
  struct ChoiceFigures {
    std::vector<double> ns;
    uint64_t made = 0, counted = 0;
  };
  ChoiceFigures choice_figures[std::size(kChoices)];

  std::vector<double> baseline_ns, cgio_ns;
  uint64_t made = 0, counted = 0, bytes_made = 0, bytes_counted = 0;
  for (int round = 0; round < s.concurrency_rounds; ++round) {
    for (size_t i = 0; i < std::size(kChoices); ++i) {
      if (interrupted()) return Error{"interrupted"};
      const Choice c = kChoices[i];
      const std::string where = std::string(choice_name(c)) + ", round " + std::to_string(round + 1);
      auto cg = Cgroup::create(ctx.cgroup_root + "/cgio-bench-" + std::to_string(getpid()) + "-threads-choice" +
                               std::to_string(i) + "-" + std::to_string(round));
      if (!cg) return cg.error();
      BpfLinkPtr link(bpf_program__attach(choice_program(*choices, c)));
      if (!link) return Error{where + ": attach failed: " + std::strerror(errno)};
      auto r = run_threads(ctx, cg->dir(), tmpfs->dir());
      link.reset();
      if (!r) return r.error().context(where);
      auto n = take_choice_count(*choices, c, cg->id());
      if (!n) return n.error().context(where);
      choice_figures[i].ns.push_back(r->ns_per_op);
      choice_figures[i].made += r->ops;
      choice_figures[i].counted += *n;
    }
    for (const bool with_cgio : {false, true}) {
      if (interrupted()) return Error{"interrupted"};
      auto cg = Cgroup::create(ctx.cgroup_root + "/cgio-bench-" + std::to_string(getpid()) + "-threads-" +
                               (with_cgio ? "cgio-" : "baseline-") + std::to_string(round));
      if (!cg) return cg.error();
      const std::string where = std::string(with_cgio ? "cgio" : "baseline") + ", round " + std::to_string(round + 1);
      std::unique_ptr<test::ExporterProcess> exporter;
      if (with_cgio) {
        std::string err;
        exporter = test::ExporterProcess::start(s.exporter, {"--web.listen-address=127.0.0.1:0"}, &err);
        if (!exporter) return Error{where + ": cgio_exporter did not start: " + err};
      }
      auto r = run_threads(ctx, cg->dir(), tmpfs->dir());
      if (!r) return r.error().context(where);
      if (!with_cgio) {
        baseline_ns.push_back(r->ns_per_op);
        continue;
      }
      cgio_ns.push_back(r->ns_per_op);
      const test::HttpResponse scrape = test::http_get(exporter->port(), "/metrics");
      if (scrape.status != 200) return Error{where + ": scrape failed"};
      const test::Metrics m = test::parse_metrics(scrape.body);
      const std::string label = cgroup_label(ctx.cgroup_root, cg->dir());
      const auto value = [&](const std::string& name) -> uint64_t {
        const auto it = m.find(name);
        if (it == m.end()) return 0;
        for (const test::Sample& sample : it->second) {
          if (sample.labels.count("cgroup") != 0 && sample.labels.at("cgroup") == label) {
            return static_cast<uint64_t>(sample.value);
          }
        }
        return 0;
      };
      made += r->ops;
      bytes_made += r->ops * kIoSize;
      counted += value("cgio_vfs_writes_total");
      bytes_counted += value("cgio_vfs_write_bytes_total");
      const int status = exporter->stop(SIGTERM);
      if (!exited_ok(status)) return Error{where + ": cgio_exporter stopped with " + describe_status(status)};
    }
  }

  const double base = median(baseline_ns), with = median(cgio_ns);
  const int64_t lost = static_cast<int64_t>(made) - static_cast<int64_t>(counted);
  const int64_t lost_bytes = static_cast<int64_t>(bytes_made) - static_cast<int64_t>(bytes_counted);
  Table table({"config", "ns/op per thread (median)", "+ns", "writes made", "writes counted", "lost"});
  table.row({"baseline", fixed(base, 0), "", "", "", ""});
  table.row({"cgio (as shipped)", fixed(with, 0), fixed(with - base, 0), std::to_string(made), std::to_string(counted),
             lost == 0 && lost_bytes == 0 ? "lost 0"
                                          : std::to_string(lost) + " calls, " + std::to_string(lost_bytes) + " bytes"});
  std::string text = "## Concurrency\n\n" + machine_note(ctx) + "\n\n";
  text += std::to_string(kThreads) +
          " threads of one process in one fresh cgroup each pwrite 64 bytes to their own "
          "tmpfs file flat out for " +
          fixed(s.concurrency_seconds, 1) +
          " s (not pinned: the scheduler spreads and "
          "migrates them), " +
          std::to_string(s.concurrency_rounds) +
          " rounds with nothing attached and with a fresh "
          "cgio_exporter, interleaved. Writes made are summed over the cgio rounds and compared with "
          "cgio_vfs_writes_total and cgio_vfs_write_bytes_total of the cgroup.\n\n";
  text += table.markdown() + "\n";

  Table choice_table({"how the count is kept (bench-only programs)", "ns/op per thread (median)", "+ns", "writes made",
                      "writes counted", "lost"});
  for (size_t i = 0; i < std::size(kChoices); ++i) {
    const ChoiceFigures& f = choice_figures[i];
    const double ns = median(f.ns);
    const int64_t missing = static_cast<int64_t>(f.made) - static_cast<int64_t>(f.counted);
    choice_table.row(
        {choice_name(kChoices[i]), fixed(ns, 0), fixed(ns - base, 0), std::to_string(f.made), std::to_string(f.counted),
         missing == 0 ? "lost 0"
                      : "lost " + std::to_string(missing) + " (" +
                            fixed(100.0 * static_cast<double>(missing) / static_cast<double>(f.made), 3) + "%)"});
  }
  text +=
      "Per-CPU values against one value shared by all CPUs, in the same interleaved rounds: a minimal program on "
      "sys_exit_pwrite64 (cgroup id, hash lookup, calls and bytes) in three versions, one attached at a time "
      "(tests/bench/bpf/choices.bpf.c); +ns against the same baseline.\n\n";
  text += choice_table.markdown() + "\n";
  ctx.report.print(text);
  ctx.targets.push_back({"zero lost updates under concurrency",
                         lost == 0 && lost_bytes == 0 ? "lost 0 of " + std::to_string(made)
                                                      : "lost " + std::to_string(lost) + " of " + std::to_string(made),
                         lost == 0 && lost_bytes == 0 ? "met" : "not met"});
  return {};
}

}  // namespace cgio::bench
