// cgio_bench: the benchmark suite (docs/BENCHMARKS.md). Prints figures and
// the targets next to them; exits non-zero only when a part could not be
// measured, never because of a figure (machines are shared and noisy).
//
//   cgio_bench [--smoke] [--part overhead|scrape|concurrency|mmap|churn]... [--out FILE]
//              [--rounds R] [--iterations N] [--warmup N] [--cpu C]
//              [--sizes 100,1000,...] [--scrapes K]
//              [--threads-rounds R] [--threads-seconds S]
//              [--exporter PATH] [--bpftrace PATH] [--bpftrace-script PATH]
//
// Exit status: 0 every part measured, 1 a part could not be measured, 2 bad
// usage, 77 not root (skipped) unless CGIO_REQUIRE_ROOT_TESTS=1 (then 1).
#include <dirent.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sstream>

#include "exporter_process.h"
#include "kernel/mounts.h"
#include "parts.h"

namespace cgio::bench {

std::string machine_note(const Context& ctx) {
  return "Machine: " + machine_line(ctx.machine) + "; load average " + load_average() + " when this part ended.";
}

namespace {

int usage(const std::string& why) {
  std::cerr << "cgio_bench: " << why << "\n"
            << "usage: cgio_bench [--smoke] [--part overhead|scrape|concurrency|mmap|churn]... [--out FILE]\n"
               "                  [--rounds R] [--iterations N] [--warmup N] [--cpu C]\n"
               "                  [--sizes 100,1000,...] [--scrapes K] [--threads-rounds R] [--threads-seconds S]\n"
               "                  [--exporter PATH] [--bpftrace PATH] [--bpftrace-script PATH]\n";
  return 2;
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

// Cgroups left by an earlier run that was killed (named cgio-bench-<pid>-...
// after a process that no longer exists): removed, children first.
void remove_stale_cgroups(const std::string& root) {
  DIR* d = opendir(root.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("cgio-bench-", 0) != 0) continue;
    const std::string pid = name.substr(11, name.find('-', 11) - 11);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    if (stat(("/proc/" + pid).c_str(), &st) != 0) stale.push_back(root + "/" + name);
  }
  closedir(d);
  for (const std::string& dir : stale) {
    if (DIR* c = opendir(dir.c_str())) {
      while (const dirent* e = readdir(c)) {
        if (e->d_type == DT_DIR && e->d_name[0] != '.') rmdir((dir + "/" + e->d_name).c_str());
      }
      closedir(c);
    }
    rmdir(dir.c_str());
  }
}

// Tmpfs mounts left the same way (/tmp/cgio-bench-<pid>-XXXXXX).
void remove_stale_mounts() {
  auto mounts = cgio::read_mountinfo("/proc/self/mountinfo");
  if (!mounts) return;
  for (const cgio::Mount& m : *mounts) {
    if (m.fs_type != "tmpfs" || m.mount_point.rfind("/tmp/cgio-bench-", 0) != 0) continue;
    const std::string pid = m.mount_point.substr(16, m.mount_point.find('-', 16) - 16);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    if (stat(("/proc/" + pid).c_str(), &st) == 0) continue;
    umount2(m.mount_point.c_str(), MNT_DETACH);
    rmdir(m.mount_point.c_str());
  }
}

void on_signal(int) { request_stop(); }

std::string exporter_version(const std::string& exporter) {
  std::string out;
  test::run_command({exporter, "--version"}, &out);
  const size_t nl = out.find('\n');
  return nl == std::string::npos ? out : out.substr(0, nl);
}

bool parse_list(const std::string& text, std::vector<uint64_t>* out) {
  out->clear();
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      out->push_back(std::stoull(item));
    } catch (...) {
      return false;
    }
  }
  return !out->empty();
}

}  // namespace
}  // namespace cgio::bench

