#include "maps/v1_units.h"

#include <bpf/bpf.h>

#include <cerrno>

#include "contracts/cgroup_keys.h"

namespace cgio {

bool BpfV1Units::mark_unit(uint64_t id, bool only_if_present) {
  const uint32_t unit = CGIO_V1_UNIT;
  if (bpf_map_update_elem(fd_, &id, &unit, only_if_present ? BPF_EXIST : BPF_ANY) == 0) return true;
  return errno == ENOENT;  // removed before it was marked: nothing to charge
}

void BpfV1Units::forget(uint64_t id) { bpf_map_delete_elem(fd_, &id); }

std::vector<uint64_t> BpfV1Units::ids() const {
  std::vector<uint64_t> out;
  uint64_t key = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd_, prev, &key) == 0) {
    out.push_back(key);
    prev = &key;
  }
  return out;
}

}  // namespace cgio
