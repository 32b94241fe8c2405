// The counter domains: each a per-CPU hash of per-cgroup counters, read by
// one collector, folded when a cgroup ends, and recorded when a unit ends.
// A new domain is one row here plus its BPF side and its metric table
// (collectors/metric_tables.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace cgio {

// Indexes the rows of counter_domains() and every per-domain array.
enum class CounterDomain { vfs = 0, net = 1, vfs_mounts = 2 };
inline constexpr size_t kCounterDomains = 3;

enum class SharedMap;

// How the domain's map is keyed.
enum class CounterKey {
  cgroup,        // __u64 cgroup id
  cgroup_mount,  // struct cgio_mount_key {cgroup id, mount index}: one value per listed mount point
};

struct CounterDomainSpec {
  CounterDomain id;
  std::string_view name;  // the collector's name and the `map` label
  SharedMap map;
  size_t fields;  // u64 counters per map value
  CounterKey key;
  uint32_t lost_map_id;  // enum cgio_map_id: its slots in cgio_map_full

  bool two_part_key() const { return key == CounterKey::cgroup_mount; }
  // u64 counters per cgroup: one value, or one per mount slot.
  size_t width(uint32_t mount_slots) const { return two_part_key() ? fields * mount_slots : fields; }
};

std::span<const CounterDomainSpec, kCounterDomains> counter_domains();
constexpr size_t index_of(CounterDomain d) { return static_cast<size_t>(d); }
const CounterDomainSpec& counter_domain(CounterDomain d);

// Which domains this run counts.
using EnabledDomains = std::array<bool, kCounterDomains>;

}  // namespace cgio
