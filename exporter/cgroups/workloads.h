// Which workload a cgroup belongs to (a Slurm job, a Kubernetes pod, a
// container, a VM, a systemd unit), read from the shape of its path, and
// which cgroup's totals it counts toward. Recognises the layouts that
// Slurm, the kubelet, Docker, Podman, libvirt and systemd create, plus one
// site-specific pattern (--cgroup.workload-pattern).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "util/result.h"

namespace cgio {

// How far cgroups are grouped: into their workload's unit (job, pod,
// container, VM, systemd unit), into Slurm steps and pod containers, or
// not at all.
enum class AggregateMode { unit, step, leaf };

std::optional<AggregateMode> parse_aggregate_mode(std::string_view text);
std::string_view to_string(AggregateMode mode);

struct WorkloadIdentity {
  std::string workload;  // slurm, kubernetes, docker, podman, libvirt, systemd, cgroup, or the custom pattern's
  std::string
      workload_id;  // Slurm job id or SLUID, pod UID with dashes, container id, VM name, unit name, or the cgroup path
  std::string unit_path;  // the cgroup path whose totals this cgroup counts toward under the mode (the `cgroup` label)
  std::string step;       // Slurm only, in step mode: "0", "1", "batch", "extern", "interactive", ...; else ""
  bool operator==(const WorkloadIdentity&) const = default;
};

class WorkloadClassifier {
 public:
  // `custom_pattern` may be empty. Invalid patterns, and patterns without
  // a named group `workload_id`, are rejected with a message naming
  // --cgroup.workload-pattern (and, for a syntax error, the 0-based offset).
  static Result<WorkloadClassifier> create(const std::string& custom_pattern, AggregateMode mode);

  // `path`: a cgroup path relative to its hierarchy's root, with a leading
  // slash ("/" is the root); cgroup2 paths and cgroup v1 controller paths
  // alike. Safe to call from several threads at once.
  WorkloadIdentity classify(std::string_view path) const;

  AggregateMode mode() const { return mode_; }

 private:
  struct CustomPattern;

  WorkloadClassifier(std::shared_ptr<const CustomPattern> custom, AggregateMode mode)
      : custom_(std::move(custom)), mode_(mode) {}

  // Shared between copies: the compiled pattern is never modified after
  // create(), and Boost.Regex allows concurrent matching on one object.
  std::shared_ptr<const CustomPattern> custom_;
  AggregateMode mode_;
};

}  // namespace cgio
