// The one Collectable the web server sees: runs each named collector, times
// it and turns a failure into cgio_scrape_errors_total instead of a failed
// scrape, then adds cgio_scrape_duration_seconds and cgio_build_info.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>

namespace cgio {

class InstrumentedCollectors final : public prometheus::Collectable {
 public:
  void add(std::string name, std::shared_ptr<prometheus::Collectable> collector);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<std::pair<std::string, std::shared_ptr<prometheus::Collectable>>> collectors_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, uint64_t> errors_;
};

}  // namespace cgio
