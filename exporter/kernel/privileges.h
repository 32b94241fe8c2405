// The capabilities loading BPF programs needs, checked up front so a
// missing one is named instead of surfacing as EPERM from libbpf.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace cgio {

// CapEff from <procfs>/self/status.
Result<uint64_t> effective_capabilities(const std::string& procfs);

// Ok with CAP_SYS_ADMIN, or with both CAP_BPF and CAP_PERFMON, and with
// CAP_DAC_READ_SEARCH; otherwise an error naming what is missing.
Result<void> check_bpf_capabilities(uint64_t effective);

}  // namespace cgio
