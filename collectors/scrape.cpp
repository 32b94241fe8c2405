#include "collectors/scrape.h"

#include <chrono>
#include <exception>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "util/log.h"
#include "util/version.h"
#include "web/label_value.h"

namespace cgio {
namespace {

// prometheus-cpp copies label values as they are; names from outside
// (workload info) may be any bytes. Made valid as the streamed families are.
std::vector<prometheus::MetricFamily> valid_labels(std::vector<prometheus::MetricFamily> families) {
  for (prometheus::MetricFamily& f : families) {
    for (prometheus::ClientMetric& m : f.metric) {
      for (prometheus::ClientMetric::Label& l : m.label) {
        if (!valid_utf8(l.value)) l.value = utf8_label_value(l.value);
      }
    }
  }
  return families;
}

}  // namespace

void Scraper::add(std::shared_ptr<CgroupCountersCollector> counters) {
  std::lock_guard lock(mutex_);
  errors_.emplace(counters->name(), 0);
  counters_.push_back(std::move(counters));
}

void Scraper::add(std::string name, std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(mutex_);
  errors_.emplace(name, 0);
  collectables_.emplace_back(std::move(name), std::move(collectable));
}

bool Scraper::write(ExpositionWriter& out) const {
  struct Timing {
    std::string collector;
    double seconds;
  };
  std::vector<Timing> timings;
  std::vector<std::pair<std::string, size_t>> unresolved, entries, capacity;
  const auto failed = [&](const std::string& name, const char* what) {
    log::error("collector failed", {{"collector", name}, {"err", what}});
    std::lock_guard lock(mutex_);
    ++errors_[name];
  };

  for (const auto& c : counters_) {
    const auto start = std::chrono::steady_clock::now();
    try {
      const auto stats = c->collect(out);
      unresolved.emplace_back(c->name(), stats.unresolved);
      entries.emplace_back(c->name(), stats.map_entries);
      if (stats.map_capacity != 0) capacity.emplace_back(c->name(), stats.map_capacity);
    } catch (const std::exception& e) {
      failed(c->name(), e.what());
    }
    timings.push_back({c->name(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
  }
  const prometheus::TextSerializer serializer;
  for (const auto& [name, collectable] : collectables_) {
    const auto start = std::chrono::steady_clock::now();
    try {
      out.raw(serializer.Serialize(valid_labels(collectable->Collect())));
    } catch (const std::exception& e) {
      failed(name, e.what());
    }
    timings.push_back({name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
  }

  std::string label;
  const auto by = [&label](std::string_view name, std::string_view value) -> const std::string& {
    label.clear();
    ExpositionWriter::append_label(label, name, value);
    return label;
  };
  out.family("cgio_unresolved_cgroups",
             "Cgroup ids in a counter map whose cgroup cannot be found (outside the hierarchy cgio reads, or "
             "gone before an event or a walk named it); their counters are summed in the series with "
             "cgroup=\"unresolved\".",
             "gauge");
  for (const auto& [name, n] : unresolved)
    out.sample("cgio_unresolved_cgroups", by("collector", name), "", static_cast<uint64_t>(n));
  out.family("cgio_bpf_map_entries",
             "Entries in a counter map at this scrape: cgroups (or cgroup and filesystem pairs) with counters. "
             "Entries of removed cgroups are folded into their unit and deleted.",
             "gauge");
  for (const auto& [name, n] : entries)
    out.sample("cgio_bpf_map_entries", by("map", name), "", static_cast<uint64_t>(n));
  if (!capacity.empty()) {
    out.family("cgio_bpf_map_capacity",
               "Entries a counter map can hold (--bpf.map-entries); past it new cgroups' updates are lost and "
               "counted in cgio_bpf_map_full_total.",
               "gauge");
  }
  for (const auto& [name, n] : capacity)
    out.sample("cgio_bpf_map_capacity", by("map", name), "", static_cast<uint64_t>(n));
  out.family("cgio_scrape_duration_seconds", "Time each collector took in this scrape, writing included.", "gauge");
  for (const auto& t : timings) out.sample("cgio_scrape_duration_seconds", by("collector", t.collector), "", t.seconds);
  out.family("cgio_scrape_errors_total", "Scrapes in which a collector failed and reported nothing.", "counter");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, n] : errors_) out.sample("cgio_scrape_errors_total", by("collector", name), "", n);
  }
  out.family("cgio_build_info", "Version and git revision of cgio_exporter; always 1.", "gauge");
  std::string build;
  ExpositionWriter::append_label(build, "revision", kCgioRevision);
  build.push_back(',');
  ExpositionWriter::append_label(build, "version", kCgioVersion);
  out.sample("cgio_build_info", build, "", uint64_t{1});
  return out.finish();
}

}  // namespace cgio
