// Command-line flags (node_exporter conventions) and their validation.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <optional>

#include "kernel/probe_type.h"
#include "util/log.h"
#include "util/result.h"
#include "web/listen_address.h"

namespace cgio {

struct Options {
  std::string listen_address_text = ":10120";
  ListenAddress listen_address;  // parsed form of the above
  std::string telemetry_path = "/metrics";
  int gzip_level = 1;  // 0: never compress
  bool collector_vfs = true;
  bool collector_net = true;
  bool vfs_include_pseudo_fs = false;
  uint32_t map_entries = 16384;
  log::Level log_level = log::Level::info;
  std::string procfs = "/proc";
  std::string cgroup2_root;             // empty: discover from mountinfo
  std::optional<ProbeType> probe_type;  // forced probe type; nullopt = auto
  std::string btf_path;                 // empty: /sys/kernel/btf/vmlinux
  bool print_plan = false;

  // Per-job accounting.
  std::string aggregate = "unit";    // unit | step | leaf
  std::string workload_pattern;      // custom layout regex, validated
  std::string cgroup_mode = "auto";  // auto | v1 | v2
  std::string v1_controller = "cpuacct";
  std::chrono::seconds retain_ended{300};
  std::string accounting_file;           // empty: no records
  std::vector<std::string> mountpoints;  // --vfs.mountpoints
};

// Prometheus durations: "30s", "5m", "1h30m", "2d"; units ms, s, m, h, d, w, y.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// What main() does instead of running: print `text` (to stderr when
// `to_stderr`) and exit with `code` (0 for --help/--version, 2 for errors).
struct CliExit {
  int code = 0;
  std::string text;
  bool to_stderr = false;
};

constexpr uint32_t kMaxMapEntries = 1u << 24;
constexpr size_t kMaxMountpoints = 63;  // CGIO_MOUNTS_MAX minus the "other" slot

std::variant<Options, CliExit> parse_options(int argc, const char* const argv[], bool ipv6_supported);

}  // namespace cgio
