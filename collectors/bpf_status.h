// The exporter's own BPF state: which operations are counted, by which
// probe type and variant, and how many counter updates were lost because a
// map was full.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "util/result.h"

namespace cgio {

struct AttemptRow {
  std::string probe_type;
  std::string variant;
  std::string status;  // attached, prototype_mismatch, probe_refused, ...
};

struct ProgramStatusRow {
  std::string program;  // operation, e.g. "vfs_read"
  std::string probe_type;
  std::string variant;  // chosen, else last tried; empty when none was
  bool attached = false;
  std::vector<AttemptRow> attempts;  // every probe type considered, in preference order
  std::vector<int> program_fds{};    // attached programs, for their run statistics
};

class BpfStatusCollector final : public prometheus::Collectable {
 public:
  // `read_map_full` returns the lost-update counts indexed as the
  // cgio_map_full array (map * CGIO_LOST_MAX + reason, contracts/common.h).
  BpfStatusCollector(std::string kernel_release, std::vector<ProgramStatusRow> programs,
                     std::function<Result<std::vector<uint64_t>>()> read_map_full, std::vector<std::string> map_names);

  // `read_misses` returns how often the kernel skipped a program's run
  // (bpf_prog_info.recursion_misses) for the given program descriptors.
  // Throws std::runtime_error when the lost-update counters cannot be read.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string kernel_release_;
  std::vector<ProgramStatusRow> programs_;
  std::function<Result<std::vector<uint64_t>>()> read_map_full_;
  std::vector<std::string> map_names_;  // map label per cgio_map_id that exists
};

}  // namespace cgio
