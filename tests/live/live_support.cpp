#include "live_support.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace cgio::test {

bool running_as_root() { return geteuid() == 0; }

bool root_tests_required() {
  const char* v = std::getenv("CGIO_REQUIRE_ROOT_TESTS");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

namespace {
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}
}  // namespace

std::string exporter_bin() { return env_or("CGIO_EXPORTER_BIN", CGIO_EXPORTER_BIN); }
std::string trigger_bin() { return env_or("CGIO_TRIGGER_BIN", CGIO_TRIGGER_BIN); }

std::vector<std::string> exporter_args(std::vector<std::string> args) {
  std::istringstream extra(env_or("CGIO_TEST_EXPORTER_ARGS", ""));
  std::string word;
  while (extra >> word) args.push_back(word);
  return args;
}

std::unique_ptr<ExporterProcess> start_exporter(std::vector<std::string> args) {
  args.insert(args.begin(), "--web.listen-address=127.0.0.1:0");
  std::string error;
  auto p = ExporterProcess::start(exporter_bin(), exporter_args(args), &error);
  EXPECT_NE(p, nullptr) << error;
  return p;
}

std::string expected_probe_type() { return env_or("CGIO_TEST_PROBE_TYPE", ""); }

bool expected_uncounted(const std::string& operation) {
  std::istringstream list(env_or("CGIO_TEST_UNCOUNTED", ""));
  std::string op;
  while (std::getline(list, op, ',')) {
    if (op == operation) return true;
  }
  return false;
}

std::optional<Sample> find_sample_with(const Metrics& m, const std::string& name,
                                       const std::map<std::string, std::string>& subset) {
  const auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  for (const Sample& s : it->second) {
    bool all = true;
    for (const auto& [k, v] : subset) {
      const auto l = s.labels.find(k);
      all = all && l != s.labels.end() && l->second == v;
    }
    if (all) return s;
  }
  return std::nullopt;
}

std::optional<double> value_of(const Metrics& m, const std::string& name,
                               const std::map<std::string, std::string>& subset) {
  const auto s = find_sample_with(m, name, subset);
  return s ? std::optional<double>(s->value) : std::nullopt;
}

TestCgroup::TestCgroup(const std::string& name) {
  static int counter = 0;
  const std::string root = cgroup2_mount();
  path_ = "/cgio-live-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" + name;
  dir_ = root + path_;
  if (root.empty() || mkdir(dir_.c_str(), 0755) != 0) {
    ADD_FAILURE() << "cannot create cgroup " << dir_ << ": " << std::strerror(errno);
  }
}

TestCgroup::~TestCgroup() {
  // The trigger's processes have been reaped; a zombie-free cgroup can go.
  for (int i = 0; i < 50 && rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i) usleep(20000);
}

Tmpfs::Tmpfs(const std::string& size) {
  char tmpl[] = "/tmp/cgio-live-XXXXXX";
  const char* d = mkdtemp(tmpl);
  if (d == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return;
  }
  dir_ = d;
  if (mount("cgio-test", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0) {
    ADD_FAILURE() << "mount tmpfs on " << dir_ << ": " << std::strerror(errno);
  }
}

Tmpfs::~Tmpfs() {
  if (dir_.empty()) return;
  umount2(dir_.c_str(), MNT_DETACH);
  rmdir(dir_.c_str());
}

void run_trigger(const std::string& cgroup_dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{trigger_bin(), cgroup_dir};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string output;
  const int status = run_command(argv, &output);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "trigger " << args.front() << " failed (status " << status << "): " << output;
}

std::vector<std::string> vfs_series_keys() {
  return {"cgio_vfs_reads_total",         "cgio_vfs_read_bytes_total",        "cgio_vfs_read_errors_total",
          "cgio_vfs_writes_total",        "cgio_vfs_write_bytes_total",       "cgio_vfs_write_errors_total",
          "cgio_vfs_opens_total",         "cgio_vfs_open_errors_total",       "cgio_vfs_creates_total",
          "cgio_vfs_create_errors_total", "cgio_vfs_unlinks_total",           "cgio_vfs_unlink_errors_total",
          "cgio_vfs_mkdirs_total",        "cgio_vfs_mkdir_errors_total",      "cgio_vfs_rmdirs_total",
          "cgio_vfs_rmdir_errors_total",  "cgio_vfs_mmap_pagein_bytes_total", "cgio_vfs_mmap_dirtied_bytes_total"};
}

std::vector<std::string> net_series_keys() {
  std::vector<std::string> keys;
  for (const char* name : {"cgio_net_sent_bytes_total", "cgio_net_sends_total", "cgio_net_received_bytes_total",
                           "cgio_net_receives_total"}) {
    for (const char* family : {"ipv4", "ipv6"}) {
      for (const char* protocol : {"tcp", "udp"}) {
        keys.push_back(std::string(name) + "{family=" + family + ",protocol=" + protocol + "}");
      }
    }
  }
  return keys;
}

namespace {

// "name{a=b,c=d}" -> name and labels.
std::pair<std::string, std::map<std::string, std::string>> split_key(const std::string& key) {
  const size_t brace = key.find('{');
  if (brace == std::string::npos) return {key, {}};
  std::map<std::string, std::string> labels;
  std::string inner = key.substr(brace + 1, key.size() - brace - 2);
  size_t pos = 0;
  while (pos < inner.size()) {
    const size_t comma = inner.find(',', pos);
    const std::string kv = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const size_t eq = kv.find('=');
    labels[kv.substr(0, eq)] = kv.substr(eq + 1);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return {key.substr(0, brace), labels};
}

void compare_group(const Metrics& metrics, const std::string& cgroup, const std::vector<std::string>& keys,
                   const Expected& want) {
  bool any_expected = false;
  for (const auto& key : keys) any_expected = any_expected || (want.contains(key) && want.at(key) != 0);
  for (const auto& key : keys) {
    auto [name, labels] = split_key(key);
    labels["cgroup"] = cgroup;
    // The cgroup's series also carry workload labels; match on the rest.
    const auto sample = find_sample_with(metrics, name, labels);
    const std::optional<double> got = sample ? std::optional<double>(sample->value) : std::nullopt;
    const uint64_t expected = want.contains(key) ? want.at(key) : 0;
    if (!got) {
      EXPECT_FALSE(any_expected) << key << " has no series for cgroup " << cgroup << " (expected " << expected << ")";
      continue;
    }
    EXPECT_EQ(static_cast<uint64_t>(*got), expected) << key << " for cgroup " << cgroup;
  }
}

}  // namespace

void expect_cgroup_counts(const Metrics& metrics, const std::string& cgroup, const Expected& want) {
  const auto vfs = vfs_series_keys();
  const auto net = net_series_keys();
  for (const auto& [key, value] : want) {
    const bool known =
        std::find(vfs.begin(), vfs.end(), key) != vfs.end() || std::find(net.begin(), net.end(), key) != net.end();
    EXPECT_TRUE(known) << "test expects unknown series " << key;
  }
  compare_group(metrics, cgroup, vfs, want);
  compare_group(metrics, cgroup, net, want);
}

Metrics scrape(uint16_t port) {
  const HttpResponse r = http_get(port, "/metrics");
  EXPECT_EQ(r.status, 200) << "scrape failed";
  return parse_metrics(r.body);
}

}  // namespace cgio::test
