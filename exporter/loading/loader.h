// Loads and attaches one implementation per operation, following the plan.
//
// For every operation the loader tries the plan's usable choices in order
// (the unusable ones are recorded with their reason). All chosen programs of
// one BPF object are loaded together; if that load fails, each operation is
// retried in an object of its own, so one program the verifier rejects never
// takes the others down. An operation whose load or attach fails moves on to
// its next choice. Every decision is logged and kept in the result for
// cgio_bpf_program_attached.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loading/plan.h"
#include "loading/programs.h"
#include "util/result.h"

namespace cgio {

// One loaded BPF object instance: attaches and detaches its programs.
class LoadedObject {
 public:
  virtual ~LoadedObject() = default;
  virtual Result<void> attach(std::string_view program) = 0;
  virtual void detach(std::string_view program) = 0;
  virtual bool has_links() const = 0;
  // The kernel's descriptor of a loaded program (-1 if unknown), for its
  // run statistics.
  virtual int program_fd(std::string_view program) const = 0;
  // Pins the links of the attached programs under `dir`, so they outlive
  // the process (maps/pin_dir.h).
  virtual Result<void> pin_links(const std::string& dir) { return Error{"links of " + dir + " cannot be pinned"}; }
};

// Opens an embedded object with only `programs` enabled and loads it.
class ObjectLoader {
 public:
  virtual ~ObjectLoader() = default;
  virtual Result<std::unique_ptr<LoadedObject>> load(const BpfObjectSpec& object,
                                                     const std::vector<std::string_view>& programs) = 0;
};

// One probe type considered for an operation, and what became of it.
struct Attempt {
  ProbeType type = ProbeType::tracepoint;
  std::string variant;  // empty when no variant matched
  AttemptStatus status = AttemptStatus::usable;
  std::string reason;  // empty when attached

  std::string describe() const;  // "fentry/flags: reason"
};

struct OperationStatus {
  std::string operation;
  ProgramGroup group = ProgramGroup::vfs;
  bool attached = false;
  const Implementation* chosen = nullptr;  // set when attached
  std::vector<int> program_fds;            // the attached programs (owned by the objects)
  // In the order tried; the last one is the attached one when attached.
  std::vector<Attempt> attempts;

  // Probe type and variant shown in metrics: the chosen ones, else the last tried.
  std::string probe_type_label() const;
  std::string variant_label() const;
};

struct LoadedPrograms {
  std::vector<OperationStatus> operations;
  std::vector<std::unique_ptr<LoadedObject>> objects;  // keep links alive

  size_t attached_count() const;
  // Pins every attached program's link under `dir` (created).
  Result<void> pin_links(const std::string& dir) const;
};

// Never throws; failures are in the returned statuses.
LoadedPrograms load_programs(const std::vector<OperationPlan>& plan, ObjectLoader& loader);

}  // namespace cgio
