// The table of the BPF maps every object shares. The exporter creates them
// (not the objects), so every object and probe type counts into one value
// per cgroup, and the collectors read them without knowing which programs
// run. Creation (counter_maps.cpp), the loader's bpf_map__reuse_fd and the
// readers all walk this table; tests/unit/shared_maps_test.cpp checks every
// embedded object's `cgio_*` maps against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "maps/counter_domains.h"

namespace cgio {

enum class SharedMap { vfs, net, vfs_mounts, mounts, map_full, cgroup_events, events_lost, v1_units, generation };
inline constexpr size_t kSharedMaps = 9;

struct SharedMapSpec {
  SharedMap id;
  std::string_view bpf_name;     // the map's name in the BPF objects
  std::string_view kernel_name;  // the name it is created with (at most 15 characters)
  uint32_t type;                 // enum bpf_map_type
  uint32_t key_size;
  uint32_t value_size;
  uint32_t entries;   // 0: --bpf.map-entries
  bool counter_hash;  // a per-cgroup hash: BPF_F_NO_PREALLOC unless preallocating
  // Created only when this counter domain is enabled; nullopt: always.
  std::optional<CounterDomain> needs;
  // When not created, an object may keep its own placeholder (its programs
  // for that feature never run); otherwise loading an object that uses it fails.
  bool placeholder_when_off;
};

std::span<const SharedMapSpec> shared_maps();
const SharedMapSpec& shared_map(SharedMap id);
// The row of a map named `bpf_name` in an object, or nullptr for a map
// private to the object (.rodata, cgio_kprobe_args, ...).
const SharedMapSpec* find_shared_map(std::string_view bpf_name);

}  // namespace cgio
