// Command-line flags (node_exporter conventions): one table of flags that
// drives both the parsing and --help, and the typed options it fills.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cgroups/cgroup_setup.h"
#include "cgroups/workloads.h"
#include "kernel/capabilities.h"
#include "kernel/probe_type.h"
#include "util/log.h"
#include "util/result.h"
#include "web/listen_address.h"

namespace cgio {

// Every field is set by parse_options from its flag or from the flag's
// default in the table (options.cpp); a value here has been validated.
struct Options {
  std::vector<ListenAddress> listen_addresses;  // --web.listen-address, repeatable
  bool systemd_socket = false;                  // --web.systemd-socket
  size_t max_connections = 512;                 // --web.max-connections
  bool disable_exporter_metrics = false;        // --web.disable-exporter-metrics
  std::string web_config_file;                  // --web.config.file; empty: plain HTTP, no auth
  std::string telemetry_path;
  int gzip_level = 0;  // 0: never compress
  bool collector_vfs = false;
  bool collector_net = false;
  bool vfs_include_pseudo_fs = false;
  uint32_t map_entries = 0;
  log::Level log_level = log::Level::info;
  std::string procfs;
  std::string cgroup2_root;             // empty: discover from mountinfo
  std::optional<ProbeType> probe_type;  // forced probe type; nullopt = auto
  std::string btf_path;                 // empty: /sys/kernel/btf/vmlinux
  bool print_plan = false;

  // Per-job accounting.
  AggregateMode aggregate = AggregateMode::unit;
  WorkloadPattern workload_pattern;  // empty: only the built-in layouts
  CgroupMode cgroup_mode = CgroupMode::automatic;
  std::string v1_controller;
  std::chrono::seconds retain_ended{0};
  std::string accounting_file;            // empty: no records
  size_t accounting_max_pending = 50000;  // records queued while the file cannot be written
  std::string accounting_spool_file;      // empty: <accounting_file>.spool; "none": no spool
  std::vector<std::string> mountpoints;   // --vfs.mountpoints

  // Counting that survives the exporter (maps/pin_dir.h).
  std::string pin_path;    // empty: nothing pinned ("none")
  std::string state_file;  // the tracker's state beside the pins
  bool unpin = false;      // --bpf.unpin: remove the pinned state and exit

  CapabilityKeep capabilities_keep;  // what is kept once counting runs (kernel/capabilities.h)

  bool operator==(const Options&) const = default;
};

// Prometheus durations: "30s", "5m", "1h30m", "2d"; units ms, s, m, h, d, w, y.
// Durations beyond what milliseconds hold in 64 bits are rejected.
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
// --cgroup.retain-ended: retention must keep "ended + retention" a valid
// time point of the system clock (nanoseconds in 64 bits, about 292 years
// from 1970).
constexpr std::chrono::hours kMaxRetainEnded{100 * 365 * 24};

// What parsing knows beyond the flags.
struct ParseEnv {
  bool ipv6_supported = false;
};

// One row of the flag table. A switch (empty `value_name`) takes no value;
// a valued flag takes "--name=value" or "--name value". `set` parses the
// value (empty for a switch), and on success writes the typed value into
// its field; its error says what is wrong with the value, and the parser
// names the flag and value in front. `default_value`, when set, is applied
// through `set` before the command line (for a switch: the switch is on
// unless turned off) and shown in --help.
struct Flag {
  std::string_view name;        // without the leading "--"
  std::string_view value_name;  // shown in --help; empty: a switch
  std::optional<std::string_view> default_value;
  std::string_view help;
  Result<void> (*set)(Options& opts, std::string_view value, const ParseEnv& env) = nullptr;
  enum class Action { set, help, version } action = Action::set;
  // May be given more than once, each value adding to the list; the
  // default applies only when the flag is not given at all.
  bool repeatable = false;
};

// The table, in --help order.
std::span<const Flag> flag_table();
// The --help text.
std::string help_text();

std::variant<Options, CliExit> parse_options(int argc, const char* const argv[], bool ipv6_supported);

}  // namespace cgio
