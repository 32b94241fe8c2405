#include "kernel/capabilities.h"

#include <dirent.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "util/log.h"

namespace cgio {
namespace {

bool holds(CapSet set, int cap) { return (set >> cap) & 1u; }

// One name of the list: what libcap knows ("cap_bpf", any case), never a
// bare number (which libcap would also take).
Result<int> capability_value(std::string_view name) {
  const std::string text(name);
  cap_value_t value = -1;
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0])) || cap_from_name(text.c_str(), &value) != 0 ||
      value < 0 || value > 63) {
    return bad_input("unknown capability \"" + text + "\" (names as in capabilities(7), e.g. cap_bpf)");
  }
  return static_cast<int>(value);
}

// ---- The change every thread makes. Capabilities, the bounding set and
// no_new_privs are attributes of a thread, not of the process: a thread
// left out would keep them all. The handler runs in each thread and makes
// only raw system calls (async-signal-safe).

struct ThreadChange {
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  CapSet bounding_drop = 0;  // 0: the bounding set stays (no CAP_SETPCAP)
  std::atomic<int> error{0};
};

ThreadChange g_change;  // static: a late signal never finds it gone

int change_this_thread(ThreadChange& c) {
  // The bounding set first: dropping from it needs CAP_SETPCAP, which the
  // capset below takes away.
  for (int cap = 0; cap < 64; ++cap) {
    if (holds(c.bounding_drop, cap) && syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return errno;
  }
  if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return errno;
  if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  if (syscall(SYS_capset, &header, c.data) != 0) return errno;
  return 0;
}

void on_change_signal(int) {
  const int saved = errno;
  if (const int err = change_this_thread(g_change); err != 0) g_change.error.store(err);
  errno = saved;
}

std::vector<pid_t> thread_ids() {
  std::vector<pid_t> ids;
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ids.push_back(static_cast<pid_t>(std::stol(e->d_name)));
    }
    closedir(d);
  }
  return ids;
}

// The thread's sets as its status shows them: what the kernel holds, not
// what was asked for.
struct ThreadSets {
  CapSet inh = 0, prm = 0, eff = 0, bnd = 0, amb = 0;
  bool no_new_privs = false;
  bool gone = false;
};

ThreadSets thread_sets(pid_t tid) {
  ThreadSets s;
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  if (!in) {
    s.gone = true;
    return s;
  }
  std::string line;
  const auto hex = [](const std::string& l) {
    CapSet v = 0;
    std::istringstream(l.substr(l.find(':') + 1)) >> std::hex >> v;
    return v;
  };
  while (std::getline(in, line)) {
    if (line.starts_with("CapInh:")) s.inh = hex(line);
    if (line.starts_with("CapPrm:")) s.prm = hex(line);
    if (line.starts_with("CapEff:")) s.eff = hex(line);
    if (line.starts_with("CapBnd:")) s.bnd = hex(line);
    if (line.starts_with("CapAmb:")) s.amb = hex(line);
    if (line.starts_with("NoNewPrivs:")) s.no_new_privs = line.find('1') != std::string::npos;
  }
  return s;
}

bool changed(const ThreadSets& s, CapSet keep, bool bounding) {
  return s.gone || (s.eff == keep && s.prm == keep && s.inh == 0 && s.amb == 0 && s.no_new_privs &&
                    (!bounding || (s.bnd & ~keep) == 0));
}

Result<CapSet> permitted_now() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) return errno_error("cannot read the capabilities", errno);
  return CapSet{data[0].permitted} | (CapSet{data[1].permitted} << 32);
}

Result<CapSet> effective_now() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) return errno_error("cannot read the capabilities", errno);
  return CapSet{data[0].effective} | (CapSet{data[1].effective} << 32);
}

// kernel.unprivileged_bpf_disabled, -1 when unreadable.
int read_unprivileged_bpf_disabled(const std::string& procfs) {
  std::ifstream in(procfs + "/sys/kernel/unprivileged_bpf_disabled");
  int v = -1;
  if (!(in >> v)) return -1;
  return v;
}

}  // namespace

