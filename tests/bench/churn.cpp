// Part 5: the churn rate the exporter keeps up with. Units (services below a
// slice) are created and removed as fast as one thread can, and the clock
// runs until the exporter has ended every one of them and, with
// --accounting.file on the root filesystem (real fsyncs), written every
// record. The same churn without accounting, interleaved, says what the
// records cost.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "exporter_process.h"
#include "parts.h"

namespace cgio::bench {
namespace {

double counter(const test::Metrics& m, const std::string& name) {
  auto it = m.find(name);
  if (it == m.end() || it->second.empty()) return -1;
  return it->second.front().value;
}

struct ChurnResult {
  double made_per_s = 0;       // mkdir + rmdir pairs per second, by the churning thread
  double accounted_per_s = 0;  // units ended (and recorded) per second, from the first mkdir
  double lag_ms = 0;           // after the last rmdir, until the exporter had it all
  double events_lost = 0;
  double records = 0;
  double ended = 0;
};

Result<ChurnResult> churn_once(const Context& ctx, uint64_t units, const std::string& records_file, bool pinned) {
  std::vector<std::string> args = {"--web.listen-address=127.0.0.1:0", "--no-collector.net",
                                   "--cgroup.retain-ended=1s"};
  if (!records_file.empty()) args.push_back("--accounting.file=" + records_file);
  // Pinned (the default: ExporterProcess gives each its own pin path), the
  // tracker journals every fold and unit end.
  if (!pinned) args.push_back("--bpf.pin-path=none");
  std::string err;
  auto exporter = test::ExporterProcess::start(ctx.settings.exporter, args, &err);
  if (!exporter) return Error{"cgio_exporter did not start: " + err};
  const auto metrics = [&] { return test::parse_metrics(test::http_get(exporter->port(), "/metrics").body); };
  const test::Metrics before = metrics();
  const double ended0 = counter(before, "cgio_units_ended_total");
  const double lost0 = counter(before, "cgio_cgroup_events_lost_total");

  const std::string slice = ctx.cgroup_root + "/cgio-bench-" + std::to_string(getpid()) + "-churn.slice";
  if (mkdir(slice.c_str(), 0755) != 0) return Error{"mkdir " + slice + ": " + std::strerror(errno)};
  const int64_t start = monotonic_ns();
  for (uint64_t i = 0; i < units && !interrupted(); ++i) {
    const std::string cg = slice + "/u" + std::to_string(i) + ".service";
    if (mkdir(cg.c_str(), 0755) != 0 || rmdir(cg.c_str()) != 0) {
      const int e = errno;
      rmdir(cg.c_str());
      rmdir(slice.c_str());
      return Error{"churn at " + cg + ": " + std::strerror(e)};
    }
  }
  const int64_t churned = monotonic_ns();
  rmdir(slice.c_str());
  if (interrupted()) return Error{"interrupted"};

  ChurnResult r;
  test::Metrics m;
  int64_t done = 0;
  const int64_t deadline = churned + 120'000'000'000LL;
  for (;;) {
    m = metrics();
    const double ended = counter(m, "cgio_units_ended_total") - ended0;
    const bool recorded =
        records_file.empty() || (counter(m, "cgio_accounting_records_written_total") >= static_cast<double>(units) &&
                                 counter(m, "cgio_accounting_records_pending") == 0);
    if (ended >= static_cast<double>(units) && recorded) {
      done = monotonic_ns();
      break;
    }
    if (monotonic_ns() > deadline || interrupted()) break;
    usleep(2000);
  }
  r.ended = counter(m, "cgio_units_ended_total") - ended0;
  r.events_lost = counter(m, "cgio_cgroup_events_lost_total") - lost0;
  r.records = records_file.empty() ? 0 : counter(m, "cgio_accounting_records_written_total");
  const int status = exporter->stop(SIGTERM);
  if (!exited_ok(status)) return Error{"cgio_exporter stopped with " + describe_status(status)};
  if (done == 0) {
    return Error{"after 120 s the exporter had ended " + fixed(r.ended, 0) + " of " + std::to_string(units) + " units" +
                 (records_file.empty() ? "" : " and written " + fixed(r.records, 0) + " records") +
                 " (cgroup events lost: " + fixed(r.events_lost, 0) + ")"};
  }
  const double n = static_cast<double>(units);
  r.made_per_s = n / (static_cast<double>(churned - start) / 1e9);
  r.accounted_per_s = n / (static_cast<double>(done - start) / 1e9);
  r.lag_ms = static_cast<double>(done - churned) / 1e6;
  return r;
}

}  // namespace

Result<void> run_churn(Context& ctx) {
  const Settings& s = ctx.settings;
  // Records on the root filesystem, where fsync reaches the disk (tmpfs
  // would make it free).
  const std::string dir = "/var/tmp/cgio-bench-" + std::to_string(getpid()) + "-churn";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  struct Config {
    std::string name;
    bool records;
    bool pinned;
    std::vector<double> made, accounted, lag, lost;
  };
  std::vector<Config> configs = {{"no accounting", false, true, {}, {}, {}, {}},
                                 {"--accounting.file (root filesystem)", true, true, {}, {}, {}, {}},
                                 {"not pinned (--bpf.pin-path=none), no journal", false, false, {}, {}, {}, {}}};
  Result<void> failed;
  for (int round = 0; round < s.churn_rounds && failed && !interrupted(); ++round) {
    for (Config& c : configs) {
      const std::string file = c.records ? dir + "/r" + std::to_string(round) + ".jsonl" : "";
      std::cerr << "cgio_bench: churn: " << c.name << ", round " << round + 1 << "\n";
      auto r = churn_once(ctx, s.churn_units, file, c.pinned);
      if (!file.empty()) std::filesystem::remove(file, ec);
      if (!r) {
        failed = r.error().context(c.name);
        break;
      }
      c.made.push_back(r->made_per_s);
      c.accounted.push_back(r->accounted_per_s);
      c.lag.push_back(r->lag_ms);
      c.lost.push_back(r->events_lost);
    }
  }
  std::filesystem::remove_all(dir, ec);
  if (!failed) return failed.error();
  if (interrupted()) return Error{"interrupted"};

  Table t({"exporter", "units made per s (mkdir+rmdir)", "units accounted per s", "lag after the last rmdir ms",
           "cgroup events lost"});
  for (const Config& c : configs) {
    t.row({c.name, fixed(median(c.made), 0), fixed(median(c.accounted), 0), fixed(median(c.lag), 0),
           fixed(median(c.lost), 0)});
  }
  const double ratio = median(configs[1].accounted) / median(configs[0].accounted);
  const double journal_ratio = median(configs[0].accounted) / median(configs[2].accounted);
  std::string text = "## Churn\n\n" + machine_note(ctx) + "\n\n";
  text += std::to_string(s.churn_units) +
          " units (`<slice>/u<i>.service`) created and removed back to back by one thread, the exporter started "
          "before with `--no-collector.net --cgroup.retain-ended=1s`; \"accounted\" stops the clock when "
          "`cgio_units_ended_total` has them all and, with `--accounting.file`, every record is written "
          "(`cgio_accounting_records_pending` 0). Interleaved, median of " +
          std::to_string(s.churn_rounds) + " rounds.\n\n";
  text += t.markdown() + "\nWith accounting / without: " + fixed(ratio, 2) +
          " of the rate. Pinned, journalling every fold (the default) / not pinned: " + fixed(journal_ratio, 2) +
          ".\n\n";
  ctx.report.print(text);
  ctx.targets.push_back(
      {"churn with accounting keeps the rate without it (>= 0.9)", fixed(ratio, 2), ratio >= 0.9 ? "met" : "not met"});
  return {};
}

}  // namespace cgio::bench
