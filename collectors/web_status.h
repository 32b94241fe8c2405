// The HTTP server's own state: open connections, and what the connection
// cap, the deadlines, TLS and authentication turned away.
#pragma once

#include <functional>

#include <prometheus/collectable.h>

#include "web/web.h"

namespace cgio {

class WebStatusCollector final : public prometheus::Collectable {
 public:
  explicit WebStatusCollector(std::function<WebStats()> stats) : stats_(std::move(stats)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<WebStats()> stats_;
};

}  // namespace cgio
