// A collector for one counter map: reads every cgroup's summed counters at
// scrape time, names each cgroup by its path and renders one counter family
// per metric of its table. The vfs and net collectors are two tables.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "cgroup_paths.h"
#include "counter_source.h"

namespace cgio {

// Label value for counters of cgroup ids that no longer resolve to a path
// (the cgroup was removed before its name was learnt, or lives outside the
// mounted hierarchy). Cannot clash with a path: paths start with "/".
inline constexpr const char* kUnresolvedCgroup = "unresolved";

struct SeriesSpec {
  std::vector<std::pair<std::string, std::string>> labels;  // besides `cgroup`
  size_t counter;  // index into the map value
};

struct MetricSpec {
  std::string name;
  std::string help;
  std::vector<SeriesSpec> series;
};

class CgroupCountersCollector final : public prometheus::Collectable {
 public:
  CgroupCountersCollector(std::string name, std::vector<MetricSpec> metrics,
                          std::shared_ptr<CounterSource> source, std::shared_ptr<CgroupPaths> paths);

  // Throws std::runtime_error when the map cannot be read.
  std::vector<prometheus::MetricFamily> Collect() const override;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<MetricSpec> metrics_;
  std::shared_ptr<CounterSource> source_;
  std::shared_ptr<CgroupPaths> paths_;
};

// The metric tables (names and HELP texts are the exporter's contract).
std::vector<MetricSpec> vfs_metrics();
std::vector<MetricSpec> net_metrics();

}  // namespace cgio
