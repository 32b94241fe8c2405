#include "options.h"

#include <boost/program_options.hpp>

#include <charconv>
#include <sstream>

#include "version.h"

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
  desc.add_options()
      ("help,h", "Show this help and exit.")
      ("version", "Print the version and exit.")
      ("web.listen-address", po::value<std::string>()->value_name("[host]:port"),
       "Address to serve metrics on (default :10120, every IPv4 address).")
      ("web.telemetry-path", po::value<std::string>()->value_name("path"),
       "Path under which to expose metrics (default /metrics).")
      ("collector.vfs", "Enable the vfs collector: file reads, writes, opens, creates, "
                        "unlinks, mkdirs, rmdirs (default: enabled).")
      ("no-collector.vfs", "Disable the vfs collector.")
      ("collector.net", "Enable the net collector: TCP and UDP bytes and calls (default: enabled).")
      ("no-collector.net", "Disable the net collector.")
      ("vfs.include-pseudo-fs",
       "Also count reads and writes of files on kernel pseudo filesystems (proc, sysfs, "
       "cgroup, debugfs, tracefs, bpf, devpts, ...).")
      ("bpf.probe-type", po::value<std::string>()->value_name("type"),
       "auto, fentry, kprobe or tracepoint (default auto: per operation the cheapest type this "
       "kernel loads and attaches, falling back fentry -> kprobe -> tracepoint). A forced type "
       "counts only what that type can count on this kernel.")
      ("bpf.btf-path", po::value<std::string>()->value_name("file"),
       "Kernel BTF to check prototypes and relocate programs against (default "
       "/sys/kernel/btf/vmlinux).")
      ("print-plan", "Print which probe type and kernel variant each operation would use on this "
                     "kernel, and why, without loading anything; then exit.")
      ("bpf.map-entries", po::value<std::string>()->value_name("n"),
       "Maximum number of cgroups each counter map holds (default 16384). Updates for "
       "further cgroups are lost and counted in cgio_bpf_map_full_total.")
      ("log.level", po::value<std::string>()->value_name("level"),
       "Only log messages with the given severity or above: debug, info, warn, error "
       "(default info).")
      ("path.procfs", po::value<std::string>()->value_name("dir"),
       "procfs mount point (default /proc).")
      ("path.cgroup2", po::value<std::string>()->value_name("dir"),
       "cgroup2 mount point (default: found in <path.procfs>/self/mountinfo).");
  return desc;
}

Result<uint32_t> parse_map_entries(const std::string& text) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n == 0 ||
      n > kMaxMapEntries) {
    return Error{"invalid --bpf.map-entries \"" + text + "\": must be a number from 1 to " +
                 std::to_string(kMaxMapEntries)};
  }
  return static_cast<uint32_t>(n);
}

}  // namespace

std::string version_string() {
  return std::string(kProgram) + " " + kCgioVersion + " (revision " + kCgioRevision + ")";
}

std::variant<Options, CliExit> parse_options(int argc, const char* const argv[],
                                             bool ipv6_supported) {
  const po::options_description desc = describe();
  po::parsed_options parsed(&desc);
  try {
    parsed = po::command_line_parser(argc, argv)
                 .options(desc)
                 .style(po::command_line_style::unix_style ^
                        po::command_line_style::allow_guessing)
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
      return usage_error("unexpected argument '" +
                         (opt.original_tokens.empty() ? key : opt.original_tokens.front()) + "'");
    }
    const std::string value = opt.value.empty() ? std::string() : opt.value.front();
    if (key == "help") {
      std::ostringstream out;
      out << desc << "\n";
      return CliExit{0, out.str(), false};
    }
    if (key == "version") return CliExit{0, version_string() + "\n", false};
    if (key == "collector.vfs") opts.collector_vfs = true;
    else if (key == "no-collector.vfs") opts.collector_vfs = false;
    else if (key == "collector.net") opts.collector_net = true;
    else if (key == "no-collector.net") opts.collector_net = false;
    else if (key == "vfs.include-pseudo-fs") opts.vfs_include_pseudo_fs = true;
    else if (key == "web.listen-address") opts.listen_address_text = value;
    else if (key == "web.telemetry-path") opts.telemetry_path = value;
    else if (key == "path.procfs") opts.procfs = value;
    else if (key == "path.cgroup2") opts.cgroup2_root = value;
    else if (key == "bpf.btf-path") opts.btf_path = value;
    else if (key == "print-plan") opts.print_plan = true;
    else if (key == "bpf.probe-type") {
      if (value == "auto") {
        opts.probe_type.reset();
      } else if (auto t = parse_probe_type(value)) {
        opts.probe_type = *t;
      } else {
        return usage_error("invalid --bpf.probe-type \"" + value + "\": use auto, fentry, kprobe or tracepoint");
      }
    }
    else if (key == "bpf.map-entries") {
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
  if (path.empty() || path.front() != '/' || path == "/" ||
      path.find_first_of(" ?#") != std::string::npos) {
    return usage_error("invalid --web.telemetry-path \"" + path +
                       "\": must start with / and name a path other than /");
  }
  if (opts.procfs.empty()) return usage_error("--path.procfs must not be empty");
  if (!opts.collector_vfs && !opts.collector_net) {
    return usage_error("every collector is disabled; nothing to export");
  }
  return opts;
}

}  // namespace cgio
