// Where the exporter's BPF state outlives the process (--bpf.pin-path): the
// shared maps and the program links pinned in a bpf filesystem, so the
// programs keep counting into the same maps while no exporter runs, and the
// next one (a restart, an upgrade) adopts them and loses no byte.
//
//   <root>/v<kPinLayout>/<map kernel name>   the shared maps (maps/shared_maps.h)
//   <root>/v<kPinLayout>/cgio_settings       what gives keys and values their meaning
//   <root>/v<kPinLayout>/links_<generation>/ the links of one generation's programs
//
// The layout version changes when the maps' contract does; a root holding
// another layout is refused with what to do. One exporter per root: the
// layout directory is locked for the process's life.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/bpf_handles.h"
#include "util/result.h"

namespace cgio {

inline constexpr uint32_t kPinLayout = 1;

// What must be the same for pinned counters to mean the same to a new
// process: how cgroups are keyed, and which filesystem each mount index is.
struct PinnedSettings {
  uint32_t layout = kPinLayout;
  uint32_t cgroup_keys = 0;      // enum cgio_cgroup_keys
  uint32_t v1_hierarchy_id = 0;  // the v1 controller's hierarchy (0 on cgroup2)
  uint32_t mount_count = 0;      // --vfs.mountpoints
  std::array<uint32_t, 64> mount_devs{};
  bool operator==(const PinnedSettings&) const = default;
};

class PinDir {
 public:
  // Opens (creating) the layout directory under `root`, which must be on a
  // bpf filesystem, and locks it; refuses another layout's state and a root
  // another exporter holds.
  static Result<PinDir> open(const std::string& root);

  const std::string& root() const { return root_; }
  const std::string& dir() const { return dir_; }
  std::string map_path(std::string_view kernel_name) const;
  std::string links_dir(uint32_t generation) const;

  // The settings the pinned maps were made with, compared with `now`: saved
  // when the maps are new (`maps_new`), else an error naming what differs.
  Result<void> check_settings(const PinnedSettings& now, bool maps_new) const;

  // Generations whose links are pinned, in no order.
  std::vector<uint32_t> link_generations() const;
  // Unpins every link of `generation` (its programs detach once nothing else
  // holds them) and removes its directory.
  Result<void> remove_links(uint32_t generation) const;

  // --bpf.unpin: removes everything cgio pinned under `root` (every layout):
  // the programs detach and the maps are freed. Nothing there is no error.
  static Result<void> remove_all(const std::string& root);

 private:
  std::string root_, dir_;
  Fd lock_;
};

// Opens the map pinned at `path`; -ENOENT (as a negative) when none is.
int open_pinned(const std::string& path);

}  // namespace cgio
