// Workload identity from cgroup paths (WorkloadClassifier::classify) and
// site patterns (WorkloadPattern::compile). Input: a pattern, a NUL, then
// cgroup paths separated by NULs; no NUL: the input is one path and there
// is no pattern.
// Invariants, per path and mode: the unit is the path or one of its
// ancestors (a prefix ending at a '/'), the root reading "/"; leaf mode's
// unit is the path itself; the modes nest (unit's unit contains step's,
// which contains leaf's); a step is named only in step mode, for Slurm; an
// unrecognised path is its own id and unit. A rejected pattern says why in
// one line.
#include <string>

#include "cgroups/workloads.h"
#include "fuzz_support.h"

namespace {

using cgio::AggregateMode;
using cgio::WorkloadIdentity;

bool is_ancestor_or_self(std::string_view unit, std::string_view path) {
  if (unit == "/") return true;
  return path.starts_with(unit) && (path.size() == unit.size() || path[unit.size()] == '/');
}

void check(const WorkloadIdentity& who, std::string_view path, AggregateMode mode) {
  FUZZ_CHECK(!who.workload.empty());
  if (!cgio::recognised(who)) {
    FUZZ_CHECK(who.workload_id == path && who.unit_path == path && who.step.empty());
    return;
  }
  FUZZ_CHECK(!who.workload_id.empty());
  FUZZ_CHECK(!who.unit_path.empty());
  FUZZ_CHECK(is_ancestor_or_self(who.unit_path, path));
  if (mode == AggregateMode::leaf) FUZZ_CHECK(who.unit_path == path || (path.empty() && who.unit_path == "/"));
  if (!who.step.empty()) FUZZ_CHECK(mode == AggregateMode::step && who.workload == "slurm");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = cgio::fuzz::as_text(data, size);
  const size_t nul = text.find('\0');
  const std::string pattern(nul == std::string_view::npos ? std::string_view() : text.substr(0, nul));
  // Long patterns mostly measure Boost's backtracking limits, not ours.
  if (pattern.size() > 256) return -1;
  auto compiled = cgio::WorkloadPattern::compile(pattern);
  if (!compiled) {
    const std::string& why = compiled.error().message;
    FUZZ_CHECK(!why.empty() && why.find('\n') == std::string::npos);
    return 0;
  }
  FUZZ_CHECK(compiled->text() == pattern);
  const cgio::WorkloadClassifier unit(*compiled, AggregateMode::unit);
  const cgio::WorkloadClassifier step(*compiled, AggregateMode::step);
  const cgio::WorkloadClassifier leaf(*compiled, AggregateMode::leaf);
  const std::string_view paths_text = nul == std::string_view::npos ? text : text.substr(nul + 1);
  for (const std::string_view path : cgio::fuzz::split_nul(paths_text)) {
    const WorkloadIdentity u = unit.classify(path), s = step.classify(path), l = leaf.classify(path);
    check(u, path, AggregateMode::unit);
    check(s, path, AggregateMode::step);
    check(l, path, AggregateMode::leaf);
    // The mode only chooses how much of the path is the unit.
    FUZZ_CHECK(u.workload == s.workload && s.workload == l.workload);
    FUZZ_CHECK(u.workload_id == s.workload_id && s.workload_id == l.workload_id);
    if (cgio::recognised(u)) {
      FUZZ_CHECK(is_ancestor_or_self(u.unit_path, s.unit_path));
      FUZZ_CHECK(is_ancestor_or_self(s.unit_path, l.unit_path));
    }
  }
  return 0;
}
