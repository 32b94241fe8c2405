#include "config/options.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <utility>

#include "util/version.h"
#include "web/web_config.h"

namespace cgio {
namespace {

constexpr const char* kProgram = "cgio_exporter";

// Whatever the command line holds, the message is one printable line.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

CliExit usage_error(std::string_view why) {
  return CliExit{2, std::string(kProgram) + ": " + printable(why) + " (see --help)\n", true};
}

// ---- Value parsers: the value's text to its typed value, or why not.

Result<std::string> any_text(std::string_view v) { return std::string(v); }

Result<std::string> non_empty(std::string_view v) {
  if (v.empty()) return bad_input("must not be empty");
  return std::string(v);
}

Result<ListenAddress> listen_address(std::string_view v, const ParseEnv& env) {
  return parse_listen_address(v, env.ipv6_supported);
}

Result<std::string> telemetry_path(std::string_view v) {
  if (v.empty() || v.front() != '/' || v == "/" || v.find_first_of(" ?#") != std::string_view::npos) {
    return bad_input("must start with / and name a path other than /");
  }
  return std::string(v);
}

Result<int> gzip_level(std::string_view v) {
  if (v.size() != 1 || v[0] < '0' || v[0] > '9') return bad_input("must be a number from 0 to 9");
  return v[0] - '0';
}

Result<uint32_t> map_entries(std::string_view v) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || n == 0 || n > kMaxMapEntries) {
    return bad_input("must be a number from 1 to " + std::to_string(kMaxMapEntries));
  }
  return static_cast<uint32_t>(n);
}

Result<size_t> max_pending(std::string_view v) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || n == 0 || n > 10'000'000) {
    return bad_input("must be a number from 1 to 10000000");
  }
  return static_cast<size_t>(n);
}

Result<size_t> max_connections(std::string_view v) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || n < 2 || n > 1'000'000) {
    return bad_input("must be a number from 2 to 1000000");
  }
  return static_cast<size_t>(n);
}

Result<log::Level> log_level(std::string_view v) {
  if (auto level = log::parse_level(v)) return *level;
  return bad_input("use debug, info, warn or error");
}

Result<std::optional<ProbeType>> probe_type(std::string_view v) {
  if (v == "auto") return std::optional<ProbeType>();
  if (auto t = parse_probe_type(v)) return std::optional<ProbeType>(*t);
  return bad_input("use auto, fentry, kprobe or tracepoint");
}

Result<CapabilityKeep> capabilities_keep(std::string_view v) { return parse_capability_keep(v); }

Result<AggregateMode> aggregate_mode(std::string_view v) {
  if (auto mode = parse_aggregate_mode(v)) return *mode;
  return bad_input("use unit, step or leaf");
}

Result<WorkloadPattern> workload_pattern(std::string_view v) { return WorkloadPattern::compile(std::string(v)); }

Result<CgroupMode> cgroup_mode(std::string_view v) {
  if (auto mode = parse_cgroup_mode(v)) return *mode;
  return bad_input("use auto, v1 or v2");
}

