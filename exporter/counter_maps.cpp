#include "counter_maps.h"

#include <bpf/bpf.h>

#include <cerrno>

#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio {
namespace {

Result<Fd> create_map(bpf_map_type type, const char* name, uint32_t key_size, uint32_t value_size,
                      uint32_t entries, uint32_t flags) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  const int fd = bpf_map_create(type, name, key_size, value_size, entries, &opts);
  if (fd < 0) return errno_error(std::string("create BPF map ") + name, -fd);
  return Fd(fd);
}

}  // namespace

Result<CounterMaps> CounterMaps::create(const CounterMapsConfig& config) {
  CounterMaps maps;
  const uint32_t hash_flags = config.preallocate ? 0u : static_cast<uint32_t>(BPF_F_NO_PREALLOC);
  auto full = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "cgio_map_full", sizeof(uint32_t),
                         sizeof(uint64_t), CGIO_LOST_SLOTS, 0);
  if (!full) return Error{full.error()};
  maps.map_full_ = std::move(full.value());
  if (config.vfs) {
    auto m = create_map(BPF_MAP_TYPE_PERCPU_HASH, "cgio_vfs", sizeof(uint64_t),
                        sizeof(cgio_vfs_value), config.max_entries, hash_flags);
    if (!m) return Error{m.error()};
    maps.vfs_ = std::move(m.value());
  }
  if (config.net) {
    auto m = create_map(BPF_MAP_TYPE_PERCPU_HASH, "cgio_net", sizeof(uint64_t),
                        sizeof(cgio_net_value), config.max_entries, hash_flags);
    if (!m) return Error{m.error()};
    maps.net_ = std::move(m.value());
  }
  return maps;
}

}  // namespace cgio
