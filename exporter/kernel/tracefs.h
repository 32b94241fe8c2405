// Where tracepoint ids are read: the tracefs mount, found in mountinfo.
// Syscall tracepoint programs attach through perf events and need the id of
// their event; tracefs is often not mounted on servers, so the exporter
// mounts it at /sys/kernel/tracing when it is missing (and says so).
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "util/bpf_handles.h"
#include "util/result.h"

namespace cgio {

class Tracefs {
 public:
  explicit Tracefs(std::string procfs) : procfs_(std::move(procfs)) {}

  // The directory holding events/, mounting tracefs if needed.
  Result<std::string> root();
  // The id of tracepoint <category>/<event>.
  Result<unsigned long long> event_id(const std::string& category, const std::string& event);
  // A perf event on tracepoint "<category>/<event>" (any task, CPU 0), for
  // a tracepoint program to attach to.
  Result<Fd> open_perf_event(const std::string& category_event);

 private:
  std::string procfs_;
  std::mutex mutex_;
  std::optional<std::string> root_;
};

}  // namespace cgio
