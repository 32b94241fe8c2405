#include "collectors/tracking_status.h"

#include "collectors/families.h"

namespace cgio {
namespace {

prometheus::MetricFamily single(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::MetricFamily f = family(name, help, type);
  add_sample(f, {}, value);
  return f;
}

}  // namespace

TrackingStatusCollector::TrackingStatusCollector(std::shared_ptr<const CgroupTracker> tracker,
                                                 std::function<uint64_t()> events_lost)
    : tracker_(std::move(tracker)), events_lost_(std::move(events_lost)) {}

std::vector<prometheus::MetricFamily> TrackingStatusCollector::Collect() const {
  const auto st = tracker_->stats();
  std::vector<prometheus::MetricFamily> out;
  out.push_back(single("cgio_cgroups_tracked", "Cgroups that exist and are tracked (their I/O is charged to a unit).",
                       prometheus::MetricType::Gauge, static_cast<double>(st.cgroups_tracked)));
  out.push_back(single("cgio_units_ended_total",
                       "Units (jobs, pods, containers, services, ...) whose cgroup was removed since the exporter "
                       "started; their final totals were kept.",
                       prometheus::MetricType::Counter, static_cast<double>(st.units_ended)));
  out.push_back(single("cgio_units_retained",
                       "Units that ended and still report their final totals (--cgroup.retain-ended).",
                       prometheus::MetricType::Gauge, static_cast<double>(st.series_retained)));
  prometheus::MetricFamily info = family(
      "cgio_workload_info",
      "One series per unit reported (alive or retained), value 1: its names from what the node holds (Slurm user, "
      "uid, job_name, account, partition; pod namespace, pod, container; container name), to join on workload_id.",
      prometheus::MetricType::Gauge);
  for (const auto& [key, labels] : tracker_->unit_info()) {
    std::vector<prometheus::ClientMetric::Label> all = {
        {"cgroup", key.cgroup}, {"workload", key.workload}, {"workload_id", key.workload_id}};
    if (!key.step.empty()) all.push_back({"step", key.step});
    for (const auto& [name, value] : labels) all.push_back({name, value});
    add_sample(info, all, 1);
  }
  out.push_back(std::move(info));
  if (events_lost_) {
    out.push_back(single("cgio_cgroup_events_lost_total",
                         "cgroup creation/removal events the kernel could not queue; the exporter then walks the "
                         "hierarchy to catch up (a removal found that way is still folded, only later).",
                         prometheus::MetricType::Counter, static_cast<double>(events_lost_())));
  }
  return out;
}

}  // namespace cgio
