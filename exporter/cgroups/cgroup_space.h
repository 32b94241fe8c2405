// The cgroups I/O is charged to, as one space of counter-map keys
// (contracts/cgroup_keys.h): the cgroup2 hierarchy, the hierarchy of one v1
// controller, or on hybrid hosts both, the v1 keys tagged with
// CGIO_V1_KEY_BIT. Walks, id resolution and event routing go through it, so
// the tracker and the collectors never ask which hierarchy a key is from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/cgroup_paths.h"

namespace cgio {

// What the counter maps are keyed by (enum cgio_cgroup_keys).
enum class CgroupKeys : uint32_t { v2 = 0, v1 = 1, hybrid = 2 };

std::string_view to_string(CgroupKeys keys);

class CgroupSpace {
 public:
  // The v2 hierarchy alone (hierarchy id 0) or one v1 controller's.
  static CgroupSpace v2(std::string root);
  static CgroupSpace v1(std::string root, uint32_t hierarchy_id);
  static CgroupSpace hybrid(std::string v2_root, std::string v1_root, uint32_t v1_hierarchy_id);

  CgroupKeys keys() const { return keys_; }
  bool hybrid() const { return keys_ == CgroupKeys::hybrid; }

  struct Entry {
    uint64_t key;
    std::string path;
    bool v1_of_hybrid;  // from the v1 hierarchy of a hybrid host
  };
  // Every cgroup of every hierarchy counted, parents before children.
  std::vector<Entry> walk() const;
  // The path of the cgroup `key` names if it exists (CgroupHierarchy::resolve).
  std::optional<std::string> resolve(uint64_t key) const;
  // The key of cgroup `kernfs_id` of hierarchy `hierarchy_id` (as a cgroup
  // event reports them); nullopt for a hierarchy not counted.
  std::optional<uint64_t> key_of(uint32_t hierarchy_id, uint64_t kernfs_id) const;
  // The directory of the cgroup `key` names, at `path` in its hierarchy.
  std::string dir_of(uint64_t key, const std::string& path) const;
  // Whether `key` is a v1 cgroup of a hybrid host, and its kernfs id.
  bool is_v1_key(uint64_t key) const;
  static uint64_t kernfs_id(uint64_t key);

  // The roots, for the log: the v2 and the v1 root ("" when not counted).
  const std::string& v2_root() const { return v2_root_; }
  const std::string& v1_root() const { return v1_root_; }

 private:
  CgroupSpace(CgroupKeys keys, std::string v2_root, std::string v1_root, uint32_t v1_hierarchy_id);

  CgroupKeys keys_;
  std::string v2_root_, v1_root_;
  uint32_t v1_hierarchy_id_;
  std::optional<CgroupHierarchy> v2_, v1_;
};

}  // namespace cgio
