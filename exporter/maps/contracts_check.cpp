// The BPF <-> C++ contracts (bpf/contracts/*.h), checked at compile time
// from the C++ side: a layout the exporter misreads would show as wrong
// numbers, not errors. Every struct that crosses the boundary is pinned
// here by size and by the offsets of the fields the C++ side reads; the
// enums by the maxima the arrays and tables are sized with.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "contracts/cgroup_events.h"
#include "contracts/cgroup_keys.h"
#include "contracts/common.h"
#include "contracts/net.h"
#include "contracts/vfs.h"

namespace {

template <typename T>
constexpr bool kPlainData = std::is_standard_layout_v<T>&& std::is_trivially_copyable_v<T>;

}  // namespace

// --- cgio_vfs: per-CPU hash, key __u64 cgroup id, value cgio_vfs_value ------
static_assert(kPlainData<cgio_vfs_value>);
static_assert(sizeof(cgio_vfs_value) == CGIO_VFS_COUNTER_MAX * sizeof(uint64_t));
static_assert(CGIO_VFS_COUNTER_MAX == 18, "metric_tables.cpp has one family per counter");
static_assert(offsetof(cgio_vfs_value, counter) == 0);
static_assert(sizeof(cgio_vfs_value) % 8 == 0, "per-CPU values are laid out 8-byte aligned");
static_assert(+CGIO_VFS_READ_BYTES == +CGIO_VFS_READS + +CGIO_OFF_BYTES);
static_assert(+CGIO_VFS_READ_ERRORS == +CGIO_VFS_READS + +CGIO_OFF_ERRORS);
static_assert(+CGIO_VFS_WRITE_BYTES == +CGIO_VFS_WRITES + +CGIO_OFF_BYTES);
static_assert(+CGIO_VFS_WRITE_ERRORS == +CGIO_VFS_WRITES + +CGIO_OFF_ERRORS);
static_assert(+CGIO_VFS_READS == +CGIO_VFS_READS + +CGIO_OFF_CALLS && CGIO_VFS_READS == 0);
static_assert(CGIO_VFS_OPEN_ERRORS == CGIO_VFS_OPENS + 1 && CGIO_VFS_CREATE_ERRORS == CGIO_VFS_CREATES + 1 &&
                  CGIO_VFS_UNLINK_ERRORS == CGIO_VFS_UNLINKS + 1 && CGIO_VFS_MKDIR_ERRORS == CGIO_VFS_MKDIRS + 1 &&
                  CGIO_VFS_RMDIR_ERRORS == CGIO_VFS_RMDIRS + 1,
              "cgio_count_call() counts errors in the slot after the calls");
static_assert(CGIO_VFS_MMAP_PAGEIN_BYTES == CGIO_VFS_RMDIR_ERRORS + 1 &&
                  CGIO_VFS_MMAP_DIRTIED_BYTES + 1 == CGIO_VFS_COUNTER_MAX,
              "the mmap byte counters follow the calls and errors");

// --- cgio_net: per-CPU hash, key __u64 cgroup id, value cgio_net_value ------
static_assert(kPlainData<cgio_net_value>);
static_assert(sizeof(cgio_net_value) == static_cast<std::size_t>(CGIO_NET_PROTOCOL_MAX) * CGIO_NET_FAMILY_MAX *
                                            CGIO_NET_COUNTER_MAX * sizeof(uint64_t));
static_assert(sizeof(cgio_net_value) % 8 == 0, "per-CPU values are laid out 8-byte aligned");
static_assert(offsetof(cgio_net_value, counter) == 0);
// metric_tables.cpp reads the flat array as [protocol][family][counter].
static_assert(offsetof(cgio_net_value, counter[1]) == +CGIO_NET_FAMILY_MAX * +CGIO_NET_COUNTER_MAX * sizeof(uint64_t));
static_assert(offsetof(cgio_net_value, counter[0][1]) == CGIO_NET_COUNTER_MAX * sizeof(uint64_t));
static_assert(CGIO_NET_PROTOCOL_MAX == 2 && CGIO_NET_FAMILY_MAX == 2 && CGIO_NET_COUNTER_MAX == 4,
              "the net label values (tcp/udp, ipv4/ipv6) and families are written for these");

// --- cgio_vfs_mounts: per-CPU hash, key cgio_mount_key, value cgio_mount_value
static_assert(kPlainData<cgio_mount_key> && kPlainData<cgio_mount_value>);
static_assert(sizeof(cgio_mount_key) == 16, "read as two __u64 words (maps/counter_source.cpp)");
static_assert(offsetof(cgio_mount_key, cgroup_id) == 0);
static_assert(offsetof(cgio_mount_key, mount) == 8, "the low half of the second key word");
static_assert(offsetof(cgio_mount_key, pad) == 12);
static_assert(sizeof(cgio_mount_key::mount) == sizeof(uint32_t));
static_assert(sizeof(cgio_mount_value) == CGIO_VFS_OPENS * sizeof(uint64_t),
              "the read and write counters, the first CGIO_VFS_OPENS of enum cgio_vfs_counter");
