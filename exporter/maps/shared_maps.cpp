#include "maps/shared_maps.h"

#include <linux/bpf.h>

#include <array>

#include "contracts/common.h"
#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio {
namespace {

constexpr uint32_t kU32 = sizeof(uint32_t);
constexpr uint32_t kU64 = sizeof(uint64_t);

// Rows in the order of enum SharedMap, which is also the order of creation.
constexpr std::array<SharedMapSpec, kSharedMaps> kMaps = {{
    {SharedMap::vfs, "cgio_vfs", "cgio_vfs", BPF_MAP_TYPE_PERCPU_HASH, kU64, sizeof(cgio_vfs_value), 0, true,
     CounterDomain::vfs, false},
    {SharedMap::net, "cgio_net", "cgio_net", BPF_MAP_TYPE_PERCPU_HASH, kU64, sizeof(cgio_net_value), 0, true,
     CounterDomain::net, false},
    {SharedMap::vfs_mounts, "cgio_vfs_mounts", "cgio_vfs_mounts", BPF_MAP_TYPE_PERCPU_HASH, sizeof(cgio_mount_key),
     sizeof(cgio_mount_value), 0, true, CounterDomain::vfs_mounts, true},
    // Superblock dev_t -> index of the listed mount point (--vfs.mountpoints).
    {SharedMap::mounts, "cgio_mounts", "cgio_mounts", BPF_MAP_TYPE_HASH, kU32, kU32, CGIO_MOUNTS_MAX, false,
     CounterDomain::vfs_mounts, true},
    {SharedMap::map_full, "cgio_map_full", "cgio_map_full", BPF_MAP_TYPE_PERCPU_ARRAY, kU32, kU64, CGIO_LOST_SLOTS,
     false, std::nullopt, false},
    // An event per cgroup created, removed or renamed, sized by its path:
    // 1 MiB holds about 7,000 records of a 100-byte path, bursts of job
    // starts and ends between two wake-ups of the reader.
    {SharedMap::cgroup_events, "cgio_cgroup_events", "cgio_cg_events", BPF_MAP_TYPE_RINGBUF, 0, 0, 1u << 20, false,
     std::nullopt, false},
    {SharedMap::events_lost, "cgio_events_lost", "cgio_ev_lost", BPF_MAP_TYPE_PERCPU_ARRAY, kU32, kU64, 1, false,
     std::nullopt, false},
    // Hybrid hosts: the v1 cgroups charged as v1 (contracts/cgroup_keys.h),
    // one per job, step and task cgroup at most: --bpf.map-entries.
    {SharedMap::v1_units, "cgio_v1_units", "cgio_v1_units", BPF_MAP_TYPE_HASH, kU64, kU32, 0, true, std::nullopt,
     false},
    // The generation whose programs count (contracts/common.h): a restart
    // switches it once the new programs are attached.
    {SharedMap::generation, "cgio_generation", "cgio_generation", BPF_MAP_TYPE_ARRAY, kU32, kU32, 1, false,
     std::nullopt, false},
}};

constexpr bool rows_in_order() {
  for (size_t i = 0; i < kMaps.size(); ++i) {
    if (static_cast<size_t>(kMaps[i].id) != i || kMaps[i].kernel_name.size() > 15) return false;
  }
  return true;
}
static_assert(rows_in_order(), "shared_maps() rows are indexed by SharedMap; kernel names fit BPF_OBJ_NAME_LEN");

}  // namespace

std::span<const SharedMapSpec> shared_maps() { return kMaps; }

const SharedMapSpec& shared_map(SharedMap id) { return kMaps[static_cast<size_t>(id)]; }

const SharedMapSpec* find_shared_map(std::string_view bpf_name) {
  for (const SharedMapSpec& m : kMaps) {
    if (m.bpf_name == bpf_name) return &m;
  }
  return nullptr;
}

}  // namespace cgio
