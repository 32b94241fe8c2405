#include "maps/counter_maps.h"

#include <bpf/bpf.h>

#include <cerrno>

#include "contracts/common.h"
#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio {
namespace {

Result<Fd> create_map(bpf_map_type type, const char* name, uint32_t key_size, uint32_t value_size, uint32_t entries,
                      uint32_t flags) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  const int fd = bpf_map_create(type, name, key_size, value_size, entries, &opts);
  if (fd < 0) return errno_error(std::string("create BPF map ") + name, -fd);
  return Fd(fd);
}

}  // namespace

Result<CounterMaps> CounterMaps::create(const CounterMapsConfig& config) {
  CounterMaps maps;
  const uint32_t hash_flags = config.preallocate ? 0u : static_cast<uint32_t>(BPF_F_NO_PREALLOC);
  auto full =
      create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "cgio_map_full", sizeof(uint32_t), sizeof(uint64_t), CGIO_LOST_SLOTS, 0);
  if (!full) return Error{full.error()};
  maps.map_full_ = std::move(full.value());
  if (config.vfs) {
    auto m = create_map(BPF_MAP_TYPE_PERCPU_HASH, "cgio_vfs", sizeof(uint64_t), sizeof(cgio_vfs_value),
                        config.max_entries, hash_flags);
    if (!m) return Error{m.error()};
    maps.vfs_ = std::move(m.value());
  }
  if (config.vfs && config.vfs_mounts) {
    auto m = create_map(BPF_MAP_TYPE_PERCPU_HASH, "cgio_vfs_mounts", sizeof(cgio_mount_key), sizeof(cgio_mount_value),
                        config.max_entries, hash_flags);
    if (!m) return Error{m.error()};
    maps.vfs_mounts_ = std::move(m.value());
    auto idx = create_map(BPF_MAP_TYPE_HASH, "cgio_mounts", sizeof(uint32_t), sizeof(uint32_t), CGIO_MOUNTS_MAX, 0);
    if (!idx) return Error{idx.error()};
    maps.mounts_ = std::move(idx.value());
  }
  // A removal event per cgroup removed; 1 MiB holds about 1,900 records,
  // enough for bursts of job ends between two wake-ups of the reader.
  auto ring = create_map(BPF_MAP_TYPE_RINGBUF, "cgio_cg_events", 0, 0, 1u << 20, 0);
  if (!ring) return Error{ring.error()};
  maps.cgroup_events_ = std::move(ring.value());
  auto lost = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "cgio_ev_lost", sizeof(uint32_t), sizeof(uint64_t), 1, 0);
  if (!lost) return Error{lost.error()};
  maps.events_lost_ = std::move(lost.value());
  if (config.net) {
    auto m = create_map(BPF_MAP_TYPE_PERCPU_HASH, "cgio_net", sizeof(uint64_t), sizeof(cgio_net_value),
                        config.max_entries, hash_flags);
    if (!m) return Error{m.error()};
    maps.net_ = std::move(m.value());
  }
  return maps;
}

}  // namespace cgio
