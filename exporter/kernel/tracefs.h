// Where tracepoint ids are read: the tracefs mount, found in mountinfo.
// Syscall tracepoint programs attach through perf events and need the id of
// their event; tracefs is often not mounted on servers, so the exporter
// mounts it at /sys/kernel/tracing when it is missing (and says so).
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "util/result.h"

namespace cgio {

class Tracefs {
 public:
  explicit Tracefs(std::string procfs) : procfs_(std::move(procfs)) {}

  // The directory holding events/, mounting tracefs if needed.
  Result<std::string> root();
  // The id of tracepoint <category>/<event>.
  Result<unsigned long long> event_id(const std::string& category, const std::string& event);

 private:
  std::string procfs_;
  std::mutex mutex_;
  std::optional<std::string> root_;
};

}  // namespace cgio
