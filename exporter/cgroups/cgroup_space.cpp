#include "cgroups/cgroup_space.h"

#include "contracts/cgroup_keys.h"

namespace cgio {

std::string_view to_string(CgroupKeys keys) {
  switch (keys) {
    case CgroupKeys::v2:
      return "v2";
    case CgroupKeys::v1:
      return "v1";
    case CgroupKeys::hybrid:
      return "hybrid";
  }
  return "v2";
}

CgroupSpace::CgroupSpace(CgroupKeys keys, std::string v2_root, std::string v1_root, uint32_t v1_hierarchy_id)
    : keys_(keys), v2_root_(std::move(v2_root)), v1_root_(std::move(v1_root)), v1_hierarchy_id_(v1_hierarchy_id) {
  if (!v2_root_.empty()) v2_.emplace(v2_root_);
  if (!v1_root_.empty()) v1_.emplace(v1_root_);
}

CgroupSpace CgroupSpace::v2(std::string root) { return {CgroupKeys::v2, std::move(root), "", 0}; }

CgroupSpace CgroupSpace::v1(std::string root, uint32_t hierarchy_id) {
  return {CgroupKeys::v1, "", std::move(root), hierarchy_id};
}

CgroupSpace CgroupSpace::hybrid(std::string v2_root, std::string v1_root, uint32_t v1_hierarchy_id) {
  return {CgroupKeys::hybrid, std::move(v2_root), std::move(v1_root), v1_hierarchy_id};
}

std::vector<CgroupSpace::Entry> CgroupSpace::walk() const {
  std::vector<Entry> out;
  if (v2_) {
    for (auto& [id, path] : v2_->walk()) out.push_back({id, std::move(path), false});
  }
  if (v1_) {
    const bool tag = hybrid();
    for (auto& [id, path] : v1_->walk()) out.push_back({tag ? id | CGIO_V1_KEY_BIT : id, std::move(path), tag});
  }
  return out;
}

bool CgroupSpace::is_v1_key(uint64_t key) const { return hybrid() && (key & CGIO_V1_KEY_BIT) != 0; }

uint64_t CgroupSpace::kernfs_id(uint64_t key) { return key & ~CGIO_V1_KEY_BIT; }

std::optional<std::string> CgroupSpace::resolve(uint64_t key) const {
  if (keys_ == CgroupKeys::v1) return v1_->resolve(key);
  if (is_v1_key(key)) return v1_->resolve(kernfs_id(key));
  return v2_->resolve(key);
}

std::string CgroupSpace::dir_of(uint64_t key, const std::string& path) const {
  const std::string& root = keys_ == CgroupKeys::v1 || is_v1_key(key) ? v1_root_ : v2_root_;
  return path == "/" ? root : root + path;
}

std::optional<uint64_t> CgroupSpace::key_of(uint32_t hierarchy_id, uint64_t kernfs_id) const {
  if (v2_ && hierarchy_id == 0) return kernfs_id;
  if (v1_ && hierarchy_id == v1_hierarchy_id_ && hierarchy_id != 0) {
    return hybrid() ? kernfs_id | CGIO_V1_KEY_BIT : kernfs_id;
  }
  return std::nullopt;
}

}  // namespace cgio
