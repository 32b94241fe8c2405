#include "config/options.h"

#include <boost/program_options.hpp>

#include <cctype>
#include <charconv>
#include <sstream>

#include "cgroups/workloads.h"
#include "util/version.h"

namespace po = boost::program_options;

namespace cgio {
namespace {

constexpr const char* kProgram = "cgio_exporter";

CliExit usage_error(const std::string& why) {
  return CliExit{2, std::string(kProgram) + ": " + why + " (see --help)\n", true};
}

po::options_description describe() {
  po::options_description desc(
      "Usage: cgio_exporter [flags]\n\n"
      "Counts file and network I/O per cgroup with eBPF and serves the counters\n"
      "as Prometheus metrics.\n\nFlags");
  // Values are taken as strings and validated here: Boost's lexical_cast
  // would accept "-1" for an unsigned and wrap it.
  desc.add_options()("help,h", "Show this help and exit.")("version", "Print the version and exit.")(
      "web.listen-address", po::value<std::string>()->value_name("[host]:port"),
      "Address to serve metrics on (default :10120, every IPv4 address).")(
      "web.telemetry-path", po::value<std::string>()->value_name("path"),
      "Path under which to expose metrics (default /metrics).")(
      "web.gzip-level", po::value<std::string>()->value_name("n"),
      "gzip level for scrapes that accept gzip, as Prometheus does: 1 (fastest, default) "
      "to 9 (smallest); 0 always answers uncompressed.")(
      "collector.vfs",
      "Enable the vfs collector: file reads, writes, opens, creates, "
      "unlinks, mkdirs, rmdirs (default: enabled).")("no-collector.vfs", "Disable the vfs collector.")(
      "collector.net", "Enable the net collector: TCP and UDP bytes and calls (default: enabled).")(
      "no-collector.net", "Disable the net collector.")(
      "vfs.include-pseudo-fs",
      "Also count reads and writes of files on kernel pseudo filesystems (proc, sysfs, "
      "cgroup, debugfs, tracefs, bpf, devpts, ...).")(
      "bpf.probe-type", po::value<std::string>()->value_name("type"),
      "auto, fentry, kprobe or tracepoint (default auto: per operation the cheapest type this "
      "kernel loads and attaches, falling back fentry -> kprobe -> tracepoint). A forced type "
      "counts only what that type can count on this kernel.")(
      "bpf.btf-path", po::value<std::string>()->value_name("file"),
      "Kernel BTF to check prototypes and relocate programs against (default "
      "/sys/kernel/btf/vmlinux).")("print-plan",
                                   "Print which probe type and kernel variant each operation would use on this "
                                   "kernel, and why, without loading anything; then exit.")(
      "cgroup.aggregate", po::value<std::string>()->value_name("mode"),
      "unit, step or leaf (default unit): unit sums every cgroup into its workload's unit (a "
      "Slurm job, a pod, a container, a VM, a systemd service); step keeps Slurm steps and pod "
      "containers apart; leaf reports every cgroup.")(
      "cgroup.workload-pattern", po::value<std::string>()->value_name("regex"),
      "A site-specific layout, tried before the built-in ones: a regular expression (Perl "
      "syntax) searched in cgroup paths, with named groups workload_id (required) and workload.")(
      "cgroup.mode", po::value<std::string>()->value_name("mode"),
      "auto, v1 or v2 (default auto): which cgroups I/O is charged to. v1 uses the task's "
      "cgroup in the hierarchy of --cgroup.v1-controller (hosts whose jobs live in cgroup v1); "
      "auto picks v2 unless the recognised workloads live only in v1.")(
      "cgroup.v1-controller", po::value<std::string>()->value_name("name"),
      "The cgroup v1 controller whose hierarchy --cgroup.mode=v1 uses (default cpuacct).")(
      "cgroup.retain-ended", po::value<std::string>()->value_name("duration"),
      "How long a unit that ended keeps reporting its final totals (default 5m; Prometheus "
      "durations such as 30s, 5m, 1h).")("accounting.file", po::value<std::string>()->value_name("path"),
                                         "Append one JSON line with its totals for every unit that ends.")(
      "vfs.mountpoints", po::value<std::string>()->value_name("paths"),
      "Comma-separated mount points: reads and writes get a mountpoint label (the listed "
      "filesystem the file is on, or \"other\").")(
      "bpf.map-entries", po::value<std::string>()->value_name("n"),
      "Maximum number of cgroups each counter map holds (default 16384). Updates for "
      "further cgroups are lost and counted in cgio_bpf_map_full_total.")(
      "log.level", po::value<std::string>()->value_name("level"),
      "Only log messages with the given severity or above: debug, info, warn, error "
      "(default info).")("path.procfs", po::value<std::string>()->value_name("dir"),
                         "procfs mount point (default /proc).")(
      "path.cgroup2", po::value<std::string>()->value_name("dir"),
      "cgroup2 mount point (default: found in <path.procfs>/self/mountinfo).");
  return desc;
}

Result<uint32_t> parse_map_entries(const std::string& text) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n == 0 || n > kMaxMapEntries) {
    return Error{"invalid --bpf.map-entries \"" + text + "\": must be a number from 1 to " +
                 std::to_string(kMaxMapEntries)};
  }
  return static_cast<uint32_t>(n);
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return Error{"empty duration"};
  if (text == "0") return std::chrono::milliseconds(0);
  std::chrono::milliseconds total{0};
  size_t pos = 0;
  while (pos < text.size()) {
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), n);
    if (ec != std::errc{}) return Error{"expected a number at position " + std::to_string(pos)};
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
      return Error{"unknown unit \"" + std::string(unit) + "\" (use ms, s, m, h, d, w, y)"};
    total += std::chrono::milliseconds(n * ms);
    pos = unit_end;
  }
  return total;
}

