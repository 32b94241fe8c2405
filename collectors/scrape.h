// One scrape: runs every collector, times it, turns a failure into
// cgio_scrape_errors_total instead of a failed scrape, and writes the
// exposition: the per-cgroup counter collectors stream their text, the
// exporter's own small families come from prometheus::Collectables through
// prometheus-cpp's serializer, then cgio_scrape_*, cgio_build_info and the
// per-collector map statistics.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>

#include "collectors/cgroup_counters.h"
#include "web/exposition.h"

namespace cgio {

class Scraper {
 public:
  void add(std::shared_ptr<CgroupCountersCollector> counters);
  void add(std::string name, std::shared_ptr<prometheus::Collectable> collectable);

  // Writes one whole exposition. Returns false when the client went away.
  bool write(ExpositionWriter& out) const;

 private:
  std::vector<std::shared_ptr<CgroupCountersCollector>> counters_;
  std::vector<std::pair<std::string, std::shared_ptr<prometheus::Collectable>>> collectables_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, uint64_t> errors_;
};

}  // namespace cgio
