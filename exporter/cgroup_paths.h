// cgroup id -> path. A cgroup2 id is the inode number of the cgroup's
// directory, so paths are found by walking the hierarchy from its mount
// (getdents reports inode numbers: no stat per cgroup). Found paths are
// kept while the id may still have counters, so a cgroup that ended keeps
// its name; the walk is redone only when an unknown id shows up.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace cgio {

class CgroupPaths {
 public:
  // `root` is the cgroup2 mount point (or a fixture tree in tests).
  explicit CgroupPaths(std::string root);

  const std::string& root() const { return root_; }

  // Calls fn(i, path) for each ids[i]; path is relative to the root with a
  // leading slash ("/" for the root), or nullptr when the id cannot be
  // resolved (the cgroup is gone, or lives outside this mount). Walks the
  // hierarchy at most once per call, and only if some id was never seen.
  void resolve(std::span<const uint64_t> ids,
               const std::function<void(size_t, const std::string*)>& fn);

  uint64_t walks() const;

 private:
  void walk_locked();

  const std::string root_;
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, std::string> paths_;
  std::unordered_set<uint64_t> unresolvable_;
  uint64_t walks_ = 0;
};

}  // namespace cgio
