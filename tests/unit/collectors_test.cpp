#include <gtest/gtest.h>
#include <unistd.h>

#include <prometheus/text_serializer.h>

#include <map>
#include <set>
#include <stdexcept>

#include "collectors/bpf_status.h"
#include "collectors/cgroup_counters.h"
#include "collectors/process.h"
#include "collectors/scrape.h"
#include "fixture_tree.h"
#include "maps/counter_source.h"

#include <limits>

#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio {
namespace {

using test::FixtureTree;

class FixedSource final : public CounterSource {
 public:
  explicit FixedSource(CounterSnapshot s) : snapshot_(std::move(s)) {}
  using CounterSource::read;
  Result<void> read(CounterSnapshot& out) override {
    if (fail_) return Error{"map gone"};
    out = snapshot_;
    return {};
  }
  size_t capacity() const override { return capacity_; }
  bool fail_ = false;
  size_t capacity_ = 0;

 private:
  CounterSnapshot snapshot_;
};

std::string render(const prometheus::Collectable& c) { return prometheus::TextSerializer().Serialize(c.Collect()); }

std::string render(const CgroupCountersCollector& c) {
  std::string text;
  ExpositionWriter out([&text](std::string_view chunk) {
    text.append(chunk);
    return true;
  });
  c.collect(out);
  out.finish();
  return text;
}

std::string render(const Scraper& s) {
  std::string text;
  ExpositionWriter out([&text](std::string_view chunk) {
    text.append(chunk);
    return true;
  });
  s.write(out);
  return text;
}

// Every process_* value from a fixture /proc (tests/fixtures/procfs-process):
// utime 250 + stime 150 ticks, starttime 123400 ticks after btime
// 1764000000, vsize 104857600, rss 2560 pages, three descriptors, soft
// limits 4096 files and an unlimited address space; the command name holds
// spaces and parentheses.
TEST(ProcessCollector, ReadsEveryValueFromProcfs) {
  const ProcessCollector collector(CGIO_FIXTURES "/procfs-process");
  std::map<std::string, double> got;
  for (const auto& f : collector.Collect()) {
    ASSERT_EQ(f.metric.size(), 1u) << f.name;
    got[f.name] = f.type == prometheus::MetricType::Counter ? f.metric[0].counter.value : f.metric[0].gauge.value;
  }
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(got.at("process_cpu_seconds_total"), 400 / tick);
  EXPECT_DOUBLE_EQ(got.at("process_start_time_seconds"), 1764000000 + 123400 / tick);
  EXPECT_DOUBLE_EQ(got.at("process_virtual_memory_bytes"), 104857600);
  EXPECT_DOUBLE_EQ(got.at("process_resident_memory_bytes"), 2560.0 * static_cast<double>(sysconf(_SC_PAGESIZE)));
  EXPECT_DOUBLE_EQ(got.at("process_open_fds"), 3);
  EXPECT_DOUBLE_EQ(got.at("process_max_fds"), 4096);
  EXPECT_DOUBLE_EQ(got.at("process_virtual_memory_max_bytes"),
                   static_cast<double>(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(got.size(), 7u);
}

TEST(ProcessCollector, AMissingProcfsIsAnError) {
  const ProcessCollector collector("/nonexistent");
  EXPECT_THROW(collector.Collect(), std::runtime_error);
}

// The running process: plausible values, a start time in the past.
TEST(ProcessCollector, ReadsTheRunningProcess) {
  const ProcessCollector collector("/proc");
  std::map<std::string, double> got;
  for (const auto& f : collector.Collect()) got[f.name] = f.metric[0].gauge.value + f.metric[0].counter.value;
  EXPECT_GT(got.at("process_resident_memory_bytes"), 1e6);
  EXPECT_GE(got.at("process_open_fds"), 3);
  EXPECT_LT(got.at("process_start_time_seconds"), static_cast<double>(time(nullptr)) + 1);
  EXPECT_GT(got.at("process_start_time_seconds"), static_cast<double>(time(nullptr)) - 86400 * 30);
}

TEST(SumPercpu, AddsEveryCpuCopyFieldByField) {
  // 3 CPUs x 2 fields, the layout the kernel returns for per-CPU maps.
  const std::vector<uint64_t> percpu = {1, 10, 2, 20, 4, 40};
  std::vector<uint64_t> out(2, 0);
  sum_percpu(percpu, 3, out);
  EXPECT_EQ(out, (std::vector<uint64_t>{7, 70}));
}

TEST(SumPercpu, AShorterOutputTakesTheLeadingFieldsOfEachCopy) {
  // 3 CPUs x 2 fields, only the first field wanted (the cgroup event loss
  // counter, a folded value cut to the tracker's width).
  const std::vector<uint64_t> percpu = {1, 10, 2, 20, 4, 40};
  uint64_t first = 0;
  sum_percpu(percpu, 3, {&first, 1});
  EXPECT_EQ(first, 7u);
}

TEST(SumPercpu, KeepsFullSixtyFourBitValues) {
  const std::vector<uint64_t> percpu = {1ull << 40, (1ull << 62) + 1, 3};
  std::vector<uint64_t> out(1, 0);
  sum_percpu(percpu, 3, out);
  EXPECT_EQ(out[0], (1ull << 40) + (1ull << 62) + 4);
}

class NoStore final : public CounterStore {
 public:
  void read(CounterDomain, uint64_t, std::span<uint64_t>) override {}
  void erase(CounterDomain, uint64_t) override {}
  bool holds(uint64_t) const override { return false; }
};

std::shared_ptr<CgroupTracker> unit_tracker(CounterStore& store) {
  auto classifier = WorkloadClassifier::create("", AggregateMode::unit);
  return std::make_shared<CgroupTracker>(
      std::move(classifier.value()), std::chrono::seconds(300), store, std::array<size_t, kCounterDomains>{2, 0, 0},
      [] { return std::chrono::system_clock::now(); }, nullptr);
}

TEST(CgroupCountersCollector, RendersWorkloadLabelsSumsUnitsAndFoldsUnknownIds) {
  FixtureTree tree;
  NoStore store;
  auto tracker = unit_tracker(store);
  tracker->discovered(1, "/system.slice/slurmstepd.scope/job_42");
  tracker->discovered(2, "/system.slice/slurmstepd.scope/job_42/step_0/user/task_0");
  tracker->discovered(3, "/system.slice/nginx.service");
  CounterSnapshot snap;
  snap.fields = 2;
  snap.keys = {2, 1, 3, 0xdead00000001ULL, 0xdead00000002ULL};
  snap.sums = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  std::vector<MetricSpec> table = {
      {"x_calls_total", "Calls.", {{{}, 0}}},
      {"x_bytes_total", "Bytes\\per \"x\"\nline.", {{{{"kind", "k"}}, 1}}},
  };
  CgroupCountersCollector c("x", CounterDomain::vfs, table, std::make_shared<FixedSource>(snap), tracker,
                            std::make_shared<CgroupSpace>(CgroupSpace::v2(tree.root())));
  std::string ignored;
  ExpositionWriter sink([&ignored](std::string_view chunk) {
    ignored.append(chunk);
    return true;
  });
  const auto stats = c.collect(sink);
  EXPECT_EQ(stats.unresolved, 2u);
  EXPECT_EQ(stats.map_entries, 5u);
  EXPECT_EQ(
      render(c),
      "# HELP x_calls_total Calls.\n"
      "# TYPE x_calls_total counter\n"
      "x_calls_total{cgroup=\"unresolved\",workload=\"cgroup\",workload_id=\"unresolved\"} 16\n"
      "x_calls_total{cgroup=\"/system.slice/slurmstepd.scope/job_42\",workload=\"slurm\",workload_id=\"42\"} 4\n"
      "x_calls_total{cgroup=\"/system.slice/nginx.service\",workload=\"systemd\",workload_id=\"nginx.service\"} 5\n"
      "# HELP x_bytes_total Bytes\\\\per \"x\"\\nline.\n"
      "# TYPE x_bytes_total counter\n"
      "x_bytes_total{cgroup=\"unresolved\",workload=\"cgroup\",workload_id=\"unresolved\",kind=\"k\"} 18\n"
      "x_bytes_total{cgroup=\"/system.slice/slurmstepd.scope/"
      "job_42\",workload=\"slurm\",workload_id=\"42\",kind=\"k\"} 6\n"
      "x_bytes_total{cgroup=\"/system.slice/"
      "nginx.service\",workload=\"systemd\",workload_id=\"nginx.service\",kind=\"k\"} 6\n");
}

TEST(ExpositionWriter, FlushesInChunksAndStopsWhenTheClientIsGone) {
  std::vector<std::string> chunks;
  ExpositionWriter out(
      [&chunks](std::string_view chunk) {
        chunks.emplace_back(chunk);
        return chunks.size() < 2;
      },
      64);
  for (int i = 0; i < 20; ++i) out.sample("m", "a=\"1\"", "", static_cast<uint64_t>(i));
  EXPECT_FALSE(out.finish());
  EXPECT_EQ(chunks.size(), 2u) << "nothing is sent after the sink refused";
  EXPECT_LE(chunks[0].size(), 64u);
  EXPECT_EQ(chunks[0].substr(0, 11), "m{a=\"1\"} 0\n");
}

TEST(ExpositionWriter, ValuesAndEscapes) {
  std::string text;
  ExpositionWriter out([&text](std::string_view chunk) {
    text.append(chunk);
    return true;
  });
  std::string labels;
  ExpositionWriter::append_label(labels, "path", "/a\\x2d\"b\"\nc");
  out.sample("u", labels, "", uint64_t{18446744073709551615u});
  out.sample("d", "", "", 0.25);
  out.sample("n", "", "x=\"y\"", std::numeric_limits<double>::quiet_NaN());
  out.finish();
  EXPECT_EQ(text,
            "u{path=\"/a\\\\x2d\\\"b\\\"\\nc\"} 18446744073709551615\n"
            "d 0.25\n"
            "n{x=\"y\"} NaN\n");
}

TEST(CgroupCountersCollector, ReadFailureThrowsForTheScrapeInstrumentation) {
  FixtureTree tree;
  NoStore store;
  auto source = std::make_shared<FixedSource>(CounterSnapshot{});
  source->fail_ = true;
  CgroupCountersCollector c("x", CounterDomain::vfs, {}, source, unit_tracker(store),
                            std::make_shared<CgroupSpace>(CgroupSpace::v2(tree.root())));
  std::string text;
  ExpositionWriter out([&text](std::string_view chunk) {
    text.append(chunk);
    return true;
  });
  EXPECT_THROW(c.collect(out), std::runtime_error);
  out.finish();
  EXPECT_TRUE(text.empty()) << "nothing written before the failure";
}

TEST(MetricTables, MountTableLabelsEveryListedMountAndOther) {
  const auto t = vfs_mount_metrics({"/scratch", "/home"});
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[1].name, "cgio_vfs_read_bytes_total");
  ASSERT_EQ(t[1].series.size(), 3u);
  EXPECT_EQ(t[1].series[0].labels, (std::vector<std::pair<std::string, std::string>>{{"mountpoint", "other"}}));
  EXPECT_EQ(t[1].series[0].counter, 1u);
  EXPECT_EQ(t[1].series[2].labels, (std::vector<std::pair<std::string, std::string>>{{"mountpoint", "/home"}}));
  EXPECT_EQ(t[1].series[2].counter, 2u * 6 + 1);
  EXPECT_EQ(vfs_metrics(false).front().name, "cgio_vfs_opens_total") << "read/write move to the mount table";
}

TEST(MetricTables, VfsContractNamesAndSlots) {
  const auto table = vfs_metrics();
  const std::vector<std::string> names = {
      "cgio_vfs_reads_total",         "cgio_vfs_read_bytes_total",        "cgio_vfs_read_errors_total",
      "cgio_vfs_writes_total",        "cgio_vfs_write_bytes_total",       "cgio_vfs_write_errors_total",
      "cgio_vfs_opens_total",         "cgio_vfs_open_errors_total",       "cgio_vfs_creates_total",
      "cgio_vfs_create_errors_total", "cgio_vfs_unlinks_total",           "cgio_vfs_unlink_errors_total",
      "cgio_vfs_mkdirs_total",        "cgio_vfs_mkdir_errors_total",      "cgio_vfs_rmdirs_total",
      "cgio_vfs_rmdir_errors_total",  "cgio_vfs_mmap_pagein_bytes_total", "cgio_vfs_mmap_dirtied_bytes_total"};
  ASSERT_EQ(table.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(table[i].name, names[i]);
    ASSERT_EQ(table[i].series.size(), 1u);
    // The table follows the enum order of contracts/vfs.h.
    EXPECT_EQ(table[i].series[0].counter, i) << names[i];
    EXPECT_FALSE(table[i].help.empty());
  }
}

TEST(MetricTables, NetSeriesCoverEveryProtocolFamilySlotOnce) {
  const auto table = net_metrics();
  ASSERT_EQ(table.size(), 4u);
  EXPECT_EQ(table[0].name, "cgio_net_sent_bytes_total");
  EXPECT_EQ(table[1].name, "cgio_net_sends_total");
  EXPECT_EQ(table[2].name, "cgio_net_received_bytes_total");
  EXPECT_EQ(table[3].name, "cgio_net_receives_total");
  std::set<size_t> slots;
  for (const auto& m : table) {
    ASSERT_EQ(m.series.size(), 4u) << m.name;
    for (const auto& s : m.series) slots.insert(s.counter);
  }
  EXPECT_EQ(slots.size(), sizeof(cgio_net_value) / sizeof(uint64_t));
  // tcp/ipv6 received bytes lives at counter[TCP][IPV6][RECEIVED_BYTES].
  cgio_net_value v{};
  v.counter[CGIO_NET_TCP][CGIO_NET_IPV6][CGIO_NET_RECEIVED_BYTES] = 1;
  const auto* flat = reinterpret_cast<const uint64_t*>(&v);
  for (const auto& s : table[2].series) {
    const bool tcp6 =
        s.labels == std::vector<std::pair<std::string, std::string>>{{"family", "ipv6"}, {"protocol", "tcp"}};
    EXPECT_EQ(flat[s.counter], tcp6 ? 1u : 0u);
  }
}

TEST(BpfStatusCollector, ReportsEveryOperationAndLostUpdates) {
  BpfStatusCollector c("6.1.0-test",
                       {{"vfs_read",
                         "tracepoint",
                         "sys_exit",
                         true,
                         {{"fentry", "vfs", "probe_refused"}, {"tracepoint", "sys_exit", "attached"}}},
                        {"net_send", "tracepoint", "", false, {{"tracepoint", "", "requirement_missing"}}}},
                       [] {
                         return Result<std::vector<uint64_t>>(std::vector<uint64_t>{5, 2, 0, 1, 0, 0, 0, 0});
                       },
                       {"vfs", ""});
  EXPECT_EQ(
      render(c),
      "# HELP cgio_bpf_program_attached 1 if the BPF programs counting this operation are "
      "attached, 0 if the operation is not counted (see the exporter's log for why); probe_type "
      "and variant name the implementation in use, or the last one tried.\n"
      "# TYPE cgio_bpf_program_attached gauge\n"
      "cgio_bpf_program_attached{probe_type=\"tracepoint\",program=\"vfs_read\",variant=\"sys_exit\"} 1\n"
      "cgio_bpf_program_attached{probe_type=\"tracepoint\",program=\"net_send\",variant=\"\"} 0\n"
      "# HELP cgio_bpf_program_status 1 for every probe type considered for an operation, with "
      "what became of it: attached, usable, prototype_mismatch (no variant matches the kernel's "
      "BTF), requirement_missing, probe_refused (a trivial program of the type did not load or "
      "attach), load_failed, attach_failed. The log has the full reason.\n"
      "# TYPE cgio_bpf_program_status gauge\n"
      "cgio_bpf_program_status{probe_type=\"fentry\",program=\"vfs_read\",status=\"probe_refused\",variant=\"vfs\"} 1\n"
      "cgio_bpf_program_status{probe_type=\"tracepoint\",program=\"vfs_read\",status=\"attached\",variant=\"sys_exit\"}"
      " 1\n"
      "cgio_bpf_program_status{probe_type=\"tracepoint\",program=\"net_send\",status=\"requirement_missing\",variant="
      "\"\"} 1\n"
      "# HELP cgio_bpf_map_full_total Counter updates lost because the counter map was full: "
      "raise --bpf.map-entries.\n"
      "# TYPE cgio_bpf_map_full_total counter\n"
      "cgio_bpf_map_full_total{map=\"vfs\"} 5\n"
      "# HELP cgio_bpf_map_update_failures_total Counter updates lost because the kernel refused a "
      "new cgroup's entry for another reason than a full map: nomem (no memory for the entry at "
      "that moment), busy (the map's bucket was locked by an interrupted update), other.\n"
      "# TYPE cgio_bpf_map_update_failures_total counter\n"
      "cgio_bpf_map_update_failures_total{map=\"vfs\",reason=\"nomem\"} 2\n"
      "cgio_bpf_map_update_failures_total{map=\"vfs\",reason=\"busy\"} 0\n"
      "cgio_bpf_map_update_failures_total{map=\"vfs\",reason=\"other\"} 1\n"
      "# HELP cgio_bpf_program_misses_total Times the kernel skipped running one of this "
      "operation's programs because a BPF program was already running on that CPU (recursion "
      "protection): operations not counted. Kernels before 5.12 do not report it.\n"
      "# TYPE cgio_bpf_program_misses_total counter\n"
      "cgio_bpf_program_misses_total{program=\"vfs_read\"} 0\n"
      "# HELP cgio_kernel_info Release of the running kernel (uname -r); always 1.\n"
      "# TYPE cgio_kernel_info gauge\n"
      "cgio_kernel_info{release=\"6.1.0-test\"} 1\n");
}

class Throwing final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override { throw std::runtime_error("boom"); }
};

TEST(Scraper, FailureIsCountedAndOtherCollectorsStillReport) {
  FixtureTree tree;
  NoStore store;
  auto tracker = unit_tracker(store);
  tracker->discovered(7, "/");
  CounterSnapshot snap;
  snap.fields = 1;
  snap.keys = {7};
  snap.sums = {9};
  auto hierarchy = std::make_shared<CgroupSpace>(CgroupSpace::v2(tree.root()));
  auto broken = std::make_shared<FixedSource>(snap);
  broken->fail_ = true;
  Scraper all;
  auto good = std::make_shared<FixedSource>(snap);
  good->capacity_ = 512;
  all.add(std::make_shared<CgroupCountersCollector>(
      "good", CounterDomain::vfs, std::vector<MetricSpec>{{"y_total", "Y.", {{{}, 0}}}}, good, tracker, hierarchy));
  all.add(std::make_shared<CgroupCountersCollector>(
      "broken", CounterDomain::vfs, std::vector<MetricSpec>{{"z_total", "Z.", {{{}, 0}}}}, broken, tracker, hierarchy));
  all.add("bad", std::make_shared<Throwing>());
  render(all);
  const std::string text = render(all);
  EXPECT_NE(text.find("y_total{cgroup=\"/\",workload=\"cgroup\",workload_id=\"/\"} 9\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("z_total"), std::string::npos) << "a failed collector writes nothing";
  EXPECT_NE(text.find("cgio_scrape_errors_total{collector=\"bad\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cgio_scrape_errors_total{collector=\"broken\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cgio_scrape_errors_total{collector=\"good\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cgio_scrape_duration_seconds{collector=\"good\"}"), std::string::npos);
  EXPECT_NE(text.find("cgio_bpf_map_entries{map=\"good\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cgio_bpf_map_capacity{map=\"good\"} 512\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("cgio_bpf_map_capacity{map=\"broken\"}"), std::string::npos) << "a failed collector's";
  EXPECT_NE(text.find("cgio_unresolved_cgroups{collector=\"good\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cgio_build_info{revision="), std::string::npos);
  // Every family once.
  EXPECT_EQ(text.find("# TYPE cgio_bpf_map_entries"), text.rfind("# TYPE cgio_bpf_map_entries"));
}

}  // namespace
}  // namespace cgio
