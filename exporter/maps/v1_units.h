// Hybrid hosts: the exporter's side of `cgio_v1_units`
// (contracts/cgroup_keys.h), the v1 cgroups whose tasks are charged to v1.
// The BPF cgroup_mkdir program adds every v1 cgroup as pending (or as a unit
// below a unit); the exporter marks the ones that are workloads as units and
// deletes the rest, so their tasks count to cgroup2 again.
#pragma once

#include <cstdint>
#include <vector>

namespace cgio {

class V1Units {
 public:
  virtual ~V1Units() = default;
  // Marks kernfs id `id` a unit. `only_if_present`: when the kernel added it
  // (a mkdir event), so a cgroup removed meanwhile is not added back.
  // False when the map is full (the caller logs; the loss is counted).
  virtual bool mark_unit(uint64_t id, bool only_if_present) = 0;
  // Its tasks are charged to cgroup2.
  virtual void forget(uint64_t id) = 0;
  virtual std::vector<uint64_t> ids() const = 0;
};

// The BPF map itself.
class BpfV1Units final : public V1Units {
 public:
  explicit BpfV1Units(int fd) : fd_(fd) {}
  bool mark_unit(uint64_t id, bool only_if_present) override;
  void forget(uint64_t id) override;
  std::vector<uint64_t> ids() const override;

 private:
  int fd_;
};

}  // namespace cgio
