#include "cgroups/workloads.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/regex.hpp>

namespace cgio {

namespace {

constexpr std::string_view kPatternFlag = "--cgroup.workload-pattern";

struct Segment {
  std::string_view name;
  size_t end;  // offset just past the segment: its own cgroup's path is path.substr(0, end)
};

using Segments = std::vector<Segment>;

// Empty components (doubled or trailing slashes) are skipped rather than
// rejected: the path comes from a directory walk, not from a user.
Segments split(std::string_view path) {
  Segments out;
  out.reserve(static_cast<size_t>(std::count(path.begin(), path.end(), '/')) + 1);
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back({path.substr(i, j - i), j});
    i = j;
  }
  return out;
}

// What a layout rule found: the workload, and where its unit (and, for
// Slurm steps and pod containers, the finer unit inside it) ends.
struct Found {
  Found(std::string_view w, std::string id, size_t end) : workload(w), workload_id(std::move(id)), unit_end(end) {}

  std::string_view workload;
  std::string workload_id;
  size_t unit_end = 0;
  size_t inner_end = 0;   // 0: not inside a step or container
  std::string_view step;  // the Slurm step's name
};

bool consume_prefix(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool consume_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix)) return false;
  s.remove_suffix(suffix.size());
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

template <typename Pred>
bool non_empty_all(std::string_view s, Pred pred) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

bool is_decimal(std::string_view s) { return non_empty_all(s, is_digit); }

// Docker and Podman ids: 64 lowercase hex digits.
bool is_container_id(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); });
}

// Crockford's base32 alphabet leaves out I, L, O and U; either case is
// accepted because the alphabet is case-insensitive by definition.
bool is_crockford(char c) {
  if (is_digit(c)) return true;
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U';
}

// Slurm's unique job id (26.05+): "s" and 13 base32 characters.
bool is_sluid(std::string_view s) {
  return s.size() == 14 && (s[0] == 's' || s[0] == 'S') && non_empty_all(s.substr(1), is_crockford);
}

// --- Kubernetes -------------------------------------------------------------

constexpr std::string_view kQosClasses[] = {"burstable", "besteffort"};

// Pod UIDs are UUIDs (static pods: a hex hash); the systemd driver writes
// their dashes as underscores, since '-' is systemd's slice separator.
bool is_pod_uid(std::string_view s) {
  return non_empty_all(s, [](char c) { return is_hex(c) || c == '-' || c == '_'; });
}

struct PodDir {
  size_t index;
  std::string_view uid;  // as written in the path
};

// cgroupfs driver, below "kubepods": [<qos>/]pod<uid>.
std::optional<PodDir> cgroupfs_pod(const Segments& segs, size_t j) {
  if (j < segs.size() &&
      std::find(std::begin(kQosClasses), std::end(kQosClasses), segs[j].name) != std::end(kQosClasses)) {
    ++j;
  }
  if (j >= segs.size()) return std::nullopt;
  std::string_view name = segs[j].name;
  if (!consume_prefix(name, "pod") || !is_pod_uid(name)) return std::nullopt;
  return PodDir{j, name};
}

// systemd driver, below "<stem>.slice": every level repeats its parent's
// name ("kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice");
// `stem` is "kubepods", or e.g. "kubelet-kubepods" under a custom root.
std::optional<PodDir> systemd_pod(const Segments& segs, size_t j, std::string_view stem) {
  if (j >= segs.size()) return std::nullopt;
  std::string_view qos;
  std::string_view name = segs[j].name;
  if (!consume_prefix(name, stem) || !consume_prefix(name, "-")) return std::nullopt;
  for (std::string_view q : kQosClasses) {
    if (name.size() == q.size() + 6 && name.starts_with(q) && name.ends_with(".slice")) qos = q;
  }
  if (!qos.empty()) {
    if (++j >= segs.size()) return std::nullopt;
    name = segs[j].name;
    if (!consume_prefix(name, stem) || !consume_prefix(name, "-") || !consume_prefix(name, qos) ||
        !consume_prefix(name, "-")) {
      return std::nullopt;
    }
  }
  if (!consume_prefix(name, "pod") || !consume_suffix(name, ".slice") || !is_pod_uid(name)) {
    return std::nullopt;
  }
  return PodDir{j, name};
}