Result<CapabilityKeep> parse_capability_keep(std::string_view text) {
  CapabilityKeep k;
  if (text == "auto") return k;
  if (text == "all") {
    k.mode = CapabilityKeep::Mode::all;
    return k;
  }
  k.mode = CapabilityKeep::Mode::listed;
  if (text == "none") return k;
  while (true) {
    const size_t comma = text.find(',');
    auto cap = capability_value(text.substr(0, comma));
    if (!cap) return cap.error();
    k.listed |= cap_bit(*cap);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return k;
}

std::string capability_names(CapSet caps) {
  std::string out;
  for (int cap = 0; cap < 64; ++cap) {
    if (!holds(caps, cap)) continue;
    char* name = cap_to_name(cap);
    if (!out.empty()) out += ',';
    out += name != nullptr ? name : std::to_string(cap);
    cap_free(name);
  }
  return out.empty() ? "none" : out;
}

bool map_access_needs_cap_bpf(const KernelVersion& kernel, int unprivileged_bpf_disabled) {
  if (unprivileged_bpf_disabled == 0) return false;
  // An unknown version is treated as old: keeping CAP_BPF is safe, losing
  // it would stop every map read.
  return !kernel.known() || kernel < KernelVersion{6, 5, 0};
}

Result<KeptCapabilities> capabilities_to_keep(const CapabilityKeep& keep, const KeepInputs& in) {
  KeptCapabilities k;
  switch (keep.mode) {
    case CapabilityKeep::Mode::all:
      k.keep = in.permitted;
      k.why = "--capabilities.keep=all";
      return k;
    case CapabilityKeep::Mode::listed:
      if (const CapSet missing = keep.listed & ~in.permitted; missing != 0) {
        return bad_input("--capabilities.keep names " + capability_names(missing) +
                         ", which the exporter does not hold and so cannot keep");
      }
      k.keep = keep.listed;
      k.why = "--capabilities.keep";
      return k;
    case CapabilityKeep::Mode::automatic:
      break;
  }
  std::string why;
  const auto want = [&](int cap, const std::string& reason) {
    const bool held = holds(in.permitted, cap);
    if (held) k.keep |= cap_bit(cap);
    why += (why.empty() ? "" : "; ") + capability_names(cap_bit(cap)) + (held ? ": " : " (not held): ") + reason;
  };
  want(kCapDacReadSearch, "cgroup ids are resolved to paths with open_by_handle_at");
  want(kCapSysPtrace, "Slurm job details are read from /proc/<pid>/environ of the job's tasks (other users)");
  if (map_access_needs_cap_bpf(in.kernel, in.unprivileged_bpf_disabled)) {
    want(kCapBpf,
         "before Linux 6.5 every bpf() command (map reads and deletes) needs it while "
         "kernel.unprivileged_bpf_disabled=" +
             std::to_string(in.unprivileged_bpf_disabled));
  }
  k.why = why;
  return k;
}

Result<void> restrict_capabilities(CapSet keep, bool* bounding_dropped) {
  auto effective = effective_now();
  if (!effective) return effective.error();
  ThreadChange& c = g_change;
  for (int word = 0; word < _LINUX_CAPABILITY_U32S_3; ++word) {
    const auto bits = static_cast<uint32_t>(keep >> (32 * word));
    c.data[word] = {bits, bits, 0};
  }
  const bool bounding = holds(*effective, kCapSetpcap);
  c.bounding_drop = 0;
  if (bounding) {
    for (int cap = 0; cap < cap_max_bits(); ++cap) {
      if (!holds(keep, cap)) c.bounding_drop |= cap_bit(cap);
    }
  }
  if (bounding_dropped != nullptr) *bounding_dropped = bounding;

  // The thread calling first: its errors are reported as they are.
  if (const int err = change_this_thread(c); err != 0) return errno_error("cannot drop capabilities", err);

  const int sig = SIGRTMIN + 4;  // unused by glibc (which keeps two below SIGRTMIN), libbpf and civetweb
  struct sigaction sa {};
  sa.sa_handler = on_change_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  struct sigaction old {};
  if (sigaction(sig, &sa, &old) != 0) return errno_error("cannot install the capability signal handler", errno);
  if (old.sa_handler != SIG_DFL && old.sa_handler != on_change_signal) {
    return Error{"signal " + std::to_string(sig) + " is in use: the other threads cannot drop their capabilities"};
  }
  // Signal every thread not changed yet, until every thread shows the new
  // sets (threads started meanwhile by a thread not yet changed are found
  // by the next listing).
  const pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::vector<pid_t> signalled;
  while (true) {
    std::vector<pid_t> pending;
    for (pid_t tid : thread_ids()) {
      if (tid != self && !changed(thread_sets(tid), keep, bounding)) pending.push_back(tid);
    }
    if (const int err = c.error.load(); err != 0) {
      return errno_error("a thread cannot drop its capabilities", err);
    }
    if (pending.empty()) return {};
    if (std::chrono::steady_clock::now() > deadline) {
      return Error{"thread " + std::to_string(pending.front()) +
                   " did not drop its capabilities within 5s (does it block signal " + std::to_string(sig) + "?)"};
    }
    for (pid_t tid : pending) {
      if (std::find(signalled.begin(), signalled.end(), tid) != signalled.end()) continue;
      if (syscall(SYS_tgkill, getpid(), tid, sig) == 0) signalled.push_back(tid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Result<void> drop_unneeded_capabilities(const CapabilityKeep& keep, const KernelVersion& kernel,
                                        const std::string& procfs) {
  auto permitted = permitted_now();
  if (!permitted) return permitted.error();
  if (keep.mode == CapabilityKeep::Mode::all) {
    log::info("capabilities kept", {{"kept", capability_names(*permitted)}, {"why", "--capabilities.keep=all"}});
    return {};
  }
  KeepInputs in;
  in.kernel = kernel;
  in.unprivileged_bpf_disabled = read_unprivileged_bpf_disabled(procfs);
  in.permitted = *permitted;
  auto kept = capabilities_to_keep(keep, in);
  if (!kept) return kept.error();
  bool bounding = false;
  if (auto r = restrict_capabilities(kept->keep, &bounding); !r) return r.error();
  log::info("capabilities dropped in every thread, no_new_privs set",
            {{"kept", capability_names(kept->keep)},
             {"dropped", capability_names(*permitted & ~kept->keep)},
             {"bounding_set", bounding ? "reduced to the kept set" : "unchanged (needs CAP_SETPCAP)"},
             {"why", kept->why}});
  return {};
}

}  // namespace cgio
