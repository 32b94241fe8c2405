#include "collectors/cgroup_counters.h"

#include <stdexcept>

namespace cgio {

CgroupCountersCollector::CgroupCountersCollector(std::string name, CounterDomain domain,
                                                 std::vector<MetricSpec> metrics, std::shared_ptr<CounterSource> source,
                                                 std::shared_ptr<CgroupTracker> tracker,
                                                 std::shared_ptr<const CgroupSpace> space)
    : name_(std::move(name)),
      domain_(domain),
      metrics_(std::move(metrics)),
      source_(std::move(source)),
      tracker_(std::move(tracker)),
      space_(std::move(space)) {
  for (const MetricSpec& m : metrics_) {
    std::vector<std::string> rendered;
    for (const SeriesSpec& s : m.series) {
      std::string labels;
      for (const auto& [k, v] : s.labels) {
        if (!labels.empty()) labels.push_back(',');
        ExpositionWriter::append_label(labels, k, v);
      }
      rendered.push_back(std::move(labels));
    }
    extra_.push_back(std::move(rendered));
  }
}

CgroupCountersCollector::Stats CgroupCountersCollector::collect(ExpositionWriter& out) const {
  std::lock_guard lock(mutex_);
  if (auto r = source_->read(snapshot_); !r) throw std::runtime_error(name_ + " map: " + r.error().message);
  tracker_->aggregate(domain_, snapshot_, aggregate_);
  // Ids the tracker had not seen (created since the last event was handled):
  // ask the kernel for their path, and aggregate again if that named any.
  bool resolved = false;
  for (uint64_t id : aggregate_.unknown) {
    if (auto path = space_->resolve(id)) {
      tracker_->discovered(id, *path);
      resolved = true;
    }
  }
  if (resolved) tracker_->aggregate(domain_, snapshot_, aggregate_);

  const auto& agg = aggregate_;
  // The extra labels (family, protocol, mountpoint) follow the workload
  // labels; the format does not require sorted labels.
  for (size_t m = 0; m < metrics_.size(); ++m) {
    const MetricSpec& spec = metrics_[m];
    out.family(spec.name, spec.help, "counter");
    for (size_t i = 0; i < agg.labels.size(); ++i) {
      const auto row = agg.row(i);
      for (size_t s = 0; s < spec.series.size(); ++s) {
        const size_t c = spec.series[s].counter;
        out.sample(spec.name, *agg.labels[i], extra_[m][s], c < row.size() ? row[c] : 0);
      }
    }
  }
  return {agg.unknown.size(), snapshot_.keys.size(), source_->capacity()};
}

}  // namespace cgio
