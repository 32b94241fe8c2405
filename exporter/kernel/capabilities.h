// Least privilege once counting runs: loading, attaching and pinning need
// CAP_BPF, CAP_PERFMON (and more); the running exporter needs much less.
// After start-up every capability it no longer uses is dropped from every
// thread's effective, permitted, inheritable, ambient and bounding sets, and
// no_new_privs is set, so a bug in the HTTP server or a parser cannot load
// BPF programs or read other processes' memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kernel/kernel.h"
#include "util/result.h"

namespace cgio {

// Bit n: capability n (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40).
using CapSet = uint64_t;

inline constexpr int kCapDacReadSearch = 2;
inline constexpr int kCapSetpcap = 8;
inline constexpr int kCapSysPtrace = 19;
inline constexpr int kCapSysAdmin = 21;
inline constexpr int kCapPerfmon = 38;
inline constexpr int kCapBpf = 39;

constexpr CapSet cap_bit(int cap) { return CapSet{1} << cap; }

// --capabilities.keep, with ebpf_exporter's semantics for its names: "all"
// keeps every capability, "none" drops them all, a comma-separated list of
// names (cap_bpf or CAP_BPF) keeps exactly those. cgio adds "auto" (the
// default): what the running exporter needs on this kernel.
struct CapabilityKeep {
  enum class Mode { automatic, all, listed } mode = Mode::automatic;
  CapSet listed = 0;  // Mode::listed; empty for "none"
  bool operator==(const CapabilityKeep&) const = default;
};

Result<CapabilityKeep> parse_capability_keep(std::string_view text);

// "cap_bpf,cap_dac_read_search" (in capability order), "none" when empty.
std::string capability_names(CapSet caps);

// What decides which capabilities the running exporter keeps.
struct KeepInputs {
  KernelVersion kernel;
  // kernel.unprivileged_bpf_disabled; -1 when it cannot be read (then the
  // bpf() gate is assumed to be on).
  int unprivileged_bpf_disabled = -1;
  CapSet permitted = 0;  // what the process holds now
};

struct KeptCapabilities {
  CapSet keep = 0;
  std::string why;  // one phrase per capability kept, for the log line
};

// The set to keep: for "auto" the capabilities the running exporter uses
// (of those it holds), for a list exactly the list (an error names any it
// does not hold: it cannot be kept), for "all" everything held.
Result<KeptCapabilities> capabilities_to_keep(const CapabilityKeep& keep, const KeepInputs& in);

// Whether a bpf() command on a map fd already held (lookup, delete, update,
// next key) needs CAP_BPF: before Linux 6.5 __sys_bpf refused every command
// without it while kernel.unprivileged_bpf_disabled is set; 6.5 moved that
// check into map and program creation.
bool map_access_needs_cap_bpf(const KernelVersion& kernel, int unprivileged_bpf_disabled);

// Every thread of the process keeps only `keep` in its effective, permitted
// and inheritable sets; the ambient set is cleared; the bounding set loses
// everything else (when CAP_SETPCAP is held; `bounding_dropped` says
// whether it was); no_new_privs is set. Capabilities are per thread, so the
// change runs in each thread (a real-time signal, like glibc's setxid).
Result<void> restrict_capabilities(CapSet keep, bool* bounding_dropped);

// The whole step for run(): reads the inputs (`procfs`), computes, drops in
// every thread and logs one info line with the kept set and why.
Result<void> drop_unneeded_capabilities(const CapabilityKeep& keep, const KernelVersion& kernel,
                                        const std::string& procfs);

}  // namespace cgio
