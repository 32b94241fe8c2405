#include "maps/counter_domains.h"

#include "maps/shared_maps.h"

#include "contracts/common.h"
#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio {
namespace {

constexpr std::array<CounterDomainSpec, kCounterDomains> kDomains = {{
    {CounterDomain::vfs, "vfs", SharedMap::vfs, CGIO_VFS_COUNTER_MAX, CounterKey::cgroup, CGIO_MAP_VFS},
    {CounterDomain::net, "net", SharedMap::net, sizeof(cgio_net_value) / sizeof(uint64_t), CounterKey::cgroup,
     CGIO_MAP_NET},
    {CounterDomain::vfs_mounts, "vfs_mounts", SharedMap::vfs_mounts, sizeof(cgio_mount_value) / sizeof(uint64_t),
     CounterKey::cgroup_mount, CGIO_MAP_VFS_MOUNTS},
}};

constexpr bool rows_in_order() {
  for (size_t i = 0; i < kDomains.size(); ++i) {
    if (index_of(kDomains[i].id) != i) return false;
  }
  return true;
}
static_assert(rows_in_order(), "counter_domains() rows are indexed by CounterDomain");
static_assert(sizeof(cgio_vfs_value) == CGIO_VFS_COUNTER_MAX * sizeof(uint64_t));

}  // namespace

std::span<const CounterDomainSpec, kCounterDomains> counter_domains() { return kDomains; }

const CounterDomainSpec& counter_domain(CounterDomain d) { return kDomains[index_of(d)]; }

}  // namespace cgio
