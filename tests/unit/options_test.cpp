#include <gtest/gtest.h>

#include <map>
#include <ostream>

#include "config/options.h"

namespace cgio {
namespace {

std::variant<Options, CliExit> parse(std::vector<std::string> args, bool ipv6 = false) {
  args.insert(args.begin(), "cgio_exporter");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data(), ipv6);
}

Options ok(std::vector<std::string> args, bool ipv6 = false) {
  auto r = parse(std::move(args), ipv6);
  if (auto* exit = std::get_if<CliExit>(&r)) ADD_FAILURE() << exit->text;
  return std::get_if<Options>(&r) ? std::get<Options>(r) : Options{};
}

CliExit fails(std::vector<std::string> args) {
  auto r = parse(std::move(args));
  EXPECT_TRUE(std::holds_alternative<CliExit>(r));
  return std::holds_alternative<CliExit>(r) ? std::get<CliExit>(r) : CliExit{};
}

TEST(Options, Defaults) {
  const Options o = ok({});
  ASSERT_EQ(o.listen_addresses.size(), 1u);
  EXPECT_EQ(o.listen_addresses[0].host, "");
  EXPECT_EQ(o.listen_addresses[0].port, 10120);
  EXPECT_FALSE(o.systemd_socket);
  EXPECT_EQ(o.max_connections, 512u);
  EXPECT_EQ(o.telemetry_path, "/metrics");
  EXPECT_EQ(o.gzip_level, 1);
  EXPECT_TRUE(o.collector_vfs);
  EXPECT_TRUE(o.collector_net);
  EXPECT_FALSE(o.vfs_include_pseudo_fs);
  EXPECT_EQ(o.map_entries, 16384u);
  EXPECT_EQ(o.log_level, log::Level::info);
  EXPECT_EQ(o.procfs, "/proc");
  EXPECT_EQ(o.cgroup2_root, "");
  EXPECT_FALSE(o.probe_type);
  EXPECT_EQ(o.btf_path, "");
  EXPECT_FALSE(o.print_plan);
  EXPECT_EQ(o.aggregate, AggregateMode::unit);
  EXPECT_TRUE(o.workload_pattern.empty());
  EXPECT_EQ(o.cgroup_mode, CgroupMode::automatic);
  EXPECT_EQ(o.v1_controller, "cpuacct");
  EXPECT_EQ(o.retain_ended, std::chrono::seconds(300));
  EXPECT_EQ(o.accounting_file, "");
  EXPECT_EQ(o.accounting_spool_file, "") << "derived from --accounting.file when it is given";
  EXPECT_TRUE(o.mountpoints.empty());
  EXPECT_EQ(o.pin_path, "/sys/fs/bpf/cgio");
  EXPECT_EQ(o.state_file, "/run/cgio/state.jsonl");
  EXPECT_FALSE(o.unpin);
}

TEST(Options, PinPathNoneTurnsPinningOffAndRelativePathsAreRefused) {
  EXPECT_EQ(ok({"--bpf.pin-path=none"}).pin_path, "");
  EXPECT_EQ(ok({"--bpf.pin-path=/sys/fs/bpf/x"}).pin_path, "/sys/fs/bpf/x");
  EXPECT_EQ(fails({"--bpf.pin-path=cgio"}).code, 2);
  EXPECT_EQ(fails({"--bpf.pin-path=/"}).code, 2);
  EXPECT_EQ(fails({"--bpf.state-file=state"}).code, 2);
}

TEST(Options, TypedValues) {
  const Options o =
      ok({"--cgroup.aggregate=step", "--cgroup.mode", "v1", "--bpf.probe-type=kprobe", "--cgroup.retain-ended=1h30m",
          "--vfs.mountpoints=/,/home", "--cgroup.workload-pattern=^/grid/(?<workload_id>[0-9]+)"});
  EXPECT_EQ(o.aggregate, AggregateMode::step);
  EXPECT_EQ(o.cgroup_mode, CgroupMode::v1);
  EXPECT_EQ(o.probe_type, ProbeType::kprobe);
  EXPECT_EQ(o.retain_ended, std::chrono::seconds(5400));
  EXPECT_EQ(o.mountpoints, (std::vector<std::string>{"/", "/home"}));
  EXPECT_EQ(o.workload_pattern.text(), "^/grid/(?<workload_id>[0-9]+)");
  EXPECT_EQ(WorkloadClassifier(o.workload_pattern, o.aggregate).classify("/grid/42/x").workload_id, "42");
  EXPECT_FALSE(ok({"--bpf.probe-type=kprobe", "--bpf.probe-type=auto"}).probe_type);
}

// A row of the table that parsing cannot reach, or that --help does not
// show, fails here. Each row needs an entry: the arguments before it (to
// move off the default) and the flag with a value that changes the options.
TEST(Options, EveryTableRowIsParsedAndInHelp) {
  const std::map<std::string_view, std::pair<std::vector<std::string>, std::string>> samples = {
      {"web.listen-address", {{}, "--web.listen-address=127.0.0.1:1"}},
      {"web.systemd-socket", {{}, "--web.systemd-socket"}},
      {"web.max-connections", {{}, "--web.max-connections=2"}},
      {"web.disable-exporter-metrics", {{}, "--web.disable-exporter-metrics"}},
      {"web.config.file", {{}, "--web.config.file=" CGIO_FIXTURES "/web_config/valid_empty.yml"}},
      {"web.telemetry-path", {{}, "--web.telemetry-path=/m"}},
      {"web.gzip-level", {{}, "--web.gzip-level=9"}},
      {"collector.vfs", {{"--no-collector.vfs"}, "--collector.vfs"}},
      {"no-collector.vfs", {{}, "--no-collector.vfs"}},
      {"collector.net", {{"--no-collector.net"}, "--collector.net"}},
      {"no-collector.net", {{}, "--no-collector.net"}},
      {"vfs.include-pseudo-fs", {{}, "--vfs.include-pseudo-fs"}},
      {"bpf.probe-type", {{}, "--bpf.probe-type=fentry"}},
      {"bpf.btf-path", {{}, "--bpf.btf-path=/tmp/btf"}},
      {"print-plan", {{}, "--print-plan"}},
      {"cgroup.aggregate", {{}, "--cgroup.aggregate=leaf"}},
      {"cgroup.workload-pattern", {{}, "--cgroup.workload-pattern=(?<workload_id>x)"}},
      {"cgroup.mode", {{}, "--cgroup.mode=v2"}},
      {"cgroup.v1-controller", {{}, "--cgroup.v1-controller=memory"}},
      {"cgroup.retain-ended", {{}, "--cgroup.retain-ended=1s"}},
      {"accounting.file", {{}, "--accounting.file=/tmp/a"}},
      {"accounting.max-pending", {{}, "--accounting.max-pending=7"}},
      {"accounting.spool-file", {{}, "--accounting.spool-file=/tmp/s"}},
      {"vfs.mountpoints", {{}, "--vfs.mountpoints=/"}},
      {"bpf.map-entries", {{}, "--bpf.map-entries=1"}},
      {"bpf.pin-path", {{}, "--bpf.pin-path=none"}},
      {"bpf.state-file", {{}, "--bpf.state-file=/tmp/state"}},
      {"bpf.unpin", {{}, "--bpf.unpin"}},
      {"capabilities.keep", {{}, "--capabilities.keep=cap_bpf,cap_dac_read_search"}},
      {"log.level", {{}, "--log.level=error"}},
      {"path.procfs", {{}, "--path.procfs=/host/proc"}},
      {"path.cgroup2", {{}, "--path.cgroup2=/c"}},
  };
  const std::string help = fails({"--help"}).text;
  size_t rows = 0;
  for (const Flag& flag : flag_table()) {
    ++rows;
    const std::string name = "--" + std::string(flag.name);
    EXPECT_NE(help.find(name), std::string::npos) << name << " is not in --help";
    if (flag.action != Flag::Action::set) {
      const CliExit e = fails({name});
      EXPECT_EQ(e.code, 0) << name;
      EXPECT_FALSE(e.text.empty()) << name;
      continue;
    }
    EXPECT_NE(flag.set, nullptr) << name;
    const auto it = samples.find(flag.name);
    if (it == samples.end()) {
      ADD_FAILURE() << name << " has no sample in this test";
      continue;
    }
    const auto& [before, sample] = it->second;
    std::vector<std::string> with = before;
    with.push_back(sample);
    EXPECT_FALSE(ok(before) == ok(with)) << sample << " changes nothing";
    if (!flag.value_name.empty()) {  // a valued flag takes its value in either spelling
      const std::string value = sample.substr(sample.find('=') + 1);
      std::vector<std::string> separate = before;
      separate.insert(separate.end(), {name, value});
      EXPECT_TRUE(ok(with) == ok(separate)) << name;
    }
  }
  EXPECT_EQ(rows, samples.size() + 2) << "a sample names no flag";
}

TEST(Options, Durations) {
  EXPECT_EQ(*parse_duration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("9223372036854775807ms"), std::chrono::milliseconds::max());
  EXPECT_FALSE(parse_duration("9223372036854775808ms"));
  EXPECT_FALSE(parse_duration("10000000000000000000ms"));
  EXPECT_FALSE(parse_duration("100000000000000000000ms"));  // beyond 64 bits
  EXPECT_FALSE(parse_duration("300000000y"));
  EXPECT_FALSE(parse_duration("9223372036854775807ms1ms"));  // the sum overflows
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(Options, EveryFlagInBothSpellings) {
  const Options o = ok({"--web.listen-address", "127.0.0.1:9999", "--web.telemetry-path=/m", "--no-collector.net",
                        "--vfs.include-pseudo-fs", "--bpf.map-entries=100", "--log.level", "debug",
                        "--path.procfs=/host/proc", "--path.cgroup2=/host/sys/fs/cgroup", "--web.gzip-level", "0"});
  ASSERT_EQ(o.listen_addresses.size(), 1u) << "a given address replaces the default";
  EXPECT_EQ(o.listen_addresses[0].display(9999), "127.0.0.1:9999");
  EXPECT_EQ(o.telemetry_path, "/m");
  EXPECT_TRUE(o.collector_vfs);
  EXPECT_FALSE(o.collector_net);
  EXPECT_TRUE(o.vfs_include_pseudo_fs);
  EXPECT_EQ(o.map_entries, 100u);
  EXPECT_EQ(o.log_level, log::Level::debug);
  EXPECT_EQ(o.procfs, "/host/proc");
  EXPECT_EQ(o.cgroup2_root, "/host/sys/fs/cgroup");
  EXPECT_EQ(o.gzip_level, 0);
}

TEST(Options, LastCollectorToggleWins) {
  EXPECT_FALSE(ok({"--collector.vfs", "--no-collector.vfs"}).collector_vfs);
  EXPECT_TRUE(ok({"--no-collector.vfs", "--collector.vfs"}).collector_vfs);
}

TEST(Options, HelpAndVersionExitZeroOnStdout) {
  const CliExit help = fails({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_FALSE(help.to_stderr);
  for (const char* flag : {"--web.listen-address", "--web.telemetry-path", "--collector.vfs", "--no-collector.net",
                           "--bpf.map-entries", "--log.level", "--version"}) {
    EXPECT_NE(help.text.find(flag), std::string::npos) << flag;
  }
  const CliExit version = fails({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.text.rfind("cgio_exporter ", 0), 0u) << version.text;
}

struct BadFlag {
  std::vector<std::string> args;
  std::string message;
};

// Printed in ctest's test names: the arguments, not the object's bytes.
void PrintTo(const BadFlag& f, std::ostream* os) {
  for (size_t i = 0; i < f.args.size(); ++i) *os << (i ? " " : "") << f.args[i];
}

class BadFlags : public ::testing::TestWithParam<BadFlag> {};

TEST_P(BadFlags, OneLineOnStderrAndExitTwo) {
  const CliExit e = fails(GetParam().args);
  EXPECT_EQ(e.code, 2);
  EXPECT_TRUE(e.to_stderr);
  EXPECT_NE(e.text.find(GetParam().message), std::string::npos) << e.text;
  EXPECT_EQ(e.text.find('\n'), e.text.size() - 1) << "not one line: " << e.text;
}

INSTANTIATE_TEST_SUITE_P(
    Options, BadFlags,
    ::testing::Values(
        BadFlag{{"--no-such-flag"}, "unrecognised option '--no-such-flag'"},
        BadFlag{{"--web.listen"}, "unrecognised option '--web.listen'"},  // no abbreviations
        BadFlag{{"stray"}, "unexpected argument 'stray'"},
        BadFlag{{"--bpf.map-entries=abc"}, "invalid --bpf.map-entries \"abc\""},
        BadFlag{{"--bpf.map-entries=-1"}, "invalid --bpf.map-entries \"-1\""},
        BadFlag{{"--bpf.map-entries=0"}, "invalid --bpf.map-entries \"0\""},
        BadFlag{{"--bpf.map-entries=16777217"}, "must be a number from 1 to 16777216"},
        BadFlag{{"--bpf.map-entries"}, "the required argument for option '--bpf.map-entries' is missing"},
        BadFlag{{"--log.level=verbose"}, "invalid --log.level \"verbose\""},
        BadFlag{{"--web.listen-address=10120"}, "expected [host]:port"},
        BadFlag{{"--web.listen-address=:99999"}, "port must be a number from 0 to 65535"},
        BadFlag{{"--web.listen-address=:http"}, "port must be a number"},
        BadFlag{{"--web.listen-address=[::1]:10120"}, "this kernel has no IPv6"},
        BadFlag{{"--web.listen-address=::1:10120"}, "IPv6 addresses must be in brackets"},
        BadFlag{{"--web.listen-address=no.such.host.invalid:1"}, "cannot resolve host"},
        BadFlag{{"--web.telemetry-path=metrics"}, "invalid --web.telemetry-path"},
        BadFlag{{"--web.telemetry-path=/"}, "invalid --web.telemetry-path"},
        BadFlag{{"--web.gzip-level=10"}, "invalid --web.gzip-level \"10\": must be a number from 0 to 9"},
        BadFlag{{"--web.gzip-level=fast"}, "invalid --web.gzip-level"},
        BadFlag{{"--collector.vfs=false"}, "--collector.vfs"},
        BadFlag{{"--no-collector.vfs", "--no-collector.net"}, "every collector is disabled"},
        BadFlag{{"--x%original_token%"}, "unrecognised option '--x%original_token%'"},  // found by fuzzing
        BadFlag{{"--%canonical_option%"}, "unrecognised option '--%canonical_option%'"},
        BadFlag{{"--a\nb"}, "unrecognised option '--a\\x0ab'"}, BadFlag{{"-x"}, "unrecognised option '-x'"},
        BadFlag{{"--cgroup.retain-ended=250y"}, "invalid --cgroup.retain-ended \"250y\": must be at most 100y"},
        BadFlag{{"--cgroup.retain-ended=10000000000000000000ms"},
                "invalid --cgroup.retain-ended \"10000000000000000000ms\": out of range"},
        BadFlag{{"--cgroup.retain-ended=5"}, "invalid --cgroup.retain-ended \"5\""},
        BadFlag{{"--cgroup.aggregate=job"}, "invalid --cgroup.aggregate \"job\": use unit, step or leaf"},
        BadFlag{{"--cgroup.mode=v3"}, "invalid --cgroup.mode \"v3\": use auto, v1 or v2"},
        BadFlag{{"--bpf.probe-type=uprobe"}, "invalid --bpf.probe-type \"uprobe\""},
        BadFlag{{"--cgroup.workload-pattern=(x)"},
                "invalid --cgroup.workload-pattern \"(x)\": it has no named group workload_id"},
        BadFlag{{"--vfs.mountpoints=/a,,/b"}, "invalid --vfs.mountpoints \"/a,,/b\""},
        BadFlag{{"--path.procfs="}, "invalid --path.procfs \"\": must not be empty"},
        BadFlag{{"--help", "--no-such-flag"}, "unrecognised option '--no-such-flag'"}),
    [](const auto& param_info) { return "case" + std::to_string(param_info.index); });

TEST(ListenAddress, Forms) {
  auto any = parse_listen_address(":0", false);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->host, "");
  EXPECT_EQ(any->display(4242), ":4242");
  auto v4 = parse_listen_address("0.0.0.0:10120", false);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->display(10120), "0.0.0.0:10120");
  auto name = parse_listen_address("localhost:10120", false);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->display(10120), "127.0.0.1:10120");
  auto v6 = parse_listen_address("[::1]:10120", true);
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->display(10120), "[::1]:10120");
  EXPECT_FALSE(parse_listen_address("[::1]:10120", false)) << "no IPv6 in the kernel";
  EXPECT_FALSE(parse_listen_address("::1:10120", true)) << "IPv6 needs brackets";
  EXPECT_FALSE(parse_listen_address("[::1:10120", true));
  EXPECT_FALSE(parse_listen_address(":65536", true));
}

TEST(Options, SeveralListenAddresses) {
  const Options o = ok({"--web.listen-address=127.0.0.1:1", "--web.listen-address", "[::1]:2"}, true);
  ASSERT_EQ(o.listen_addresses.size(), 2u);
  EXPECT_EQ(o.listen_addresses[0].display(1), "127.0.0.1:1");
  EXPECT_EQ(o.listen_addresses[1].display(2), "[::1]:2");
}

}  // namespace
}  // namespace cgio
