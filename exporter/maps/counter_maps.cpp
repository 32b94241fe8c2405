#include "maps/counter_maps.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <string>

#include "contracts/common.h"

namespace cgio {

namespace {

// A pinned map is adopted only if it has exactly the shape this run asks
// for; else why not, with the flag that sets it.
Result<void> check_shape(const SharedMapSpec& m, int fd, const std::string& path, uint32_t entries, uint32_t flags,
                         const std::string& root) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return errno_error("cannot inspect pinned map " + path, errno);
  std::string differs;
  if (info.type != m.type || info.key_size != m.key_size || info.value_size != m.value_size) {
    differs = "a different type, key or value size (another cgio version's map)";
  } else if (info.max_entries != entries) {
    differs = std::to_string(info.max_entries) + " entries where this start asks for " + std::to_string(entries) +
              (m.entries == 0 ? " (--bpf.map-entries)" : "");
  } else if (info.map_flags != flags) {
    differs = "other flags (made on another kernel?)";
  }
  if (differs.empty()) return {};
  return Error{"pinned map " + path + " has " + differs +
               ". Start with the flags it was made with, or discard the pinned counters (they restart from zero) "
               "with: cgio_exporter --bpf.unpin --bpf.pin-path=" +
               root};
}

}  // namespace

Result<CounterMaps> CounterMaps::create(const CounterMapsConfig& config, const PinDir* pins) {
  CounterMaps maps;
  for (const SharedMapSpec& m : shared_maps()) {
    if (m.needs && !config.domains[index_of(*m.needs)]) continue;
    const uint32_t flags = m.counter_hash && !config.preallocate ? static_cast<uint32_t>(BPF_F_NO_PREALLOC) : 0u;
    const uint32_t entries = m.entries != 0 ? m.entries : config.max_entries;
    const std::string name(m.kernel_name);
    const size_t i = static_cast<size_t>(m.id);
    if (pins != nullptr) {
      const std::string path = pins->map_path(name);
      if (const int fd = open_pinned(path); fd >= 0) {
        maps.fds_[i].reset(fd);
        if (auto ok = check_shape(m, fd, path, entries, flags, pins->root()); !ok) return ok.error();
        maps.adopted_[i] = true;
        continue;
      } else if (fd != -ENOENT) {
        return errno_error("cannot open pinned map " + path, -fd);
      }
    }
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
    const int fd =
        bpf_map_create(static_cast<bpf_map_type>(m.type), name.c_str(), m.key_size, m.value_size, entries, &opts);
    if (fd < 0) return errno_error("create BPF map " + name, -fd);
    maps.fds_[i].reset(fd);
    if (pins != nullptr && bpf_obj_pin(fd, pins->map_path(name).c_str()) != 0) {
      return errno_error("cannot pin map at " + pins->map_path(name), errno);
    }
  }
  return maps;
}

uint32_t CounterMaps::active_generation() const {
  const uint32_t key = CGIO_GENERATION_KEY;
  uint32_t value = 0;
  if (bpf_map_lookup_elem(fd(SharedMap::generation), &key, &value) != 0) return 0;
  return value;
}

Result<void> CounterMaps::set_active_generation(uint32_t generation) const {
  const uint32_t key = CGIO_GENERATION_KEY;
  if (bpf_map_update_elem(fd(SharedMap::generation), &key, &generation, BPF_ANY) != 0) {
    return errno_error("cannot switch the counting generation", errno);
  }
  return {};
}

uint32_t CounterMaps::kernel_id(SharedMap id) const {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd(id), &info, &len) != 0) return 0;
  return info.id;
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
