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

// The workload of a cgroup no layout recognises: no unit, no record.
inline constexpr std::string_view kUnrecognised = "cgroup";
inline bool recognised(const WorkloadIdentity& who) { return who.workload != kUnrecognised; }

struct CompiledWorkloadPattern;

// A site-specific layout (--cgroup.workload-pattern), compiled once: a
// regular expression with the named group workload_id (and workload).
// Default-constructed, it is no pattern.
class WorkloadPattern {
 public:
  WorkloadPattern() = default;
  // Invalid patterns, and patterns without a named group `workload_id`, are
  // rejected as bad input saying why (for a syntax error, at which 0-based
  // offset); the caller names the flag.
  static Result<WorkloadPattern> compile(const std::string& pattern);

  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }
  bool operator==(const WorkloadPattern& other) const { return text_ == other.text_; }

 private:
  friend class WorkloadClassifier;
  std::string text_;
  // Shared between copies: never modified after compile(), and Boost.Regex
  // allows concurrent matching on one object.
  std::shared_ptr<const CompiledWorkloadPattern> compiled_;
};

class WorkloadClassifier {
 public:
  WorkloadClassifier(WorkloadPattern custom, AggregateMode mode) : custom_(std::move(custom)), mode_(mode) {}

  // `custom_pattern` may be empty. Errors are WorkloadPattern::compile's,
  // naming --cgroup.workload-pattern and the pattern.
  static Result<WorkloadClassifier> create(const std::string& custom_pattern, AggregateMode mode);

  // `path`: a cgroup path relative to its hierarchy's root, with a leading
  // slash ("/" is the root); cgroup2 paths and cgroup v1 controller paths
  // alike. Safe to call from several threads at once.
  WorkloadIdentity classify(std::string_view path) const;

  AggregateMode mode() const { return mode_; }

 private:
  WorkloadPattern custom_;
  AggregateMode mode_;
};

}  // namespace cgio