Result<std::chrono::seconds> retain_ended(std::string_view v) {
  auto d = parse_duration(v);
  if (!d) return std::move(d).error();
  if (*d > kMaxRetainEnded)
    return bad_input("must be at most " + std::to_string(kMaxRetainEnded.count() / 24 / 365) + "y");
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

Result<std::vector<std::string>> mountpoints(std::string_view v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = v.find(',', start);
    const std::string_view mp =
        v.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (mp.empty() || mp.front() != '/') return bad_input("absolute paths, comma-separated");
    out.emplace_back(mp);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (out.size() > kMaxMountpoints) {
    return bad_input("lists " + std::to_string(out.size()) + " paths; at most " + std::to_string(kMaxMountpoints));
  }
  return out;
}

Result<std::string> pin_path(std::string_view v) {
  if (v == "none") return std::string();
  if (v.empty() || v.front() != '/' || v == "/")
    return bad_input("must be an absolute directory other than /, or none");
  return std::string(v);
}

Result<std::string> absolute_file(std::string_view v) {
  if (v.empty() || v.front() != '/' || v.back() == '/') return bad_input("must be an absolute file path");
  return std::string(v);
}

// ---- Setters: where a flag's typed value goes.

// Parses with `Parse` (which may want the environment) into `Field`.
template <auto Field, auto Parse>
Result<void> into(Options& opts, std::string_view value, const ParseEnv& env) {
  auto parsed = [&] {
    if constexpr (std::is_invocable_v<decltype(Parse), std::string_view, const ParseEnv&>) {
      return Parse(value, env);
    } else {
      return Parse(value);
    }
  }();
  if (!parsed) return std::move(parsed).error();
  opts.*Field = std::move(*parsed);
  return {};
}

// A repeatable flag: appends the parsed value to the vector `Field`.
template <auto Field, auto Parse>
Result<void> append(Options& opts, std::string_view value, const ParseEnv& env) {
  auto parsed = Parse(value, env);
  if (!parsed) return std::move(parsed).error();
  (opts.*Field).push_back(std::move(*parsed));
  return {};
}

// A switch: sets `Field` to `On`.
template <auto Field, bool On>
Result<void> toggle(Options& opts, std::string_view, const ParseEnv&) {
  opts.*Field = On;
  return {};
}

using A = Flag::Action;

// The flags, in --help order. Help texts do not repeat the default: --help
// appends it from the row.
constexpr Flag kFlags[] = {
    {"help", {}, {}, "Show this help and exit.", nullptr, A::help},
    {"version", {}, {}, "Print the version and exit.", nullptr, A::version},
    {"web.listen-address", "[host]:port", ":10120",
     "Address to serve metrics on; repeat the flag for several. :port is every address, IPv6 and IPv4; "
     "[::1]:port an IPv6 one; port 0 picks a free port.",
     append<&Options::listen_addresses, listen_address>, A::set, true},
    {"web.systemd-socket",
     {},
     {},
     "Serve on the sockets systemd passes (socket activation) instead of --web.listen-address.",
     toggle<&Options::systemd_socket, true>},
    {"web.config.file",
     "path",
     {},
     "The exporter-toolkit web configuration file (the same file `promtool check web-config` accepts): TLS, "
     "client certificates, basic auth, response headers. Certificates are re-read when their files change.",
     into<&Options::web_config_file, non_empty>},
    {"web.disable-exporter-metrics",
     {},
     {},
     "Leave out the exporter's own process_* and cgio_web_* metrics (cgio's counting health, cgio_bpf_*, "
     "cgio_scrape_* and the accounting state, stays).",
     toggle<&Options::disable_exporter_metrics, true>},
    {"web.max-connections", "n", "512",
     "Open connections at most. At the limit a new connection closes the one that has waited longest for a "
     "request, so a scrape always gets in.",
     into<&Options::max_connections, max_connections>},
    {"web.telemetry-path", "path", "/metrics", "Path under which to expose metrics.",
     into<&Options::telemetry_path, telemetry_path>},
    {"web.gzip-level", "n", "1",
     "gzip level for scrapes that accept gzip, as Prometheus does: 1 (fastest) to 9 (smallest); 0 always answers "
     "uncompressed.",
     into<&Options::gzip_level, gzip_level>},
    {"collector.vfs",
     {},
     "on",
     "Enable the vfs collector: file reads, writes, opens, creates, unlinks, mkdirs, rmdirs.",
     toggle<&Options::collector_vfs, true>},
    {"no-collector.vfs", {}, {}, "Disable the vfs collector.", toggle<&Options::collector_vfs, false>},
    {"collector.net",
     {},
     "on",
     "Enable the net collector: TCP and UDP bytes and calls.",
     toggle<&Options::collector_net, true>},
    {"no-collector.net", {}, {}, "Disable the net collector.", toggle<&Options::collector_net, false>},
    {"vfs.include-pseudo-fs",
     {},
     {},
     "Also count reads and writes of files on kernel pseudo filesystems (proc, sysfs, cgroup, debugfs, tracefs, bpf, "
     "devpts, ...).",
     toggle<&Options::vfs_include_pseudo_fs, true>},
    {"bpf.probe-type", "type", "auto",
     "auto, fentry, kprobe or tracepoint. auto takes, per operation, the cheapest type this kernel loads and "
     "attaches, falling back fentry -> kprobe -> tracepoint. A forced type counts only what that type can count on "
     "this kernel.",
     into<&Options::probe_type, probe_type>},
    {"bpf.btf-path",
     "file",
     {},
     "Kernel BTF to check prototypes and relocate programs against (default /sys/kernel/btf/vmlinux).",
     into<&Options::btf_path, any_text>},
    {"print-plan",
     {},
     {},
     "Print which probe type and kernel variant each operation would use on this kernel, and why, without loading "
     "anything; then exit.",
     toggle<&Options::print_plan, true>},
    {"cgroup.aggregate", "mode", "unit",
     "unit, step or leaf: unit sums every cgroup into its workload's unit (a Slurm job, a pod, a container, a VM, a "
     "systemd service); step keeps Slurm steps and pod containers apart; leaf reports every cgroup.",
     into<&Options::aggregate, aggregate_mode>},
    {"cgroup.workload-pattern",
     "regex",
     {},
     "A site-specific layout, tried before the built-in ones: a regular expression (Perl syntax) searched in cgroup "
     "paths, with named groups workload_id (required) and workload.",
     into<&Options::workload_pattern, workload_pattern>},
    {"cgroup.mode", "mode", "auto",
     "auto, v1 or v2: which cgroups I/O is charged to. v2: the task's cgroup2 cgroup; v1: its cgroup in the "
     "hierarchy of --cgroup.v1-controller (pure v1 hosts). auto: where both are mounted (hybrid hosts), each task "
     "is charged to its v1 cgroup while that is a recognised workload (Slurm job, pod, container, VM, "
     "--cgroup.workload-pattern), else to its cgroup2 one, decided as cgroups come and go; else whichever is "
     "mounted.",
     into<&Options::cgroup_mode, cgroup_mode>},
    {"cgroup.v1-controller", "name", "cpuacct",
     "The cgroup v1 controller whose hierarchy defines v1 workloads (--cgroup.mode=v1, and auto on hybrid hosts).",
     into<&Options::v1_controller, any_text>},
    {"cgroup.retain-ended", "duration", "5m",
     "How long a unit that ended keeps reporting its final totals (Prometheus durations such as 30s, 5m, 1h; at most "
     "100y).",
     into<&Options::retain_ended, retain_ended>},
    {"accounting.file",
     "path",
     {},
     "Append one JSON line with its totals for every unit that ends.",
     into<&Options::accounting_file, any_text>},
    {"accounting.max-pending", "n", "50000",
     "Accounting records held in memory while the file cannot be written (disk full, read-only); they are retried "
     "until written. Past this many a record is dropped, logged with its line and counted in "
     "cgio_accounting_records_dropped_total.",
     into<&Options::accounting_max_pending, max_pending>},
    {"accounting.spool-file",
     "path",
     {},
     "Where records not yet in the accounting file are kept when the exporter stops (and while the file cannot be "
     "written), to be written at the next start (default: <accounting.file>.spool). On another filesystem than the "
     "accounting file it also survives that one filling up. \"none\": no spool; such records are logged whole at "
     "exit.",
     into<&Options::accounting_spool_file, non_empty>},
    {"vfs.mountpoints",
     "paths",
     {},
     "Comma-separated mount points: reads and writes get a mountpoint label (the listed filesystem the file is on, "
     "or \"other\").",
     into<&Options::mountpoints, mountpoints>},
    {"bpf.map-entries", "n", "16384",
     "Maximum number of cgroups each counter map holds. Updates for further cgroups are lost and counted in "
     "cgio_bpf_map_full_total.",
     into<&Options::map_entries, map_entries>},
    {"bpf.pin-path", "dir", "/sys/fs/bpf/cgio",
     "Directory in a bpf filesystem where the counter maps and program links are pinned, so the programs keep "
     "counting while the exporter is down and a restart or upgrade adopts them: counters do not reset and a job "
     "running across a restart keeps all its I/O. none: the programs and counters end with the process.",
     into<&Options::pin_path, pin_path>},
    {"bpf.state-file", "file", "/run/cgio/state.jsonl",
     "Where the totals of ended cgroups (which the maps no longer hold) are journalled for the next start, beside "
     "the pinned maps. Keep it on a filesystem that lives as long as the pins (tmpfs /run: until reboot).",
     into<&Options::state_file, absolute_file>},
    {"bpf.unpin",
     {},
     {},
     "Remove what --bpf.pin-path and --bpf.state-file hold (the pinned programs detach, their counters are freed), "
     "then exit. For uninstalling, or to start again from zero.",
     toggle<&Options::unpin, true>},
    {"capabilities.keep", "caps", "auto",
     "Capabilities kept once the programs are attached and pinned; every other one is dropped from every thread "
     "(effective, permitted, inheritable, ambient and bounding sets) and no_new_privs is set. auto: what the "
     "running exporter uses on this kernel (cap_dac_read_search, cap_sys_ptrace, and cap_bpf before Linux 6.5 with "
     "kernel.unprivileged_bpf_disabled set); all: keep every capability; none: drop them all; or a comma-separated "
     "list of names (cap_bpf,cap_dac_read_search) kept exactly, as ebpf_exporter's flag of that name.",
     into<&Options::capabilities_keep, capabilities_keep>},
    {"log.level", "level", "info", "Only log messages with the given severity or above: debug, info, warn, error.",
     into<&Options::log_level, log_level>},
    {"path.procfs", "dir", "/proc", "procfs mount point.", into<&Options::procfs, non_empty>},
    {"path.cgroup2",
     "dir",
     {},
     "cgroup2 mount point (default: found in <path.procfs>/self/mountinfo).",
     into<&Options::cgroup2_root, any_text>},
};

const Flag* find_flag(std::string_view name) {
  for (const Flag& f : kFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// `text` wrapped to `width` columns, every line after the first indented by `indent`.
std::string wrap(std::string_view text, size_t indent, size_t width) {
  std::string out;
  size_t column = indent;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (column > indent && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
  }
  return out;
}

}  // namespace

std::span<const Flag> flag_table() { return kFlags; }

std::string help_text() {
  constexpr size_t kHelpColumn = 34;
  constexpr size_t kWidth = 100;
  std::string out =
      "Usage: cgio_exporter [flags]\n\n"
      "Counts file and network I/O per cgroup with eBPF and serves the counters\n"
      "as Prometheus metrics.\n\nFlags:\n";
  for (const Flag& f : kFlags) {
    std::string left = "  ";
    if (f.action == Flag::Action::help) left += "-h, ";
    left += "--" + std::string(f.name);
    if (!f.value_name.empty()) left += "=" + std::string(f.value_name);
    std::string help(f.help);
    if (f.default_value) {
      help += f.value_name.empty() ? " Default: enabled." : " Default: " + std::string(*f.default_value) + ".";
    }
    out += left;
    if (left.size() + 1 > kHelpColumn) {
      out += "\n" + std::string(kHelpColumn, ' ');
    } else {
      out += std::string(kHelpColumn - left.size(), ' ');
    }
    out += wrap(help, kHelpColumn, kWidth) + "\n";
  }
  return out;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return bad_input("empty duration");
  if (text == "0") return std::chrono::milliseconds(0);
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max());
  const auto too_long = [] { return bad_input("out of range (more than 2^63 milliseconds)"); };
  uint64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), n);
    if (ec == std::errc::result_out_of_range) return too_long();
    if (ec != std::errc{}) return bad_input("expected a number at position " + std::to_string(pos));
    pos = static_cast<size_t>(end - text.data());
    size_t unit_end = pos;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) ++unit_end;
    const std::string_view unit = text.substr(pos, unit_end - pos);
    uint64_t ms = 0;
    if (unit == "ms")
      ms = 1;
    else if (unit == "s")
      ms = 1000;
    else if (unit == "m")
      ms = 60'000;
    else if (unit == "h")
      ms = 3'600'000;
    else if (unit == "d")
      ms = 86'400'000;
    else if (unit == "w")
      ms = 7 * 86'400'000ull;
    else if (unit == "y")
      ms = 365 * 86'400'000ull;
    else
      return bad_input("unknown unit \"" + std::string(unit) + "\" (use ms, s, m, h, d, w, y)");
    if (n > kMax / ms || n * ms > kMax - total) return too_long();
    total += n * ms;
    pos = unit_end;
  }
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(total));
}

