#include <gtest/gtest.h>

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

Options ok(std::vector<std::string> args) {
  auto r = parse(std::move(args));
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
  EXPECT_EQ(o.listen_address_text, ":10120");
  EXPECT_EQ(o.listen_address.port, 10120);
  EXPECT_EQ(o.listen_address.civetweb_spec(), "10120");
  EXPECT_EQ(o.telemetry_path, "/metrics");
  EXPECT_EQ(o.gzip_level, 1);
  EXPECT_TRUE(o.collector_vfs);
  EXPECT_TRUE(o.collector_net);
  EXPECT_FALSE(o.vfs_include_pseudo_fs);
  EXPECT_EQ(o.map_entries, 16384u);
  EXPECT_EQ(o.log_level, log::Level::info);
  EXPECT_EQ(o.procfs, "/proc");
  EXPECT_EQ(o.cgroup2_root, "");
}

TEST(Options, EveryFlagInBothSpellings) {
  const Options o = ok({"--web.listen-address", "127.0.0.1:9999", "--web.telemetry-path=/m", "--no-collector.net",
                        "--vfs.include-pseudo-fs", "--bpf.map-entries=100", "--log.level", "debug",
                        "--path.procfs=/host/proc", "--path.cgroup2=/host/sys/fs/cgroup", "--web.gzip-level", "0"});
  EXPECT_EQ(o.listen_address.civetweb_spec(), "127.0.0.1:9999");
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
    ::testing::Values(BadFlag{{"--no-such-flag"}, "unrecognised option '--no-such-flag'"},
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
                      BadFlag{{"--web.listen-address=[::1]:10120"}, "no IPv6 support"},
                      BadFlag{{"--web.listen-address=::1:10120"}, "IPv6 addresses must be in brackets"},
                      BadFlag{{"--web.listen-address=no.such.host.invalid:1"}, "cannot resolve host"},
                      BadFlag{{"--web.telemetry-path=metrics"}, "invalid --web.telemetry-path"},
                      BadFlag{{"--web.telemetry-path=/"}, "invalid --web.telemetry-path"},
                      BadFlag{{"--web.gzip-level=10"}, "invalid --web.gzip-level \"10\": must be a number from 0 to 9"},
                      BadFlag{{"--web.gzip-level=fast"}, "invalid --web.gzip-level"},
                      BadFlag{{"--collector.vfs=false"}, "--collector.vfs"},
                      BadFlag{{"--no-collector.vfs", "--no-collector.net"}, "every collector is disabled"}),
    [](const auto& param_info) { return "case" + std::to_string(param_info.index); });

TEST(ListenAddress, Forms) {
  auto any = parse_listen_address(":0", false);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->civetweb_spec(), "0");
  EXPECT_EQ(any->display(4242), ":4242");
  auto v4 = parse_listen_address("0.0.0.0:10120", false);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->civetweb_spec(), "0.0.0.0:10120");
  auto name = parse_listen_address("localhost:10120", false);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->civetweb_spec(), "127.0.0.1:10120");
  auto v6 = parse_listen_address("[::1]:10120", true);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->civetweb_spec(), "[::1]:10120");
  EXPECT_EQ(v6->display(10120), "[::1]:10120");
}

}  // namespace
}  // namespace cgio