// A container inside a pod: "<runtime>-<id>.scope" (systemd driver) or
// "[<runtime>-]<id>" (cgroupfs). CRI-O's "crio-conmon-<id>.scope" and
// anything else in the pod's cgroup are the pod's own.
bool is_pod_container(std::string_view name) {
  consume_suffix(name, ".scope");
  for (std::string_view runtime : {"cri-containerd-", "crio-", "docker-"}) {
    if (consume_prefix(name, runtime)) break;
  }
  return non_empty_all(name, is_hex);
}

std::optional<Found> kubernetes(const Segments& segs) {
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view root = segs[i].name;
    std::optional<PodDir> pod;
    if (root == "kubepods") {
      pod = cgroupfs_pod(segs, i + 1);
    } else if (consume_suffix(root, ".slice") && (root == "kubepods" || root.ends_with("-kubepods"))) {
      pod = systemd_pod(segs, i + 1, root);
    }
    if (!pod) continue;
    Found found{"kubernetes", std::string(pod->uid), segs[pod->index].end};
    std::replace(found.workload_id.begin(), found.workload_id.end(), '_', '-');
    const size_t c = pod->index + 1;
    if (c < segs.size() && is_pod_container(segs[c].name)) found.inner_end = segs[c].end;
    return found;
  }
  return std::nullopt;
}

// --- Slurm ------------------------------------------------------------------

// "job_<id>", "job_<SLUID>" or a bare SLUID: the job's id; empty otherwise.
std::string_view slurm_job(std::string_view name) {
  if (consume_prefix(name, "job_")) return is_decimal(name) || is_sluid(name) ? name : std::string_view();
  return is_sluid(name) ? name : std::string_view();
}

// Steps are numbers, batch, extern, interactive, or "<n>+<component>" in
// heterogeneous jobs: any non-empty name is taken as it is.
Found slurm_job_found(const Segments& segs, size_t job, std::string_view job_id) {
  Found found{"slurm", std::string(job_id), segs[job].end};
  if (job + 1 < segs.size()) {
    std::string_view step = segs[job + 1].name;
    if (consume_prefix(step, "step_") && !step.empty()) {
      found.inner_end = segs[job + 1].end;
      found.step = step;
    }
  }
  return found;
}

bool is_slurmstepd_scope(std::string_view name) {
  if (name == "slurmstepd.scope") return true;
  return consume_suffix(name, "_slurmstepd.scope") && !name.empty();  // multiple-slurmd nodes
}

std::optional<Found> slurm(const Segments& segs) {
  // cgroup v1: each controller hierarchy has /slurm[_<node>]/uid_<uid>/job_<id>/step_<s>.
  if (segs.size() >= 3) {
    std::string_view top = segs[0].name;
    std::string_view uid = segs[1].name;
    if ((top == "slurm" || (consume_prefix(top, "slurm_") && !top.empty())) && consume_prefix(uid, "uid_") &&
        is_decimal(uid)) {
      const std::string_view job = slurm_job(segs[2].name);
      if (!job.empty()) return slurm_job_found(segs, 2, job);
    }
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    if (!is_slurmstepd_scope(segs[i].name)) continue;
    if (i + 1 < segs.size()) {
      const std::string_view job = slurm_job(segs[i + 1].name);
      if (!job.empty()) return slurm_job_found(segs, i + 1, job);
    }
    // The scope itself and its "system" child hold slurmstepd processes,
    // which belong to no job.
    return Found{"systemd", std::string(segs[i].name), segs[i].end};
  }
  return std::nullopt;
}

// --- Podman, Docker ---------------------------------------------------------

// "libpod-<id>.scope" (systemd cgroup manager) or "libpod-<id>" (cgroupfs):
// the container's id; empty for anything else, "libpod-conmon-<id>.scope"
// (the container's monitor) included.
std::string_view libpod_container(std::string_view name) {
  if (!consume_prefix(name, "libpod-")) return {};
  consume_suffix(name, ".scope");
  return is_container_id(name) ? name : std::string_view();
}

// Anywhere in the path: below machine.slice (rootful, systemd manager), a
// user's systemd instance (rootless), /libpod_parent (cgroupfs manager, the
// default without systemd), a pod's cgroup or any --cgroup-parent.
std::optional<Found> podman(const Segments& segs) {
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string_view id = libpod_container(segs[i].name);
    if (!id.empty()) return Found{"podman", std::string(id), segs[i].end};
  }
  return std::nullopt;
}

