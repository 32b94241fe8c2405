#include "maps/counter_store.h"

#include <bpf/bpf.h>

#include <algorithm>

#include "maps/counter_source.h"

#include "contracts/vfs.h"

namespace cgio {

BpfCounterStore::BpfCounterStore(SharedMapFds maps, unsigned possible_cpus, uint32_t mount_slots)
    : maps_(maps), ncpus_(possible_cpus), mount_slots_(mount_slots) {}

void BpfCounterStore::read(CounterDomain domain, uint64_t id, std::span<uint64_t> out) {
  const CounterDomainSpec& spec = counter_domain(domain);
  const int fd = maps_[spec.map];
  if (fd < 0) return;
  percpu_.resize(spec.fields * ncpus_);
  const auto add = [&](const void* key, size_t offset) {
    if (bpf_map_lookup_elem(fd, key, percpu_.data()) != 0) return;  // no entry: nothing counted
    if (offset < out.size())
      sum_percpu(percpu_, ncpus_, out.subspan(offset, std::min(spec.fields, out.size() - offset)));
  };
  if (!spec.two_part_key()) {
    add(&id, 0);
    return;
  }
  for (uint32_t m = 0; m < mount_slots_; ++m) {
    cgio_mount_key key{};
    key.cgroup_id = id;
    key.mount = m;
    add(&key, m * spec.fields);
  }
}

void BpfCounterStore::erase(CounterDomain domain, uint64_t id) {
  const CounterDomainSpec& spec = counter_domain(domain);
  const int fd = maps_[spec.map];
  if (fd < 0) return;
  if (!spec.two_part_key()) {
    bpf_map_delete_elem(fd, &id);
    return;
  }
  for (uint32_t m = 0; m < mount_slots_; ++m) {
    cgio_mount_key key{};
    key.cgroup_id = id;
    key.mount = m;
    bpf_map_delete_elem(fd, &key);
  }
}

bool BpfCounterStore::holds(uint64_t id) const {
  for (const CounterDomainSpec& spec : counter_domains()) {
    const int fd = maps_[spec.map];
    if (fd < 0 || spec.two_part_key()) continue;
    std::vector<uint64_t> percpu(spec.fields * ncpus_);
    if (bpf_map_lookup_elem(fd, &id, percpu.data()) == 0) return true;
  }
  return false;
}

}  // namespace cgio