static_assert(offsetof(cgio_mount_value, counter) == 0);
// cgio_mounts: hash __u32 dev -> __u32 index; index 0 is "other".
static_assert(CGIO_MOUNT_OTHER == 0 && CGIO_MOUNTS_MAX == 64,
              "config/options.h kMaxMountpoints (63) is CGIO_MOUNTS_MAX minus the other slot");

// --- cgio_map_full: per-CPU array of CGIO_LOST_SLOTS __u64 ------------------
static_assert(CGIO_LOST_SLOTS == +CGIO_MAP_MAX * +CGIO_LOST_MAX);
static_assert(CGIO_MAP_VFS == 0 && CGIO_MAP_NET == 1 && CGIO_MAP_VFS_MOUNTS == 2 && CGIO_MAP_V1_UNITS == 3 &&
                  CGIO_MAP_MAX == 4,
              "app.cpp names the maps by these indices");
static_assert(CGIO_LOST_FULL == 0 && CGIO_LOST_NOMEM == 1 && CGIO_LOST_BUSY == 2 && CGIO_LOST_OTHER == 3 &&
                  CGIO_LOST_MAX == 4,
              "bpf_status.cpp names the reasons full, nomem, busy, other in this order");

// --- .rodata cgio_cfg: struct cgio_config, written before load -------------
static_assert(kPlainData<cgio_config>);
static_assert(sizeof(cgio_config) == 36);
static_assert(offsetof(cgio_config, include_pseudo_fs) == 0);
static_assert(offsetof(cgio_config, mountpoints) == 4);
static_assert(offsetof(cgio_config, cgroup_keys) == 8);
static_assert(offsetof(cgio_config, v1_subsys_id) == 12);
static_assert(offsetof(cgio_config, init_cgroupns_inum) == 16);
static_assert(offsetof(cgio_config, pt_regs_offset) == 20);
static_assert(offsetof(cgio_config, page_size) == 24);
static_assert(offsetof(cgio_config, v1_hierarchy_id) == 28);
static_assert(offsetof(cgio_config, generation) == 32);

// --- cgio_generation: array of one __u32 at CGIO_GENERATION_KEY --------------
static_assert(CGIO_GENERATION_KEY == 0);

// --- cgio_v1_units: hash __u64 v1 kernfs id -> __u32 enum cgio_v1_class ------
static_assert(CGIO_KEYS_V2 == 0 && CGIO_KEYS_V1 == 1 && CGIO_KEYS_HYBRID == 2,
              "cgroups/cgroup_space.h CgroupKeys has these values");
static_assert(CGIO_V1_KEY_BIT == 1ULL << 63 && CGIO_V1_PENDING == 1 && CGIO_V1_UNIT == 2);

// --- cgio_cgroup_events: ring buffer of struct cgio_cgroup_event -----------
static_assert(kPlainData<cgio_cgroup_event>);
static_assert(offsetof(cgio_cgroup_event, id) == 0);
static_assert(offsetof(cgio_cgroup_event, parent_id) == 8);
static_assert(offsetof(cgio_cgroup_event, time_ns) == 16);
static_assert(offsetof(cgio_cgroup_event, hierarchy_id) == 24);
static_assert(offsetof(cgio_cgroup_event, kind) == 28);
static_assert(offsetof(cgio_cgroup_event, init_cgroup_ns) == 32);
static_assert(offsetof(cgio_cgroup_event, path_len) == 36);
static_assert(offsetof(cgio_cgroup_event, name_len) == 38);
static_assert(offsetof(cgio_cgroup_event, data) == 40);
static_assert(sizeof(cgio_cgroup_event::data) == CGIO_CGROUP_PATH_MAX + CGIO_CGROUP_NAME_MAX);
static_assert(sizeof(cgio_cgroup_event) == 40 + CGIO_CGROUP_PATH_MAX + CGIO_CGROUP_NAME_MAX, "no padding");
static_assert(CGIO_CGROUP_PATH_MAX <= 0xffff, "path_len is a __u16");
static_assert(CGIO_CGROUP_MKDIR == 1 && CGIO_CGROUP_RMDIR == 2 && CGIO_CGROUP_RENAME == 3,
              "cgroups/cgroup_events.cpp switches on these kinds");
// cgio_events_lost: per-CPU array, one __u64 at CGIO_EVENTS_LOST.
static_assert(CGIO_EVENTS_LOST == 0);