// Anywhere in the path, so that custom --cgroup-parent values, rootless
// Docker and Docker inside another container are recognised too:
// "docker/<id>" (cgroupfs driver) or "docker-<id>.scope" (systemd driver).
std::optional<Found> docker(const Segments& segs) {
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view name = segs[i].name;
    if (name == "docker" && i + 1 < segs.size() && is_container_id(segs[i + 1].name)) {
      return Found{"docker", std::string(segs[i + 1].name), segs[i + 1].end};
    }
    if (consume_prefix(name, "docker-") && consume_suffix(name, ".scope") && is_container_id(name)) {
      return Found{"docker", std::string(name), segs[i].end};
    }
  }
  return std::nullopt;
}

// containerd's own clients (nerdctl, ctr) outside Kubernetes: the cgroupfs
// driver puts a container in "/<namespace>/<id>" (namespaces "default",
// or "k8s.io" for images shared with the kubelet), the systemd driver in
// "nerdctl-<id>.scope".
std::optional<Found> containerd(const Segments& segs) {
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view name = segs[i].name;
    if ((name == "default" || name == "k8s.io") && i == 0 && i + 1 < segs.size() && is_container_id(segs[i + 1].name)) {
      return Found{"containerd", std::string(segs[i + 1].name), segs[i + 1].end};
    }
    if (consume_prefix(name, "nerdctl-") && consume_suffix(name, ".scope") && is_container_id(name)) {
      return Found{"containerd", std::string(name), segs[i].end};
    }
  }
  return std::nullopt;
}

// --- libvirt ----------------------------------------------------------------

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// systemd writes characters unit names cannot hold as \xNN ('-' too, as
// it separates slice levels).
std::string unescape_unit_name(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && is_hex(s[i + 2]) && is_hex(s[i + 3])) {
      out.push_back(static_cast<char>(hex_value(s[i + 2]) * 16 + hex_value(s[i + 3])));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// machined names a VM's scope "machine-<driver>-<domain id>-<name>.scope"
// (libvirt before 1.3 left out the id); the name may contain dashes.
std::optional<std::string> libvirt_domain(std::string_view name) {
  if (!consume_prefix(name, "machine-") || !consume_suffix(name, ".scope")) return std::nullopt;
  if (!name.starts_with("qemu\\x2d") && !name.starts_with("lxc\\x2d")) return std::nullopt;
  std::string machine = unescape_unit_name(name);
  std::string_view rest = machine;
  if (!consume_prefix(rest, "qemu-") && !consume_prefix(rest, "lxc-")) return std::nullopt;
  const size_t digits = static_cast<size_t>(std::find_if_not(rest.begin(), rest.end(), is_digit) - rest.begin());
  if (digits > 0 && digits < rest.size() && rest[digits] == '-') rest.remove_prefix(digits + 1);
  if (rest.empty()) return std::nullopt;
  return std::string(rest);
}

std::optional<Found> libvirt(const Segments& segs) {
  for (size_t i = 0; i < segs.size(); ++i) {
    if (auto domain = libvirt_domain(segs[i].name)) {
      return Found{"libvirt", std::move(*domain), segs[i].end};
    }
  }
  return std::nullopt;
}

// --- systemd ----------------------------------------------------------------

// The outermost service or scope: below it, cgroups are the unit's own
// (delegated subtrees, a user manager's units).
std::optional<Found> systemd(const Segments& segs) {
  for (const Segment& seg : segs) {
    std::string_view stem = seg.name;
    if ((consume_suffix(stem, ".service") || consume_suffix(stem, ".scope")) && !stem.empty()) {
      return Found{"systemd", std::string(seg.name), seg.end};
    }
  }
  return std::nullopt;
}

using Rule = std::optional<Found> (*)(const Segments&);
constexpr Rule kRules[] = {kubernetes, slurm, podman, docker, containerd, libvirt, systemd};

WorkloadIdentity identity(std::string_view path, AggregateMode mode, Found found) {
  WorkloadIdentity id{std::string(found.workload), std::move(found.workload_id), {}, {}};
  switch (mode) {
    case AggregateMode::unit:
      id.unit_path = path.substr(0, found.unit_end);
      break;
    case AggregateMode::step:
      if (found.inner_end != 0) {
        id.unit_path = path.substr(0, found.inner_end);
        id.step = found.step;
      } else {
        id.unit_path = path.substr(0, found.unit_end);
      }
      break;
    case AggregateMode::leaf:
      id.unit_path = path;
      break;
  }
  if (id.unit_path.empty()) id.unit_path = "/";
  return id;
}

std::string lowercase_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

}  // namespace

