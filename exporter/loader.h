// Chooses, loads and attaches one implementation per operation.
//
// For every operation the loader tries the catalogue's implementations in
// order, skipping those the kernel cannot offer (with the reason). All
// chosen programs of one BPF object are loaded together; if that load fails,
// each operation is retried in an object of its own, so one program the
// verifier rejects never takes the others down. An operation whose load or
// attach fails moves on to its next implementation. Every decision is
// logged and kept in the result for cgio_bpf_program_attached.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "programs.h"
#include "result.h"

namespace cgio {

// One loaded BPF object instance: attaches and detaches its programs.
class LoadedObject {
 public:
  virtual ~LoadedObject() = default;
  virtual Result<void> attach(std::string_view program) = 0;
  virtual void detach(std::string_view program) = 0;
  virtual bool has_links() const = 0;
};

// Opens an embedded object with only `programs` enabled and loads it.
class ObjectLoader {
 public:
  virtual ~ObjectLoader() = default;
  virtual Result<std::unique_ptr<LoadedObject>> load(
      const BpfObjectSpec& object, const std::vector<std::string_view>& programs) = 0;
};

struct OperationStatus {
  std::string operation;
  Domain domain = Domain::vfs;
  bool attached = false;
  const Implementation* chosen = nullptr;  // set when attached
  // One line per implementation that was skipped or failed, in order tried.
  std::vector<std::string> attempts;

  // Probe type shown in metrics: the chosen one, else the last one tried.
  std::string probe_type_label() const;
  ProbeType last_tried = ProbeType::tracepoint;
};

struct LoadedPrograms {
  std::vector<OperationStatus> operations;
  std::vector<std::unique_ptr<LoadedObject>> objects;  // keep links alive

  size_t attached_count() const;
};

// `wanted` lists the operations to count; `candidates` is the catalogue (or a
// test table). Never throws; failures are in the returned statuses.
LoadedPrograms load_programs(const std::vector<std::string_view>& wanted,
                             std::span<const Implementation> candidates,
                             const KernelFacts& kernel, ObjectLoader& loader);

}  // namespace cgio
