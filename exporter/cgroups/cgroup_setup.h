// Which cgroup hierarchy I/O is charged to, and the kernel facts that go
// with it: cgroup2, or on hosts whose jobs live in cgroup v1 (RHEL 8 Slurm
// sites) the hierarchy of one v1 controller; plus the filesystems of
// --vfs.mountpoints as the kernel names them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/workloads.h"
#include "kernel/btf_prototypes.h"
#include "kernel/mounts.h"
#include "util/result.h"

namespace cgio {

struct CgroupChoice {
  bool v1 = false;
  std::string root;           // the hierarchy's mount point
  uint32_t hierarchy_id = 0;  // as in /proc/cgroups; 0 is cgroup2
  std::string controller;     // v1 only
  std::string reason;         // why, for the log
};

// --cgroup.mode: auto, v1 or v2.
enum class CgroupMode { automatic, v1, v2 };

std::optional<CgroupMode> parse_cgroup_mode(std::string_view text);
std::string_view to_string(CgroupMode mode);

// automatic picks v2 unless the recognised workloads (Slurm jobs, pods,
// containers, VMs, custom) are found only in the v1 controller's hierarchy.
Result<CgroupChoice> choose_cgroup_hierarchy(CgroupMode mode, const std::string& controller,
                                             const std::vector<Mount>& mounts, const std::string& proc_cgroups,
                                             const std::string& cgroup2_root, const WorkloadClassifier& classifier);

// The hierarchy column of `controller` in /proc/cgroups.
Result<uint32_t> v1_hierarchy_id(const std::string& proc_cgroups, const std::string& controller);

// The controller's index in struct css_set's subsys[] on the running kernel.
Result<uint32_t> cgroup_subsys_id(const KernelBtf& btf, const std::string& controller);

// Inode number of the initial cgroup namespace: a constant of the kernel
// (PROC_CGROUP_INIT_INO in include/linux/proc_ns.h, since cgroup namespaces
// exist in 4.6). Reading /proc/1/ns/cgroup instead needs ptrace access to
// pid 1, which sandboxes and some container runtimes deny.
inline constexpr uint32_t kInitCgroupNsInum = 0xEFFFFFFBu;

// The kernel dev_t ((major << 20) | minor) of each mount point's filesystem,
// in order. Each must be a mount point, and no two may share a filesystem
// (the kernel side tells filesystems apart by their superblock).
Result<std::vector<uint32_t>> mountpoint_devs(const std::vector<std::string>& mountpoints,
                                              const std::vector<Mount>& mounts);

}  // namespace cgio