std::variant<Options, CliExit> parse_options(int argc, const char* const argv[], bool ipv6_supported) {
  const ParseEnv env{ipv6_supported};

  // First the syntax of the whole command line, so that a bad flag anywhere
  // is reported before --help or --version act.
  struct Given {
    const Flag* flag;
    std::string value;
  };
  std::vector<Given> given;
  bool options_end = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view token = argv[i];
    if (options_end || token.size() < 2 || token[0] != '-') {
      return usage_error("unexpected argument '" + std::string(token) + "'");
    }
    if (token == "--") {
      options_end = true;
      continue;
    }
    if (token == "-h") {
      given.push_back({find_flag("help"), {}});
      continue;
    }
    if (!token.starts_with("--")) return usage_error("unrecognised option '" + std::string(token) + "'");
    const std::string_view body = token.substr(2);
    const size_t eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    const Flag* flag = find_flag(name);
    if (flag == nullptr) return usage_error("unrecognised option '--" + std::string(name) + "'");
    if (flag->value_name.empty()) {
      if (eq != std::string_view::npos) {
        return usage_error("option '--" + std::string(name) + "' does not take any arguments");
      }
      given.push_back({flag, {}});
    } else if (eq != std::string_view::npos) {
      given.push_back({flag, std::string(body.substr(eq + 1))});
    } else if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("-")) {
      given.push_back({flag, argv[++i]});
    } else {
      return usage_error("the required argument for option '--" + std::string(name) + "' is missing");
    }
  }

  // Then the defaults, and the flags in command-line order over them (so
  // that, as with node_exporter, the last of --collector.x /
  // --no-collector.x wins).
  Options opts;
  const auto given_on_command_line = [&given](const Flag& f) {
    for (const Given& g : given) {
      if (g.flag == &f) return true;
    }
    return false;
  };
  for (const Flag& f : kFlags) {
    if (!f.default_value || f.set == nullptr) continue;
    if (f.repeatable && given_on_command_line(f)) continue;
    if (auto r = f.set(opts, f.value_name.empty() ? "" : *f.default_value, env); !r) {
      return CliExit{
          1, std::string(kProgram) + ": bad default of --" + std::string(f.name) + ": " + r.error().message + "\n",
          true};
    }
  }
  for (const Given& g : given) {
    switch (g.flag->action) {
      case Flag::Action::help:
        return CliExit{0, help_text() + "\n", false};
      case Flag::Action::version:
        return CliExit{0, version_string() + "\n", false};
      case Flag::Action::set:
        if (auto r = g.flag->set(opts, g.value, env); !r) {
          return usage_error(
              std::move(r).error().context("invalid --" + std::string(g.flag->name) + " \"" + g.value + "\"").message);
        }
        break;
    }
  }

  if (!opts.collector_vfs && !opts.collector_net) {
    return usage_error("every collector is disabled; nothing to export");
  }
  if (!opts.web_config_file.empty()) {
    // Checked now so that a bad file is a usage error, before anything loads.
    if (auto config = load_web_config(opts.web_config_file); !config) {
      return CliExit{2, std::string(kProgram) + ": " + printable(config.error().message) + "\n", true};
    }
  }
  if (!opts.accounting_file.empty() && opts.accounting_spool_file == opts.accounting_file) {
    return usage_error("--accounting.spool-file must not be the accounting file (the spool is replaced whole)");
  }
  return opts;
}

}  // namespace cgio
