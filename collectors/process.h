// process_* metrics, as every Prometheus client library exports them
// (client_golang's process collector): CPU time, memory, descriptors and
// start time of the exporter itself, read from <procfs>/self and
// <procfs>/stat at each scrape.
#pragma once

#include <string>

#include <prometheus/collectable.h>

namespace cgio {

class ProcessCollector final : public prometheus::Collectable {
 public:
  // `procfs`: where /proc is (--path.procfs). Throws from Collect() when
  // self/stat cannot be read (the scrape then counts an error for it).
  explicit ProcessCollector(std::string procfs);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string procfs_;
  long ticks_per_second_;
  long page_size_;
};

}  // namespace cgio
