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

#include "cgroups/cgroup_space.h"
#include "cgroups/tracker.h"
#include "maps/v1_units.h"
#include "util/bpf_handles.h"

namespace cgio {

class CgroupEventReader {
 public:
  struct Config {
    int ringbuf_fd = -1;
    int lost_fd = -1;  // per-CPU array counting records that did not fit
    unsigned possible_cpus = 1;
    // Hybrid hosts: the v1 cgroups charged as v1, kept to the recognised
    // workloads (contracts/cgroup_keys.h).
    std::shared_ptr<V1Units> v1_units;  // null unless hybrid
    std::chrono::seconds reconcile_every{60};
    // Cgroup ids with values in the counter maps (for orphans to fold).
    std::function<std::vector<uint64_t>()> ids_in_maps;
    // Called about once a second from the reader's thread (the exporter
    // checks its loss counters there).
    std::function<void()> tick;
  };

  // Starts the reader thread; the first reconciliation (an initial walk)
  // happens before this returns, after the event programs are attached, so
  // no cgroup created meanwhile is missed.
  CgroupEventReader(Config config, const CgroupSpace& space, CgroupTracker& tracker);
  ~CgroupEventReader();

  uint64_t events_lost() const { return lost_seen_.load(); }
  uint64_t events_handled() const { return handled_.load(); }

  // One ring buffer record (struct cgio_cgroup_event); public for tests.
  void handle(const void* data, size_t size);

  // Walks the hierarchies: cgroups unknown are added; on hybrid hosts the
  // v1 units are set to the recognised workloads. What the walk cannot
  // settle while events may still be queued waits for the next poll of the
  // ring (settle()): cgroups gone without an event yet are removed (and
  // folded) only then, and map entries of cgroups nobody named are folded
  // into "unresolved" only then, since a queued mkdir or rmdir event names
  // them exactly. Without a ring the reader settles right after. Public
  // for tests.
  void reconcile();
  // After the events queued during a reconcile were handled: removes the
  // cgroups the walk missed that the tracker still holds, and folds orphaned
  // map entries nobody named. Public for tests.
  void settle();

  // Hybrid hosts, before the counting programs attach: marks the v1 cgroups
  // of recognised workloads that exist, so a job running when cgio starts
  // is charged as that job from its first counted event.
  static void mark_v1_units(const CgroupSpace& space, const WorkloadClassifier& classifier, V1Units& units);

 private:
  static int on_event(void* ctx, void* data, size_t size);
  uint64_t read_lost() const;
  // Hybrid hosts: a v1 cgroup created or found by a walk. Marks it a unit
  // when it is a recognised workload, else charges its tasks to cgroup2
  // again; returns whether the tracker should know it (a unit, or one that
  // counted something while pending).
  bool settle_v1(uint64_t key, const std::string& path, bool from_event);
  void run();

  Config config_;
  // Left by reconcile() for settle(): alive in the tracker but not in the
  // walk; in the maps but neither known nor found by the walk.
  std::vector<uint64_t> missed_, orphans_;
  const CgroupSpace& space_;
  CgroupTracker& tracker_;
  RingBufferPtr ring_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> lost_seen_{0};
  std::atomic<uint64_t> handled_{0};
  bool v1_full_logged_ = false;
  bool settled_once_ = false;
  std::thread thread_;
};

}  // namespace cgio
