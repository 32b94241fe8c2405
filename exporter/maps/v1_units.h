// Hybrid hosts: the exporter's side of `cgio_v1_units`
// (contracts/cgroup_keys.h), the v1 cgroups whose tasks are charged to v1.
// The BPF cgroup_mkdir program adds every v1 cgroup as pending (or as a unit
// below a unit); the exporter marks the ones that are workloads as units and
// deletes the rest, so their tasks count to cgroup2 again.
#pragma once

#include <cstdint>
#include <vector>

namespace cgio {

class V1UnitsMap {
 public:
  // `fd`: the map, or -1 on hosts that are not hybrid (every call does nothing).
  explicit V1UnitsMap(int fd) : fd_(fd) {}

  bool enabled() const { return fd_ >= 0; }
  // Marks kernfs id `id` a unit. `only_if_present`: when the kernel added it
  // (a mkdir event), so a cgroup removed meanwhile is not added back.
  // False when the map is full (the caller logs; the loss is counted).
  bool mark_unit(uint64_t id, bool only_if_present) const;
  // Its tasks are charged to cgroup2.
  void forget(uint64_t id) const;
  std::vector<uint64_t> ids() const;

 private:
  int fd_;
};

}  // namespace cgio
