// A cgroup hierarchy on disk: cgroup ids are the inode numbers of the
// cgroup directories, so the hierarchy can be walked for (id, path) pairs
// (getdents reports inode numbers: no stat per cgroup), and one id can be
// resolved directly through its kernfs file handle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cgio {

class CgroupHierarchy {
 public:
  // `root`: the hierarchy's mount point (cgroup2, or a v1 controller's), or
  // a fixture tree in tests.
  explicit CgroupHierarchy(std::string root);

  const std::string& root() const { return root_; }

  // Every cgroup with its path relative to the root ("/" for the root,
  // "/a/b" below it), parents before children. Cgroups removed during the
  // walk are simply absent.
  std::vector<std::pair<uint64_t, std::string>> walk() const;

  // The path of cgroup `id` if it exists, by opening it through its kernfs
  // file handle (needs CAP_DAC_READ_SEARCH; only works on cgroup file
  // systems). Nullopt when it is gone or cannot be opened.
  std::optional<std::string> resolve(uint64_t id) const;

 private:
  std::string root_;
};

}  // namespace cgio
