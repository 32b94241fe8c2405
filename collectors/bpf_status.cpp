#include "collectors/bpf_status.h"

#include <bpf/bpf.h>

#include <stdexcept>

#include "collectors/families.h"

#include "contracts/common.h"

namespace cgio {
namespace {

uint64_t recursion_misses(int fd) {
  if (fd < 0) return 0;
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return 0;
  return info.recursion_misses;
}

}  // namespace

BpfStatusCollector::BpfStatusCollector(std::string kernel_release, std::vector<ProgramStatusRow> programs,
                                       std::function<Result<std::vector<uint64_t>>()> read_map_full,
                                       std::vector<std::string> map_names)
    : kernel_release_(std::move(kernel_release)),
      programs_(std::move(programs)),
      read_map_full_(std::move(read_map_full)),
      map_names_(std::move(map_names)) {}

std::vector<prometheus::MetricFamily> BpfStatusCollector::Collect() const {
  auto lost = read_map_full_();
  if (!lost) throw std::runtime_error("cgio_map_full map: " + lost.error().message);

  prometheus::MetricFamily attached =
      family("cgio_bpf_program_attached",
             "1 if the BPF programs counting this operation are attached, 0 if the "
             "operation is not counted (see the exporter's log for why); probe_type and variant "
             "name the implementation in use, or the last one tried.",
             prometheus::MetricType::Gauge);
  for (const ProgramStatusRow& p : programs_) {
    add_sample(attached, {{"probe_type", p.probe_type}, {"program", p.program}, {"variant", p.variant}},
               p.attached ? 1 : 0);
  }

  prometheus::MetricFamily status =
      family("cgio_bpf_program_status",
             "1 for every probe type considered for an operation, with what became of it: "
             "attached, usable, prototype_mismatch (no variant matches the kernel's BTF), "
             "requirement_missing, probe_refused (a trivial program of the type did not load or "
             "attach), load_failed, attach_failed. The log has the full reason.",
             prometheus::MetricType::Gauge);
  for (const ProgramStatusRow& p : programs_) {
    for (const AttemptRow& a : p.attempts) {
      add_sample(status,
                 {{"probe_type", a.probe_type}, {"program", p.program}, {"status", a.status}, {"variant", a.variant}},
                 1);
    }
  }

  prometheus::MetricFamily full = family(
      "cgio_bpf_map_full_total", "Counter updates lost because the counter map was full: raise --bpf.map-entries.",
      prometheus::MetricType::Counter);
  prometheus::MetricFamily failed =
      family("cgio_bpf_map_update_failures_total",
             "Counter updates lost because the kernel refused a new cgroup's entry for another "
             "reason than a full map: nomem (no memory for the entry at that moment), busy (the "
             "map's bucket was locked by an interrupted update), other.",
             prometheus::MetricType::Counter);
  static const char* const reasons[CGIO_LOST_MAX] = {"full", "nomem", "busy", "other"};
  for (size_t map = 0; map < map_names_.size(); ++map) {
    if (map_names_[map].empty()) continue;
    for (size_t reason = 0; reason < CGIO_LOST_MAX; ++reason) {
      const size_t slot = map * CGIO_LOST_MAX + reason;
      const double value = slot < lost->size() ? static_cast<double>((*lost)[slot]) : 0;
      if (reason == CGIO_LOST_FULL) {
        add_sample(full, {{"map", map_names_[map]}}, value);
      } else {
        add_sample(failed, {{"map", map_names_[map]}, {"reason", reasons[reason]}}, value);
      }
    }
  }
  prometheus::MetricFamily misses =
      family("cgio_bpf_program_misses_total",
             "Times the kernel skipped running one of this operation's programs because a BPF "
             "program was already running on that CPU (recursion protection): operations not "
             "counted. Kernels before 5.12 do not report it.",
             prometheus::MetricType::Counter);
  for (const ProgramStatusRow& p : programs_) {
    if (!p.attached) continue;
    uint64_t total = 0;
    for (int fd : p.program_fds) total += recursion_misses(fd);
    add_sample(misses, {{"program", p.program}}, static_cast<double>(total));
  }

  prometheus::MetricFamily kernel =
      family("cgio_kernel_info", "Release of the running kernel (uname -r); always 1.", prometheus::MetricType::Gauge);
  add_sample(kernel, {{"release", kernel_release_}}, 1);
  return {std::move(attached), std::move(status), std::move(full),
          std::move(failed),   std::move(misses), std::move(kernel)};
}

}  // namespace cgio
