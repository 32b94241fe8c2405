#include "kernel/privileges.h"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace cgio {
namespace {
constexpr int kCapDacReadSearch = 2;
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

bool has(uint64_t caps, int cap) { return (caps >> cap) & 1u; }
}  // namespace

Result<uint64_t> effective_capabilities(const std::string& procfs) {
  const std::string path = procfs + "/self/status";
  std::ifstream in(path);
  if (!in) return errno_error("cannot read " + path, errno);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    std::istringstream hex(line.substr(7));
    uint64_t caps = 0;
    if (hex >> std::hex >> caps) return caps;
  }
  return Error{"no CapEff line in " + path};
}

Result<void> check_bpf_capabilities(uint64_t effective) {
  if (has(effective, kCapSysAdmin) || (has(effective, kCapBpf) && has(effective, kCapPerfmon))) {
    if (has(effective, kCapDacReadSearch)) return {};
    // Even root needs it: tracefs and cgroup file handles are read with it,
    // and without it file I/O counting would silently not attach.
    return Error{
        "missing capability CAP_DAC_READ_SEARCH: reading tracepoint ids in tracefs and resolving cgroup "
        "file handles needs it; grant it (systemd AmbientCapabilities=CAP_BPF CAP_PERFMON "
        "CAP_DAC_READ_SEARCH)",
        0, ErrorKind::permission};
  }
  std::string missing;
  if (!has(effective, kCapBpf)) missing = "CAP_BPF";
  if (!has(effective, kCapPerfmon)) missing += std::string(missing.empty() ? "" : " and ") + "CAP_PERFMON";
  return Error{"missing capability " + missing +
                   ": loading BPF programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); run "
                   "cgio_exporter as root or grant them, e.g. systemd AmbientCapabilities=CAP_BPF "
                   "CAP_PERFMON CAP_DAC_READ_SEARCH",
               0, ErrorKind::permission};
}

std::string perf_event_refusal_hint(int err, int paranoid, uint64_t effective) {
  if ((err != EACCES && err != EPERM) || paranoid <= 2 || has(effective, kCapSysAdmin)) return "";
  return "kernel.perf_event_paranoid is " + std::to_string(paranoid) +
         ", which on Debian's and Ubuntu's kernels lets only CAP_SYS_ADMIN open the perf events kprobe and "
         "tracepoint programs attach through; set sysctl kernel.perf_event_paranoid=2 or use "
         "--bpf.probe-type=fentry";
}

std::string perf_event_refusal_hint(int err, const std::string& procfs) {
  if (err != EACCES && err != EPERM) return "";
  std::ifstream in(procfs + "/sys/kernel/perf_event_paranoid");
  int paranoid = 0;
  if (!(in >> paranoid)) return "";
  auto caps = effective_capabilities(procfs);
  return perf_event_refusal_hint(err, paranoid, caps ? *caps : 0);
}

}  // namespace cgio
