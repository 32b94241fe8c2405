// The accounting machinery's own state: cgroups tracked, units ended,
// ended units still reported, cgroup events lost, the accounting file's
// writer (records written, pending, dropped, errors).
#pragma once

#include <functional>
#include <memory>

#include <prometheus/collectable.h>

#include "accounting/accounting_writer.h"
#include "cgroups/tracker.h"

namespace cgio {

class TrackingStatusCollector final : public prometheus::Collectable {
 public:
  // `events_lost`: records the kernel could not queue (nullptr: no events).
  // `accounting`: the writer's state (nullptr: no --accounting.file).
  TrackingStatusCollector(std::shared_ptr<const CgroupTracker> tracker, std::function<uint64_t()> events_lost,
                          std::function<AccountingWriter::Stats()> accounting = {});
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::shared_ptr<const CgroupTracker> tracker_;
  std::function<uint64_t()> events_lost_;
  std::function<AccountingWriter::Stats()> accounting_;
};

}  // namespace cgio
