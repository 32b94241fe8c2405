// The shared maps of this run, created from the table in shared_maps.h:
// those of the enabled counter domains, and those every run needs.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "maps/counter_domains.h"
#include "maps/pin_dir.h"
#include "maps/shared_maps.h"
#include "util/bpf_handles.h"
#include "util/result.h"

namespace cgio {

// Descriptors of the shared maps, by SharedMap; -1 for a map not created.
struct SharedMapFds {
  std::array<int, kSharedMaps> fds;
  int operator[](SharedMap id) const { return fds[static_cast<size_t>(id)]; }
};

struct CounterMapsConfig {
  EnabledDomains domains{true, true, false};
  uint32_t max_entries = 16384;
  // Preallocated hash maps reserve max_entries x CPUs x value size up front.
  // Kernels with the BPF memory allocator (6.1+) allocate entries safely from
  // tracing programs, so the maps are created without preallocation and
  // cost memory only for cgroups that did I/O.
  bool preallocate = true;
};

class CounterMaps {
 public:
  // With `pins`, each map pinned there is adopted (its shape must be the one
  // asked for: an error names the flag that differs) and the others are
  // created and pinned.
  static Result<CounterMaps> create(const CounterMapsConfig& config, const PinDir* pins = nullptr);

  SharedMapFds fds() const;
  int fd(SharedMap id) const { return fds_[static_cast<size_t>(id)].get(); }
  // Fills cgio_mounts: the superblock of `devs[i]` counts under mount index i + 1 (0 is "other").
  Result<void> set_mount_indexes(const std::vector<uint32_t>& devs) const;

  // Whether a map was adopted from the pins rather than created.
  bool adopted(SharedMap id) const { return adopted_[static_cast<size_t>(id)]; }
  // The generation counting now (0 in new maps), and the switch to another.
  uint32_t active_generation() const;
  Result<void> set_active_generation(uint32_t generation) const;
  // The kernel's id of a map (unique while it exists).
  uint32_t kernel_id(SharedMap id) const;

 private:
  std::array<Fd, kSharedMaps> fds_;
  std::array<bool, kSharedMaps> adopted_{};
};

}  // namespace cgio
