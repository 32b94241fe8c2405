#include "cgroup_counters.h"

#include <algorithm>
#include <stdexcept>

namespace cgio {

CgroupCountersCollector::CgroupCountersCollector(std::string name, CounterDomain domain,
                                                 std::vector<MetricSpec> metrics,
                                                 std::shared_ptr<CounterSource> source,
                                                 std::shared_ptr<CgroupTracker> tracker,
                                                 std::shared_ptr<const CgroupHierarchy> hierarchy)
    : name_(std::move(name)),
      domain_(domain),
      metrics_(std::move(metrics)),
      source_(std::move(source)),
      tracker_(std::move(tracker)),
      hierarchy_(std::move(hierarchy)) {}

std::vector<prometheus::ClientMetric::Label> series_labels(const SeriesKey& key, const SeriesSpec& spec) {
  std::vector<prometheus::ClientMetric::Label> labels;
  labels.reserve(spec.labels.size() + 4);
  labels.push_back({"cgroup", key.cgroup});
  if (!key.step.empty()) labels.push_back({"step", key.step});
  labels.push_back({"workload", key.workload});
  labels.push_back({"workload_id", key.workload_id});
  for (const auto& [k, v] : spec.labels) labels.push_back({k, v});
  std::sort(labels.begin(), labels.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return labels;
}

std::vector<prometheus::MetricFamily> CgroupCountersCollector::Collect() const {
  auto snapshot = source_->read();
  if (!snapshot) throw std::runtime_error(name_ + " map: " + snapshot.error());
  const CounterSnapshot& snap = *snapshot;

  // Ids the tracker has not seen yet (created since the last event was
  // handled): ask the kernel for their path before aggregating.
  for (size_t i = 0; i < snap.keys.size(); ++i) {
    const uint64_t id = snap.keys[i];
    if (i > 0 && snap.keys[i - 1] == id) continue;
    if (tracker_->knows(id)) continue;
    if (auto path = hierarchy_->resolve(id)) tracker_->discovered(id, *path);
  }
  const auto agg = tracker_->aggregate(domain_, snap);

  std::vector<prometheus::MetricFamily> families;
  families.reserve(metrics_.size() + 2);
  for (const MetricSpec& spec : metrics_) {
    prometheus::MetricFamily family;
    family.name = spec.name;
    family.help = spec.help;
    family.type = prometheus::MetricType::Counter;
    family.metric.reserve(agg.series.size() * spec.series.size());
    for (const auto& [key, sums] : agg.series) {
      for (const SeriesSpec& series : spec.series) {
        prometheus::ClientMetric m;
        m.label = series_labels(key, series);
        m.counter.value = series.counter < sums.size() ? static_cast<double>(sums[series.counter]) : 0;
        family.metric.push_back(std::move(m));
      }
    }
    families.push_back(std::move(family));
  }

  prometheus::MetricFamily unresolved;
  unresolved.name = "cgio_unresolved_cgroups";
  unresolved.help = "Cgroup ids in a counter map whose cgroup cannot be found (gone before cgio learnt "
                    "its path, or outside the hierarchy cgio reads); their counters are summed in the "
                    "series with cgroup=\"unresolved\".";
  unresolved.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric u;
  u.label = {{"collector", name_}};
  u.gauge.value = static_cast<double>(agg.unknown.size());
  unresolved.metric.push_back(std::move(u));
  families.push_back(std::move(unresolved));

  prometheus::MetricFamily entries;
  entries.name = "cgio_bpf_map_entries";
  entries.help = "Entries in a counter map at this scrape: cgroups (or cgroup and filesystem pairs) "
                 "with counters. Entries of removed cgroups are folded into their unit and deleted.";
  entries.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric e;
  e.label = {{"map", name_}};
  e.gauge.value = static_cast<double>(snap.keys.size());
  entries.metric.push_back(std::move(e));
  families.push_back(std::move(entries));
  return families;
}

}  // namespace cgio
