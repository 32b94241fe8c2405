// The kernel maps the BPF programs count into. The exporter creates them
// (not the objects), so every object and probe type shares one value per
// cgroup, and the collectors read them without knowing which programs run.
#pragma once

#include <cstdint>

#include "util/bpf_handles.h"
#include "util/result.h"

namespace cgio {

// Descriptors of the maps every object shares; -1 for a map not created
// (its collector is disabled).
struct SharedMapFds {
  int vfs = -1;
  int net = -1;
  int map_full = -1;
  int vfs_mounts = -1;     // --vfs.mountpoints
  int mounts = -1;         // superblock dev -> mount index
  int cgroup_events = -1;  // ring buffer
  int events_lost = -1;
};

struct CounterMapsConfig {
  bool vfs = true;
  bool net = true;
  bool vfs_mounts = false;  // --vfs.mountpoints
  uint32_t max_entries = 16384;
  // Preallocated hash maps reserve max_entries x CPUs x value size up front.
  // Kernels with the BPF memory allocator (6.1+) allocate entries safely from
  // tracing programs, so the maps are created without preallocation and
  // cost memory only for cgroups that did I/O.
  bool preallocate = true;
};

class CounterMaps {
 public:
  static Result<CounterMaps> create(const CounterMapsConfig& config);

  SharedMapFds fds() const {
    return {vfs_.get(),    net_.get(),           map_full_.get(),   vfs_mounts_.get(),
            mounts_.get(), cgroup_events_.get(), events_lost_.get()};
  }
  int vfs() const { return vfs_.get(); }
  int net() const { return net_.get(); }
  int map_full() const { return map_full_.get(); }
  int vfs_mounts() const { return vfs_mounts_.get(); }
  int mounts() const { return mounts_.get(); }
  int cgroup_events() const { return cgroup_events_.get(); }
  int events_lost() const { return events_lost_.get(); }

 private:
  Fd vfs_, net_, map_full_, vfs_mounts_, mounts_, cgroup_events_, events_lost_;
};

}  // namespace cgio
