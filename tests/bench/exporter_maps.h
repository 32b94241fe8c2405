// Bench-only access to a running exporter's counter maps from outside the
// process: its descriptors are listed in /proc/<pid>/fdinfo ("map_id:"), and
// the kernel hands out new descriptors by map id. The scrape benchmark fills
// the maps for thousands of cgroups without any of them doing I/O.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/bpf_handles.h"
#include "util/result.h"

namespace cgio::bench {

class ExporterMaps {
 public:
  // Finds the maps named `cgio_vfs` and `cgio_net` among the process's
  // descriptors.
  static Result<ExporterMaps> find(pid_t pid);

  int vfs() const { return vfs_.get(); }
  int net() const { return net_.get(); }

  // Gives each cgroup id a value in a per-CPU hash of `words` __u64
  // counters: every possible CPU's copy is set (user space writes one value
  // per possible CPU), all counters non-zero.
  static Result<void> fill(int map_fd, size_t words, const std::vector<uint64_t>& ids);

 private:
  Fd vfs_, net_;
};

}  // namespace cgio::bench
