#include "cgroup_counters.h"

#include <map>
#include <stdexcept>

namespace cgio {

CgroupCountersCollector::CgroupCountersCollector(std::string name, std::vector<MetricSpec> metrics,
                                                 std::shared_ptr<CounterSource> source,
                                                 std::shared_ptr<CgroupPaths> paths)
    : name_(std::move(name)),
      metrics_(std::move(metrics)),
      source_(std::move(source)),
      paths_(std::move(paths)) {}

std::vector<prometheus::MetricFamily> CgroupCountersCollector::Collect() const {
  auto snapshot = source_->read();
  if (!snapshot) throw std::runtime_error(name_ + " map: " + snapshot.error());
  const CounterSnapshot& snap = *snapshot;

  // Sum by cgroup path: several ids can share a path (a cgroup removed and
  // created again under the same name), and unresolved ids share one label.
  std::map<std::string, std::vector<uint64_t>> by_path;
  size_t unresolved = 0;
  paths_->resolve(snap.keys, [&](size_t i, const std::string* path) {
    if (path == nullptr) ++unresolved;
    auto& sums = by_path[path != nullptr ? *path : std::string(kUnresolvedCgroup)];
    sums.resize(snap.fields, 0);
    const auto row = snap.row(i);
    for (size_t f = 0; f < snap.fields; ++f) sums[f] += row[f];
  });

  std::vector<prometheus::MetricFamily> families;
  families.reserve(metrics_.size() + 1);
  for (const MetricSpec& spec : metrics_) {
    prometheus::MetricFamily family;
    family.name = spec.name;
    family.help = spec.help;
    family.type = prometheus::MetricType::Counter;
    family.metric.reserve(by_path.size() * spec.series.size());
    for (const auto& [path, sums] : by_path) {
      for (const SeriesSpec& series : spec.series) {
        prometheus::ClientMetric m;
        m.label.reserve(series.labels.size() + 1);
        m.label.push_back({"cgroup", path});
        for (const auto& [k, v] : series.labels) m.label.push_back({k, v});
        m.counter.value = static_cast<double>(sums[series.counter]);
        family.metric.push_back(std::move(m));
      }
    }
    families.push_back(std::move(family));
  }

  prometheus::MetricFamily gauge;
  gauge.name = "cgio_unresolved_cgroups";
  gauge.help = "Cgroup ids in a counter map that resolve to no cgroup path; their counters are "
               "summed in the series with cgroup=\"unresolved\".";
  gauge.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric m;
  m.label.push_back({"collector", name_});
  m.gauge.value = static_cast<double>(unresolved);
  gauge.metric.push_back(std::move(m));
  families.push_back(std::move(gauge));
  return families;
}

}  // namespace cgio
