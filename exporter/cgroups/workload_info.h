// Names for units, from what the node itself holds (no network call, no
// API token): cgio_workload_info's labels and the accounting record's
// "info". Slurm jobs: the user (uid from the v1 path or the job's tasks,
// name from the passwd database), job name, account and partition from the
// environment Slurm gives the job's tasks. Pods: namespace and name from the
// kubelet's pod log directories, a container's name (step mode) from its
// log link. Podman and Docker containers: the name from the runtime's own
// state files. Every root is injectable, so tests run on fixture trees.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/workloads.h"

namespace cgio {

using InfoLabels = std::vector<std::pair<std::string, std::string>>;

struct WorkloadInfoRoots {
  std::string procfs = "/proc";
  std::string podman_storage = "/var/lib/containers/storage";  // containers/storage's graph root
  std::string docker = "/var/lib/docker";
  std::string pod_logs = "/var/log/pods";              // <namespace>_<pod>_<uid>/
  std::string container_logs = "/var/log/containers";  // <pod>_<namespace>_<container>-<id>.log
  // The passwd database (NSS: files, LDAP, SSSD) by default.
  std::function<std::optional<std::string>(uid_t)> user_name;
};

class WorkloadInfo {
 public:
  explicit WorkloadInfo(WorkloadInfoRoots roots);

  struct Found {
    InfoLabels labels;  // in a fixed order per workload, only what was found
    // Nothing more can be learned later (else the caller asks again: a
    // job's tasks may not have started yet).
    bool complete = false;
  };
  // `unit_dirs`: the unit cgroup's directories (one per hierarchy counted),
  // whose processes and their descendants' are the unit's tasks.
  Found lookup(const WorkloadIdentity& who, const std::vector<std::string>& unit_dirs) const;

 private:
  Found slurm(const WorkloadIdentity& who, const std::vector<std::string>& unit_dirs) const;
  Found kubernetes(const WorkloadIdentity& who) const;
  Found podman(const std::string& id) const;
  Found docker(const std::string& id) const;

  WorkloadInfoRoots roots_;
};

}  // namespace cgio
