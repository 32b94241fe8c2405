#include "maps/v1_units.h"

#include <bpf/bpf.h>

#include <cerrno>

#include "contracts/cgroup_keys.h"

namespace cgio {

bool V1UnitsMap::mark_unit(uint64_t id, bool only_if_present) const {
  if (fd_ < 0) return true;
  const uint32_t unit = CGIO_V1_UNIT;
  if (bpf_map_update_elem(fd_, &id, &unit, only_if_present ? BPF_EXIST : BPF_ANY) == 0) return true;
  return errno == ENOENT;  // removed before it was marked: nothing to charge
}

void V1UnitsMap::forget(uint64_t id) const {
  if (fd_ >= 0) bpf_map_delete_elem(fd_, &id);
}

std::vector<uint64_t> V1UnitsMap::ids() const {
  std::vector<uint64_t> out;
  if (fd_ < 0) return out;
  uint64_t key = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd_, prev, &key) == 0) {
    out.push_back(key);
    prev = &key;
  }
  return out;
}

}  // namespace cgio
