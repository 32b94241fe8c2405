// Mount discovery from /proc/<pid>/mountinfo: where cgroup2 and tracefs
// live on this host (never assumed: hybrid hosts mount cgroup2 at
// /sys/fs/cgroup/unified, pure v2 hosts at /sys/fs/cgroup).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace cgio {

struct Mount {
  std::string mount_point;
  std::string root;  // root of the mount within its filesystem
  std::string fs_type;
  std::string source;
  std::string super_options;  // e.g. "rw,cpu,cpuacct" for a cgroup v1 mount
};

// Parses mountinfo text (proc(5)); octal escapes such as \040 are decoded.
std::vector<Mount> parse_mountinfo(const std::string& text);
Result<std::vector<Mount>> read_mountinfo(const std::string& path);

// The first mount of `fs_type`, preferring one whose root is "/".
std::optional<Mount> find_mount(const std::vector<Mount>& mounts, const std::string& fs_type);

// The cgroup v1 hierarchy mount of `controller` (its name among the mount's
// super options, e.g. cpuacct in "rw,cpu,cpuacct"), preferring root "/".
std::optional<Mount> find_cgroup_v1_mount(const std::vector<Mount>& mounts, const std::string& controller);

}  // namespace cgio
