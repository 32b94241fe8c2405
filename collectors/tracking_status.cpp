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
                                                 std::function<uint64_t()> events_lost,
                                                 std::function<AccountingWriter::Stats()> accounting)
    : tracker_(std::move(tracker)), events_lost_(std::move(events_lost)), accounting_(std::move(accounting)) {}

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
  if (accounting_) {
    const AccountingWriter::Stats a = accounting_();
    using prometheus::MetricType;
    out.push_back(single("cgio_accounting_records_written_total",
                         "Accounting records written to --accounting.file (and fsynced) since the exporter started.",
                         MetricType::Counter, static_cast<double>(a.written)));
    out.push_back(single("cgio_accounting_records_pending",
                         "Accounting records waiting to be written: the next group commit's, or records the file "
                         "refused (retried until written).",
                         MetricType::Gauge, static_cast<double>(a.pending)));
    out.push_back(single("cgio_accounting_records_dropped_total",
                         "Accounting records lost because the queue of pending records was full (each logged, "
                         "with its line).",
                         MetricType::Counter, static_cast<double>(a.dropped)));
    out.push_back(single("cgio_accounting_write_errors_total",
                         "Attempts to write accounting records that failed (disk full, read-only filesystem, "
                         "I/O error); their records were kept and retried.",
                         MetricType::Counter, static_cast<double>(a.write_errors)));
    if (!a.last_error.empty()) {
      prometheus::MetricFamily f =
          family("cgio_accounting_last_error_timestamp_seconds",
                 "When writing accounting records last failed (Unix time), with the error.", MetricType::Gauge);
      const double at = std::chrono::duration<double>(a.last_error_at.time_since_epoch()).count();
      add_sample(f, {{"error", a.last_error}}, at);
      out.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace cgio
