// A collector for one counter map: reads every cgroup's summed counters at
// scrape time and writes, per series (workload, workload_id, cgroup unit,
// step), the live values plus the final totals of its cgroups that ended.
// Each counter domain (maps/counter_domains.h) is a metric table over this
// class.
//
// These are the collectors whose size grows with the number of cgroups, so
// they write the exposition text directly (exporter/exposition.h) instead
// of building prometheus-cpp MetricFamily objects; the exporter's own small
// families still go through prometheus-cpp (scrape.h).
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/cgroup_space.h"
#include "cgroups/tracker.h"
#include "maps/counter_domains.h"
#include "maps/counter_source.h"
#include "web/exposition.h"

namespace cgio {

struct SeriesSpec {
  std::vector<std::pair<std::string, std::string>> labels;  // besides the workload labels
  size_t counter;                                           // index into the domain's values
};

struct MetricSpec {
  std::string name;
  std::string help;
  std::vector<SeriesSpec> series;
};

class CgroupCountersCollector {
 public:
  CgroupCountersCollector(std::string name, CounterDomain domain, std::vector<MetricSpec> metrics,
                          std::shared_ptr<CounterSource> source, std::shared_ptr<CgroupTracker> tracker,
                          std::shared_ptr<const CgroupSpace> space);

  const std::string& name() const { return name_; }

  struct Stats {
    size_t unresolved = 0;  // ids with no known cgroup
    size_t map_entries = 0;
    size_t map_capacity = 0;  // 0: not known
  };
  // One scrape's families. The map is read and aggregated before anything
  // is written, so a failure (std::runtime_error) leaves no half-written
  // family. Scrapes of one collector take turns: the buffers are reused.
  Stats collect(ExpositionWriter& out) const;

 private:
  std::string name_;
  CounterDomain domain_;
  std::vector<MetricSpec> metrics_;
  std::vector<std::vector<std::string>> extra_;  // rendered SeriesSpec labels
  std::shared_ptr<CounterSource> source_;
  std::shared_ptr<CgroupTracker> tracker_;
  std::shared_ptr<const CgroupSpace> space_;
  mutable std::mutex mutex_;
  mutable CounterSnapshot snapshot_;
  mutable CgroupTracker::Aggregate aggregate_;
};

// The metric tables (names and HELP texts are the exporter's contract).
// `with_read_write` false leaves the read/write counters to the per-mount table.
std::vector<MetricSpec> vfs_metrics(bool with_read_write = true);
std::vector<MetricSpec> net_metrics();
// Read/write counters per listed mount point (index 0 is "other").
std::vector<MetricSpec> vfs_mount_metrics(const std::vector<std::string>& mountpoints);

// Every counter domain's metric table, indexed by CounterDomain; empty for
// a domain not enabled. With vfs_mounts enabled, the vfs table leaves the
// read/write counters to it.
using MetricTables = std::array<std::vector<MetricSpec>, kCounterDomains>;
MetricTables metric_tables(const EnabledDomains& enabled, const std::vector<std::string>& mountpoints);

}  // namespace cgio
