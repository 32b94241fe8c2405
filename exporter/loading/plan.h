// The plan: for every wanted operation, the probe types in order of
// preference and, for each, the kernel variant to use or why there is none.
//
// A variant is chosen from the catalogue's version table and verified
// against the kernel's BTF (arity, return and parameter types of every
// hooked function). When the version's choice does not verify and another
// variant does, BTF wins and the plan says so: distribution kernels backport
// prototype changes. With real probing (at start-up), each usable choice is
// also checked by loading and attaching a trivial program at its first hook.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loading/programs.h"

namespace cgio {

// What became of one probe type for one operation: a bounded set, exported
// as the `status` label of cgio_bpf_program_status.
enum class AttemptStatus {
  attached,             // counting with it
  usable,               // planned; not loaded (yet)
  prototype_mismatch,   // no variant's prototypes match the kernel's BTF
  requirement_missing,  // the kernel lacks a helper or tracepoint it needs
  probe_refused,        // a trivial program of this type did not load or attach
  load_failed,          // the verifier or libbpf refused the real programs
  attach_failed,        // loaded, but attaching failed
};
std::string_view to_string(AttemptStatus status);

struct Choice {
  ProbeType type = ProbeType::tracepoint;
  const Implementation* impl = nullptr;  // the variant chosen (may be set even when unusable)
  std::string version_variant;           // what the version table expected ("" if none)
  AttemptStatus status = AttemptStatus::usable;
  std::string reason;  // empty when usable
  std::string note;    // e.g. BTF overruled the version table

  bool usable() const { return impl != nullptr && status == AttemptStatus::usable; }
  std::string variant() const { return impl != nullptr ? std::string(impl->variant) : std::string(); }
};

struct OperationPlan {
  std::string operation;
  ProgramGroup group = ProgramGroup::vfs;
  std::vector<Choice> choices;  // in the order they will be tried
};

// `only`: a forced probe type (--bpf.probe-type), or nullopt for auto.
std::vector<OperationPlan> make_plan(const std::vector<std::string_view>& operations,
                                     std::span<const Implementation> candidates, const KernelFacts& kernel,
                                     std::optional<ProbeType> only);

// The --print-plan table.
std::string render_plan(const std::vector<OperationPlan>& plan, const KernelFacts& kernel,
                        std::optional<ProbeType> only);

}  // namespace cgio
