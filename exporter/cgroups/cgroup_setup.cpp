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
namespace {

bool job_like(const std::string& workload) { return workload != "cgroup" && workload != "systemd"; }

size_t count_jobs(const std::string& root, const WorkloadClassifier& classifier) {
  size_t n = 0;
  for (const auto& [id, path] : CgroupHierarchy(root).walk()) {
    if (job_like(classifier.classify(path).workload)) ++n;
  }
  return n;
}

}  // namespace

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

Result<CgroupChoice> choose_cgroup_hierarchy(CgroupMode mode, const std::string& controller,
                                             const std::vector<Mount>& mounts, const std::string& proc_cgroups,
                                             const std::string& cgroup2_root, const WorkloadClassifier& classifier) {
  CgroupChoice v2;
  v2.root = cgroup2_root;
  const auto v1_choice = [&]() -> Result<CgroupChoice> {
    auto m = find_cgroup_v1_mount(mounts, controller);
    if (!m) return Error{"no cgroup v1 hierarchy with controller " + controller + " is mounted"};
    auto h = v1_hierarchy_id(proc_cgroups, controller);
    if (!h) return h.error();
    CgroupChoice c;
    c.v1 = true;
    c.root = m->mount_point;
    c.hierarchy_id = *h;
    c.controller = controller;
    return c;
  };
  if (mode == CgroupMode::v2) {
    if (v2.root.empty()) return Error{"--cgroup.mode=v2 but no cgroup2 mount was found"};
    v2.reason = "--cgroup.mode=v2";
    return v2;
  }
  if (mode == CgroupMode::v1) {
    auto c = v1_choice();
    if (c) c->reason = "--cgroup.mode=v1";
    return c;
  }
  // automatic
  auto v1 = v1_choice();
  const size_t v2_jobs = v2.root.empty() ? 0 : count_jobs(v2.root, classifier);
  const size_t v1_jobs = v1 ? count_jobs(v1->root, classifier) : 0;
  if (v2.root.empty() && !v1) return Error{"neither cgroup2 nor a cgroup v1 " + controller + " hierarchy is mounted"};
  if (v2.root.empty() || (v2_jobs == 0 && v1_jobs > 0)) {
    v1->reason = v2.root.empty() ? "no cgroup2 mount"
                                 : "recognised workloads only in the v1 hierarchy (" + std::to_string(v1_jobs) + ")";
    return v1;
  }
  v2.reason = "cgroup2 (" + std::to_string(v2_jobs) + " recognised workloads there, " + std::to_string(v1_jobs) +
              " in v1 " + controller + ")";
  return v2;
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
