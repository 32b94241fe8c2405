// The cgroup side of accounting at run time: the thread that turns the
// cgroup event ring buffer into tracker calls, reconciling against a walk
// of the hierarchy now and then and whenever events were lost. (The kernel
// maps a removed cgroup is folded out of are maps/counter_store.h.)
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "cgroups/cgroup_paths.h"
#include "cgroups/tracker.h"
#include "util/bpf_handles.h"

namespace cgio {

class CgroupEventReader {
 public:
  struct Config {
    int ringbuf_fd = -1;
    int lost_fd = -1;  // per-CPU array counting records that did not fit
    unsigned possible_cpus = 1;
    uint32_t hierarchy_id = 0;  // the hierarchy cgio accounts by
    std::chrono::seconds reconcile_every{60};
    // Cgroup ids with values in the counter maps (for orphans to fold).
    std::function<std::vector<uint64_t>()> ids_in_maps;
  };

  // Starts the reader thread; the first reconciliation (an initial walk)
  // happens before this returns, after the event programs are attached, so
  // no cgroup created meanwhile is missed.
  CgroupEventReader(Config config, const CgroupHierarchy& hierarchy, CgroupTracker& tracker);
  ~CgroupEventReader();

  uint64_t events_lost() const { return lost_seen_.load(); }
  uint64_t events_handled() const { return handled_.load(); }

  // Walks the hierarchy: cgroups gone without an event are removed (and
  // folded), cgroups unknown are added, orphaned map entries are folded.
  void reconcile();

 private:
  static int on_event(void* ctx, void* data, size_t size);
  void handle(const void* data, size_t size);
  uint64_t read_lost() const;
  void run();

  Config config_;
  const CgroupHierarchy& hierarchy_;
  CgroupTracker& tracker_;
  RingBufferPtr ring_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> lost_seen_{0};
  std::atomic<uint64_t> handled_{0};
  std::thread thread_;
};

}  // namespace cgio