std::variant<Options, CliExit> parse_options(int argc, const char* const argv[], bool ipv6_supported) {
  const po::options_description desc = describe();
  po::parsed_options parsed(&desc);
  try {
    parsed = po::command_line_parser(argc, argv)
                 .options(desc)
                 .style(po::command_line_style::unix_style ^ po::command_line_style::allow_guessing)
                 .run();
  } catch (const po::error& e) {
    return usage_error(e.what());
  }

  Options opts;
  // Walk the flags in command-line order so that, as with node_exporter,
  // the last of --collector.x / --no-collector.x wins.
  for (const po::option& opt : parsed.options) {
    const std::string& key = opt.string_key;
    if (opt.unregistered || key.empty()) {
      return usage_error("unexpected argument '" + (opt.original_tokens.empty() ? key : opt.original_tokens.front()) +
                         "'");
    }
    const std::string value = opt.value.empty() ? std::string() : opt.value.front();
    if (key == "help") {
      std::ostringstream out;
      out << desc << "\n";
      return CliExit{0, out.str(), false};
    }
    if (key == "version") return CliExit{0, version_string() + "\n", false};
    if (key == "collector.vfs")
      opts.collector_vfs = true;
    else if (key == "no-collector.vfs")
      opts.collector_vfs = false;
    else if (key == "collector.net")
      opts.collector_net = true;
    else if (key == "no-collector.net")
      opts.collector_net = false;
    else if (key == "vfs.include-pseudo-fs")
      opts.vfs_include_pseudo_fs = true;
    else if (key == "web.listen-address")
      opts.listen_address_text = value;
    else if (key == "web.telemetry-path")
      opts.telemetry_path = value;
    else if (key == "web.gzip-level") {
      if (value.size() != 1 || value[0] < '0' || value[0] > '9') {
        return usage_error("invalid --web.gzip-level \"" + value + "\": must be a number from 0 to 9");
      }
      opts.gzip_level = value[0] - '0';
    } else if (key == "path.procfs")
      opts.procfs = value;
    else if (key == "path.cgroup2")
      opts.cgroup2_root = value;
    else if (key == "bpf.btf-path")
      opts.btf_path = value;
    else if (key == "cgroup.workload-pattern")
      opts.workload_pattern = value;
    else if (key == "cgroup.v1-controller")
      opts.v1_controller = value;
    else if (key == "accounting.file")
      opts.accounting_file = value;
    else if (key == "cgroup.aggregate") {
      if (!parse_aggregate_mode(value)) {
        return usage_error("invalid --cgroup.aggregate \"" + value + "\": use unit, step or leaf");
      }
      opts.aggregate = value;
    } else if (key == "cgroup.mode") {
      if (value != "auto" && value != "v1" && value != "v2") {
        return usage_error("invalid --cgroup.mode \"" + value + "\": use auto, v1 or v2");
      }
      opts.cgroup_mode = value;
    } else if (key == "cgroup.retain-ended") {
      auto d = parse_duration(value);
      if (!d) return usage_error("invalid --cgroup.retain-ended \"" + value + "\": " + d.error().message);
      opts.retain_ended = std::chrono::duration_cast<std::chrono::seconds>(*d);
    } else if (key == "vfs.mountpoints") {
      opts.mountpoints.clear();
      size_t start = 0;
      while (start <= value.size()) {
        const size_t comma = value.find(',', start);
        const std::string mp = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (mp.empty() || mp.front() != '/') {
          return usage_error("invalid --vfs.mountpoints \"" + value + "\": absolute paths, comma-separated");
        }
        opts.mountpoints.push_back(mp);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (key == "print-plan")
      opts.print_plan = true;
    else if (key == "bpf.probe-type") {
      if (value == "auto") {
        opts.probe_type.reset();
      } else if (auto t = parse_probe_type(value)) {
        opts.probe_type = *t;
      } else {
        return usage_error("invalid --bpf.probe-type \"" + value + "\": use auto, fentry, kprobe or tracepoint");
      }
    } else if (key == "bpf.map-entries") {
      auto n = parse_map_entries(value);
      if (!n) return usage_error(n.error());
      opts.map_entries = *n;
    } else if (key == "log.level") {
      auto level = log::parse_level(value);
      if (!level) {
        return usage_error("invalid --log.level \"" + value + "\": use debug, info, warn or error");
      }
      opts.log_level = *level;
    }
  }

  auto addr = parse_listen_address(opts.listen_address_text, ipv6_supported);
  if (!addr) return usage_error(addr.error());
  opts.listen_address = *addr;

  const std::string& path = opts.telemetry_path;
  if (path.empty() || path.front() != '/' || path == "/" || path.find_first_of(" ?#") != std::string::npos) {
    return usage_error("invalid --web.telemetry-path \"" + path + "\": must start with / and name a path other than /");
  }
  if (opts.procfs.empty()) return usage_error("--path.procfs must not be empty");
  if (auto classifier = WorkloadClassifier::create(opts.workload_pattern, *parse_aggregate_mode(opts.aggregate));
      !classifier) {
    return usage_error(classifier.error());
  }
  if (opts.mountpoints.size() > kMaxMountpoints) {
    return usage_error("--vfs.mountpoints lists " + std::to_string(opts.mountpoints.size()) + " paths; at most " +
                       std::to_string(kMaxMountpoints));
  }
  if (!opts.collector_vfs && !opts.collector_net) {
    return usage_error("every collector is disabled; nothing to export");
  }
  return opts;
}

}  // namespace cgio
