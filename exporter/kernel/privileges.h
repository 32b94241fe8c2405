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

// perf_event_open refused with `err`, when the cause is not a missing
// CAP_PERFMON: Debian's and Ubuntu's kernels carry a patch that makes
// kernel.perf_event_paranoid=3 (their default) refuse perf events to every
// process without CAP_SYS_ADMIN, so a non-root exporter with CAP_PERFMON
// cannot attach kprobes or tracepoints. A sentence naming the sysctl, or ""
// when that is not why.
std::string perf_event_refusal_hint(int err, int paranoid, uint64_t effective);
// The same for this process (<procfs>/sys/kernel/perf_event_paranoid and its
// CapEff).
std::string perf_event_refusal_hint(int err, const std::string& procfs = "/proc");

}  // namespace cgio
