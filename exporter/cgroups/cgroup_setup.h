// Which cgroup hierarchies I/O is charged to, and the kernel facts that go
// with them: cgroup2, the hierarchy of one v1 controller (pure v1 hosts,
// RHEL 8 legacy), or both on hybrid hosts, where jobs live in v1 and
// services in cgroup2; plus the filesystems of --vfs.mountpoints as the
// kernel names them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/cgroup_space.h"
#include "kernel/btf_prototypes.h"
#include "kernel/mounts.h"
#include "util/result.h"

namespace cgio {

struct CgroupChoice {
  CgroupKeys keys = CgroupKeys::v2;
  std::string v2_root;        // the cgroup2 mount point, unless v1
  std::string v1_root;        // the v1 controller's mount point, v1 and hybrid
  uint32_t hierarchy_id = 0;  // the v1 hierarchy (/proc/cgroups), v1 and hybrid
  std::string controller;     // v1 and hybrid
  std::string reason;         // why, for the log

  CgroupSpace space() const;
};

// --cgroup.mode: auto, v1 or v2.
enum class CgroupMode { automatic, v1, v2 };

std::optional<CgroupMode> parse_cgroup_mode(std::string_view text);
std::string_view to_string(CgroupMode mode);

// automatic: hybrid where cgroup2 and the v1 controller's hierarchy are
// both mounted (each task is charged to its v1 cgroup while that is a
// recognised workload, else to its cgroup2 one: decided per cgroup, as jobs
// come and go, never once at start-up), else whichever is mounted.
Result<CgroupChoice> choose_cgroup_hierarchy(CgroupMode mode, const std::string& controller,
                                             const std::vector<Mount>& mounts, const std::string& proc_cgroups,
                                             const std::string& cgroup2_root);

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
