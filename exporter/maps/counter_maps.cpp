#include "maps/counter_maps.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <string>

namespace cgio {

Result<CounterMaps> CounterMaps::create(const CounterMapsConfig& config) {
  CounterMaps maps;
  for (const SharedMapSpec& m : shared_maps()) {
    if (m.needs && !config.domains[index_of(*m.needs)]) continue;
    const uint32_t flags = m.counter_hash && !config.preallocate ? static_cast<uint32_t>(BPF_F_NO_PREALLOC) : 0u;
    const uint32_t entries = m.entries != 0 ? m.entries : config.max_entries;
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
    const std::string name(m.kernel_name);
    const int fd =
        bpf_map_create(static_cast<bpf_map_type>(m.type), name.c_str(), m.key_size, m.value_size, entries, &opts);
    if (fd < 0) return errno_error("create BPF map " + name, -fd);
    maps.fds_[static_cast<size_t>(m.id)].reset(fd);
  }
  return maps;
}

SharedMapFds CounterMaps::fds() const {
  SharedMapFds out{};
  for (size_t i = 0; i < kSharedMaps; ++i) out.fds[i] = fds_[i].get();
  return out;
}

Result<void> CounterMaps::set_mount_indexes(const std::vector<uint32_t>& devs) const {
  for (uint32_t i = 0; i < devs.size(); ++i) {
    const uint32_t index = i + 1;  // 0 is "other"
    if (bpf_map_update_elem(fd(SharedMap::mounts), &devs[i], &index, BPF_ANY) != 0) {
      return errno_error("cannot fill the mount map", errno);
    }
  }
  return {};
}

}  // namespace cgio
