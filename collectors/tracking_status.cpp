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
  if (events_lost_) {
    out.push_back(single("cgio_cgroup_events_lost_total",
                         "cgroup creation/removal events the kernel could not queue; the exporter then walks the "
                         "hierarchy to catch up (a removal found that way is still folded, only later).",
                         prometheus::MetricType::Counter, static_cast<double>(events_lost_())));
  }
  return out;
}

}  // namespace cgio