struct CompiledWorkloadPattern {
  boost::regex re;

  std::optional<Found> match(std::string_view path) const {
    boost::cmatch m;
    try {
      if (!boost::regex_search(path.data(), path.data() + path.size(), m, re)) return std::nullopt;
    } catch (const std::runtime_error&) {
      // Boost gives up on patterns that backtrack too much; the built-in
      // rules still apply.
      return std::nullopt;
    }
    const auto& id = m["workload_id"];
    if (!id.matched || id.length() == 0) return std::nullopt;
    const auto& workload = m["workload"];
    Found found{"custom", id.str(), 0};
    if (workload.matched && workload.length() > 0) {
      found.workload = std::string_view(workload.first, static_cast<size_t>(workload.length()));
    }
    // The unit is the cgroup the match ends in: a match that ends with a
    // slash ends in the cgroup before it.
    const size_t end = static_cast<size_t>(m[0].second - path.data());
    if (end > 0 && path[end - 1] == '/') {
      found.unit_end = end - 1;
    } else {
      const size_t slash = path.find('/', end);
      found.unit_end = slash == std::string_view::npos ? path.size() : slash;
    }
    return found;
  }
};

std::optional<AggregateMode> parse_aggregate_mode(std::string_view text) {
  if (text == "unit") return AggregateMode::unit;
  if (text == "step") return AggregateMode::step;
  if (text == "leaf") return AggregateMode::leaf;
  return std::nullopt;
}

std::string_view to_string(AggregateMode mode) {
  switch (mode) {
    case AggregateMode::unit:
      return "unit";
    case AggregateMode::step:
      return "step";
    case AggregateMode::leaf:
      return "leaf";
  }
  return "unit";
}

Result<WorkloadPattern> WorkloadPattern::compile(const std::string& pattern) {
  WorkloadPattern compiled;
  if (pattern.empty()) return compiled;
  auto custom = std::make_shared<CompiledWorkloadPattern>();
  try {
    custom->re.assign(pattern, boost::regex::perl);
  } catch (const boost::regex_error& e) {
    const auto position = static_cast<size_t>(std::max<std::ptrdiff_t>(e.position(), 0));
    std::string reason = boost::regex_traits<char>().error_string(e.code());
    if (!reason.empty() && reason.back() == '.') reason.pop_back();
    // Python's spelling of named groups is the likeliest mistake.
    if (std::string_view(pattern).substr(std::min(position, pattern.size())).starts_with("(?P<")) {
      reason += " (name groups as (?<name>...))";
    }
    return bad_input("at position " + std::to_string(position) + ": " + lowercase_first(reason));
  }
  // Boost keeps the names of groups only as hashes, looked up by name.
  const auto& names = *custom->re.get_named_subs();
  static constexpr std::string_view kIdGroup = "workload_id";
  if (names.get_id(kIdGroup.data(), kIdGroup.data() + kIdGroup.size()) < 0) {
    return bad_input("it has no named group workload_id, as in (?<workload_id>[^/]+)");
  }
  compiled.text_ = pattern;
  compiled.compiled_ = std::move(custom);
  return compiled;
}

Result<WorkloadClassifier> WorkloadClassifier::create(const std::string& custom_pattern, AggregateMode mode) {
  auto pattern = WorkloadPattern::compile(custom_pattern);
  if (!pattern)
    return std::move(pattern).error().context("invalid " + std::string(kPatternFlag) + " \"" + custom_pattern + "\"");
  return WorkloadClassifier(std::move(*pattern), mode);
}

WorkloadIdentity WorkloadClassifier::classify(std::string_view path) const {
  if (custom_.compiled_) {
    // A custom unit has no finer level (inner_end stays 0), so step mode
    // counts it as a unit.
    if (auto found = custom_.compiled_->match(path)) return identity(path, mode_, std::move(*found));
  }
  const Segments segs = split(path);
  for (Rule rule : kRules) {
    if (auto found = rule(segs)) return identity(path, mode_, std::move(*found));
  }
  return WorkloadIdentity{std::string(kUnrecognised), std::string(path), std::string(path), {}};
}

}  // namespace cgio
