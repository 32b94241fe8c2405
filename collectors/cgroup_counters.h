// A collector for one counter map: reads every cgroup's summed counters at
// scrape time and renders, per series (workload, workload_id, cgroup unit,
// step), the live values plus the final totals of its cgroups that ended.
// The vfs, net and per-mount collectors are three tables over this class.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "cgroup_paths.h"
#include "counter_source.h"
#include "tracker.h"

namespace cgio {

struct SeriesSpec {
  std::vector<std::pair<std::string, std::string>> labels;  // besides the workload labels
  size_t counter;  // index into the domain's values
};

struct MetricSpec {
  std::string name;
  std::string help;
  std::vector<SeriesSpec> series;
};

class CgroupCountersCollector final : public prometheus::Collectable {
 public:
  CgroupCountersCollector(std::string name, CounterDomain domain, std::vector<MetricSpec> metrics,
                          std::shared_ptr<CounterSource> source, std::shared_ptr<CgroupTracker> tracker,
                          std::shared_ptr<const CgroupHierarchy> hierarchy);

  // Throws std::runtime_error when the map cannot be read.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string name_;
  CounterDomain domain_;
  std::vector<MetricSpec> metrics_;
  std::shared_ptr<CounterSource> source_;
  std::shared_ptr<CgroupTracker> tracker_;
  std::shared_ptr<const CgroupHierarchy> hierarchy_;
};

// The metric tables (names and HELP texts are the exporter's contract).
// `with_read_write` false leaves the read/write counters to the per-mount table.
std::vector<MetricSpec> vfs_metrics(bool with_read_write = true);
std::vector<MetricSpec> net_metrics();
// Read/write counters per listed mount point (index 0 is "other").
std::vector<MetricSpec> vfs_mount_metrics(const std::vector<std::string>& mountpoints);

// The prometheus labels of a series: cgroup, step (when set), workload,
// workload_id, and the spec's own, sorted by name.
std::vector<prometheus::ClientMetric::Label> series_labels(const SeriesKey& key, const SeriesSpec& spec);

}  // namespace cgio