int main(int argc, char** argv) {
  using namespace cgio;
  using namespace cgio::bench;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--worker") {
    if (args.size() < 2) return 2;
    const std::vector<std::string> rest(args.begin() + 2, args.end());
    if (args[1] == "overhead") return overhead_worker(rest);
    if (args[1] == "concurrency") return concurrency_worker(rest);
    if (args[1] == "mmap") return mmap_worker(rest);
    return 2;
  }

  Context ctx;
  Settings& s = ctx.settings;
  s.self = self_exe();
  s.exporter = CGIO_EXPORTER_BIN;
  s.bpftrace_script = CGIO_BPFTRACE_SCRIPT;
  std::vector<std::string> parts;
  std::string out;
  // Explicit settings override what --smoke sets, wherever they stand.
  std::vector<std::pair<std::string, std::string>> explicit_settings;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string* { return i + 1 < args.size() ? &args[++i] : nullptr; };
    if (a == "--smoke") {
      s.smoke = true;
    } else if (a == "--part" || a == "--out" || a == "--rounds" || a == "--iterations" || a == "--warmup" ||
               a == "--cpu" || a == "--sizes" || a == "--scrapes" || a == "--threads-rounds" ||
               a == "--threads-seconds" || a == "--exporter" || a == "--bpftrace" || a == "--bpftrace-script") {
      const std::string* v = value();
      if (v == nullptr) return usage(a + " needs a value");
      if (a == "--part") {
        std::istringstream in(*v);
        std::string p;
        while (std::getline(in, p, ',')) {
          if (p != "overhead" && p != "scrape" && p != "concurrency" && p != "mmap" && p != "churn") {
            return usage("unknown part " + p);
          }
          parts.push_back(p);
        }
      } else if (a == "--out") {
        out = *v;
      } else {
        explicit_settings.emplace_back(a, *v);
      }
    } else {
      return usage("unknown option " + a);
    }
  }
  if (s.smoke) {
    // Under a minute: enough to show every part still measures.
    s.rounds = 2;
    s.iterations = 2000;
    s.warmup = 200;
    s.sizes = {100, 1000};
    s.scrapes = 3;
    s.concurrency_rounds = 2;
    s.concurrency_seconds = 0.3;
    s.churn_units = 2000;
    s.churn_rounds = 1;
  }
  try {
    for (const auto& [k, v] : explicit_settings) {
      if (k == "--rounds")
        s.rounds = std::stoi(v);
      else if (k == "--iterations")
        s.iterations = std::stoull(v);
      else if (k == "--warmup")
        s.warmup = std::stoull(v);
      else if (k == "--cpu")
        s.cpu = std::stoi(v);
      else if (k == "--sizes" && !parse_list(v, &s.sizes))
        return usage("bad --sizes " + v);
      else if (k == "--scrapes")
        s.scrapes = std::stoi(v);
      else if (k == "--threads-rounds")
        s.concurrency_rounds = std::stoi(v);
      else if (k == "--threads-seconds")
        s.concurrency_seconds = std::stod(v);
      else if (k == "--exporter")
        s.exporter = v;
      else if (k == "--bpftrace")
        s.bpftrace = v;
      else if (k == "--bpftrace-script")
        s.bpftrace_script = v;
    }
  } catch (...) {
    return usage("bad number in the options");
  }
  if (s.rounds < 1 || s.iterations < 1 || s.scrapes < 1 || s.concurrency_rounds < 1 || s.concurrency_seconds <= 0) {
    return usage("rounds, iterations, scrapes and durations must be positive");
  }
  if (parts.empty()) parts = {"overhead", "scrape", "concurrency", "mmap", "churn"};
  if (out.empty()) out = std::string(CGIO_BENCH_RESULTS_DIR) + (s.smoke ? "/results-smoke.md" : "/results.md");

  if (geteuid() != 0) {
    const char* required = std::getenv("CGIO_REQUIRE_ROOT_TESTS");
    if (required != nullptr && std::strcmp(required, "1") == 0) {
      std::cerr << "FAIL: the benchmarks need root (CGIO_REQUIRE_ROOT_TESTS=1 is set)\n";
      return 1;
    }
    std::cerr << "SKIP: the benchmarks need root\n";
    return 77;
  }
  // A broken pipe to a scrape must not kill the run.
  signal(SIGPIPE, SIG_IGN);

  ctx.machine = describe_machine();
  auto root = cgroup2_root();
  if (!root) {
    std::cerr << "cgio_bench: " << root.error().message << "\n";
    return 1;
  }
  ctx.cgroup_root = *root;
  remove_stale_cgroups(ctx.cgroup_root);
  remove_stale_mounts();
  // Interrupted, the parts stop at their next step and remove what they made.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  TracefsGuard tracefs;

  ctx.report.print("# cgio benchmarks" + std::string(s.smoke ? " (smoke run: tiny counts, not figures)" : "") + "\n\n" +
                   utc_now() + ", " + exporter_version(s.exporter) + ".\nMachine: " + machine_line(ctx.machine) +
                   "; load average " + load_average() + " at the start.\n\n");
  bool all_measured = true;
  for (const std::string& part : parts) {
    Result<void> r = Error{"unknown part"};
    if (part == "overhead") {
      if (access(s.bpftrace.c_str(), X_OK) != 0) {
        r = Error{"bpftrace not found at " + s.bpftrace + " (packaging/install-deps.sh --bench installs it)"};
      } else {
        r = run_overhead(ctx);
      }
    } else if (part == "scrape") {
      r = run_scrape(ctx);
    } else if (part == "concurrency") {
      r = run_concurrency(ctx);
    } else if (part == "mmap") {
      r = run_mmap(ctx);
    } else if (part == "churn") {
      r = run_churn(ctx);
    }
    if (!r) {
      all_measured = false;
      ctx.report.print("## " + part + ": NOT MEASURED\n\n" + r.error().message + "\n\n");
    }
  }

  if (!ctx.targets.empty()) {
    Table targets({"target (printed, never asserted)", "figure", "verdict"});
    for (const Target& t : ctx.targets) targets.row({t.what, t.figure, t.verdict});
    ctx.report.print("## Targets\n\nMachine: " + machine_line(ctx.machine) + "\n\n" + targets.markdown() + "\n");
  }
  ctx.report.print(std::string(all_measured ? "All parts measured." : "SOME PARTS COULD NOT BE MEASURED.") + "\n");
  if (auto w = ctx.report.write(out); !w) {
    std::cerr << "cgio_bench: " << w.error().message << "\n";
    return 1;
  }
  std::cout << "(written to " << out << ")\n";
  return all_measured ? 0 : 1;
}
