#include "exporter_maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio::bench {

Result<ExporterMaps> ExporterMaps::find(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return errno_error("open " + dir, errno);
  std::set<uint32_t> ids;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name);
    std::string line;
    while (std::getline(in, line)) {
      if (line.compare(0, 7, "map_id:") != 0) continue;
      try {
        ids.insert(static_cast<uint32_t>(std::stoul(line.substr(7))));
      } catch (...) {
      }
    }
  }
  closedir(d);

  ExporterMaps maps;
  for (uint32_t id : ids) {
    Fd fd(bpf_map_get_fd_by_id(id));
    if (!fd.valid()) continue;  // closed since
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
    const std::string name = info.name;
    Fd* slot = name == "cgio_vfs" ? &maps.vfs_ : name == "cgio_net" ? &maps.net_ : nullptr;
    if (slot == nullptr) continue;
    const uint32_t value_size = slot == &maps.vfs_ ? sizeof(cgio_vfs_value) : sizeof(cgio_net_value);
    if (info.type != BPF_MAP_TYPE_PERCPU_HASH || info.key_size != sizeof(uint64_t) || info.value_size != value_size) {
      return Error{"map " + name + " (id " + std::to_string(id) + ") is not a per-CPU hash of __u64 to " +
                   std::to_string(value_size / 8) + " __u64"};
    }
    if (slot->valid()) return Error{"process " + std::to_string(pid) + " holds two maps named " + name};
    *slot = std::move(fd);
  }
  if (!maps.vfs_.valid() || !maps.net_.valid()) {
    return Error{"process " + std::to_string(pid) + " holds no map named " +
                 (maps.vfs_.valid() ? "cgio_net" : "cgio_vfs")};
  }
  return maps;
}

Result<void> ExporterMaps::fill(int map_fd, size_t words, const std::vector<uint64_t>& ids) {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return errno_error("possible CPUs", -cpus);
  const size_t per_key = words * static_cast<size_t>(cpus);
  constexpr size_t kChunk = 1024;
  std::vector<uint64_t> keys, values;
  for (size_t at = 0; at < ids.size(); at += kChunk) {
    const size_t n = std::min(kChunk, ids.size() - at);
    keys.assign(ids.begin() + static_cast<std::ptrdiff_t>(at), ids.begin() + static_cast<std::ptrdiff_t>(at + n));
    values.assign(n * per_key, 0);
    for (size_t k = 0; k < n; ++k) {
      for (size_t c = 0; c < static_cast<size_t>(cpus); ++c) {
        for (size_t w = 0; w < words; ++w) values[k * per_key + c * words + w] = 1000 + keys[k] % 997 + w + c;
      }
    }
    // Maps without preallocation take entries from the BPF memory
    // allocator, whose per-CPU caches are refilled asynchronously (irq
    // work): a long burst of inserts runs them dry (ENOMEM) until the refill
    // ran. Give it a moment and go on from where the kernel stopped.
    size_t done = 0;
    int idle_retries = 0;
    while (done < n) {
      LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
      uint32_t count = static_cast<uint32_t>(n - done);
      const int rc = bpf_map_update_batch(map_fd, keys.data() + done, values.data() + done * per_key, &count, &opts);
      const int err = rc != 0 ? errno : 0;
      done += count;
      if (rc == 0) continue;
      if (err != ENOMEM || (count == 0 && ++idle_retries > 1000)) {
        return errno_error("BPF_MAP_UPDATE_BATCH after " + std::to_string(at + done) + " of " +
                               std::to_string(ids.size()) + " cgroups",
                           err);
      }
      if (count > 0) idle_retries = 0;
      usleep(1000);
    }
  }
  return {};
}

}  // namespace cgio::bench
