#include "scrape.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include <prometheus/metric_family.h>

#include "log.h"
#include "version.h"

namespace cgio {

void InstrumentedCollectors::add(std::string name, std::shared_ptr<prometheus::Collectable> collector) {
  std::lock_guard lock(mutex_);
  errors_.emplace(name, 0);
  collectors_.emplace_back(std::move(name), std::move(collector));
}

std::vector<prometheus::MetricFamily> InstrumentedCollectors::Collect() const {
  std::vector<prometheus::MetricFamily> out;

  prometheus::MetricFamily duration;
  duration.name = "cgio_scrape_duration_seconds";
  duration.help = "Time each collector took in this scrape.";
  duration.type = prometheus::MetricType::Gauge;

  for (const auto& [name, collector] : collectors_) {
    const auto start = std::chrono::steady_clock::now();
    try {
      for (auto& family : collector->Collect()) {
        // Collectors may report the same family (cgio_unresolved_cgroups
        // with their own label): the exposition must name it once.
        auto same = std::find_if(out.begin(), out.end(),
                                 [&](const prometheus::MetricFamily& f) { return f.name == family.name; });
        if (same == out.end()) {
          out.push_back(std::move(family));
        } else {
          for (auto& m : family.metric) same->metric.push_back(std::move(m));
        }
      }
    } catch (const std::exception& e) {
      log::error("collector failed", {{"collector", name}, {"err", e.what()}});
      std::lock_guard lock(mutex_);
      ++errors_[name];
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    prometheus::ClientMetric m;
    m.label = {{"collector", name}};
    m.gauge.value = took.count();
    duration.metric.push_back(std::move(m));
  }

  prometheus::MetricFamily errors;
  errors.name = "cgio_scrape_errors_total";
  errors.help = "Scrapes in which a collector failed and reported nothing.";
  errors.type = prometheus::MetricType::Counter;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, count] : errors_) {
      prometheus::ClientMetric m;
      m.label = {{"collector", name}};
      m.counter.value = static_cast<double>(count);
      errors.metric.push_back(std::move(m));
    }
  }

  prometheus::MetricFamily build;
  build.name = "cgio_build_info";
  build.help = "Version and git revision of cgio_exporter; always 1.";
  build.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric b;
  b.label = {{"revision", kCgioRevision}, {"version", kCgioVersion}};
  b.gauge.value = 1;
  build.metric.push_back(std::move(b));

  out.push_back(std::move(duration));
  out.push_back(std::move(errors));
  out.push_back(std::move(build));
  return out;
}

}  // namespace cgio
