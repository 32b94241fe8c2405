#include "cgroups/cgroup_setup.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <fstream>
#include <map>
#include <sstream>

#include "cgroups/cgroup_paths.h"

namespace cgio {
Result<uint32_t> v1_hierarchy_id(const std::string& proc_cgroups, const std::string& controller) {
  std::ifstream in(proc_cgroups);
  if (!in) return errno_error("cannot read " + proc_cgroups, errno);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string name;
    uint32_t hierarchy = 0;
    if (f >> name >> hierarchy && name == controller) {
      if (hierarchy == 0) return Error{"cgroup v1 controller " + controller + " is not mounted as a v1 hierarchy"};
      return hierarchy;
    }
  }
  return Error{"no cgroup controller " + controller + " in " + proc_cgroups};
}

Result<uint32_t> cgroup_subsys_id(const KernelBtf& btf, const std::string& controller) {
  auto v = btf.enum_value("cgroup_subsys_id", controller + "_cgrp_id");
  if (!v || *v < 0 || *v > 31) {
    return Error{"kernel BTF has no cgroup subsystem " + controller + " (enum cgroup_subsys_id)"};
  }
  return static_cast<uint32_t>(*v);
}

std::optional<CgroupMode> parse_cgroup_mode(std::string_view text) {
  if (text == "auto") return CgroupMode::automatic;
  if (text == "v1") return CgroupMode::v1;
  if (text == "v2") return CgroupMode::v2;
  return std::nullopt;
}

std::string_view to_string(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::automatic:
      return "auto";
    case CgroupMode::v1:
      return "v1";
    case CgroupMode::v2:
      return "v2";
  }
  return "auto";
}

CgroupSpace CgroupChoice::space() const {
  switch (keys) {
    case CgroupKeys::v1:
      return CgroupSpace::v1(v1_root, hierarchy_id);
    case CgroupKeys::hybrid:
      return CgroupSpace::hybrid(v2_root, v1_root, hierarchy_id);
    case CgroupKeys::v2:
      break;
  }
  return CgroupSpace::v2(v2_root);
}

Result<CgroupChoice> choose_cgroup_hierarchy(CgroupMode mode, const std::string& controller,
                                             const std::vector<Mount>& mounts, const std::string& proc_cgroups,
                                             const std::string& cgroup2_root) {
  CgroupChoice c;
  c.v2_root = cgroup2_root;
  std::optional<Error> v1_missing;
  if (auto m = find_cgroup_v1_mount(mounts, controller); !m) {
    v1_missing = Error{"no cgroup v1 hierarchy with controller " + controller + " is mounted"};
  } else if (auto h = v1_hierarchy_id(proc_cgroups, controller); !h) {
    v1_missing = h.error();
  } else {
    c.v1_root = m->mount_point;
    c.hierarchy_id = *h;
    c.controller = controller;
  }
  const auto only_v2 = [&](std::string reason) {
    c.keys = CgroupKeys::v2;
    c.v1_root.clear();
    c.hierarchy_id = 0;
    c.controller.clear();
    c.reason = std::move(reason);
  };
  switch (mode) {
    case CgroupMode::v2:
      if (c.v2_root.empty()) return Error{"--cgroup.mode=v2 but no cgroup2 mount was found"};
      only_v2("--cgroup.mode=v2");
      return c;
    case CgroupMode::v1:
      if (v1_missing) return *v1_missing;
      c.keys = CgroupKeys::v1;
      c.v2_root.clear();
      c.reason = "--cgroup.mode=v1";
      return c;
    case CgroupMode::automatic:
      break;
  }
  if (c.v2_root.empty() && v1_missing) {
    return Error{"neither cgroup2 nor a cgroup v1 " + controller + " hierarchy is mounted"};
  }
  if (c.v2_root.empty()) {
    c.keys = CgroupKeys::v1;
    c.reason = "no cgroup2 mount";
  } else if (v1_missing) {
    only_v2("cgroup2 (no v1 " + controller + " hierarchy)");
  } else {
    c.keys = CgroupKeys::hybrid;
    c.reason = "cgroup2 and the v1 " + controller +
               " hierarchy: tasks in a recognised workload's v1 cgroup are charged to it, others to cgroup2";
  }
  return c;
}

Result<std::vector<uint32_t>> mountpoint_devs(const std::vector<std::string>& mountpoints,
                                              const std::vector<Mount>& mounts) {
  std::vector<uint32_t> devs;
  std::map<uint32_t, std::string> seen;
  for (const std::string& mp : mountpoints) {
    std::string path = mp;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    bool is_mount = false;
    for (const Mount& m : mounts) is_mount = is_mount || m.mount_point == path;
    if (!is_mount) return bad_input("--vfs.mountpoints: " + mp + " is not a mount point");
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return errno_error("--vfs.mountpoints: cannot stat " + mp, errno);
    const uint32_t dev = (major(st.st_dev) << 20) | minor(st.st_dev);
    if (auto it = seen.find(dev); it != seen.end()) {
      return bad_input("--vfs.mountpoints: " + mp + " and " + it->second +
                       " are the same filesystem; cgio tells filesystems apart, not directories");
    }
    seen.emplace(dev, mp);
    devs.push_back(dev);
  }
  return devs;
}

}  // namespace cgio
