#include "cgroup_paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "log.h"

namespace cgio {

CgroupPaths::CgroupPaths(std::string root) : root_(std::move(root)) {}

uint64_t CgroupPaths::walks() const {
  std::lock_guard lock(mutex_);
  return walks_;
}

void CgroupPaths::resolve(std::span<const uint64_t> ids,
                          const std::function<void(size_t, const std::string*)>& fn) {
  std::lock_guard lock(mutex_);
  bool unknown = false;
  for (uint64_t id : ids) {
    if (!paths_.contains(id) && !unresolvable_.contains(id)) {
      unknown = true;
      break;
    }
  }
  if (unknown) {
    walk_locked();
    for (uint64_t id : ids) {
      if (!paths_.contains(id)) unresolvable_.insert(id);
    }
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto it = paths_.find(ids[i]);
    fn(i, it == paths_.end() ? nullptr : &it->second);
  }
}

void CgroupPaths::walk_locked() {
  ++walks_;
  struct stat st{};
  if (stat(root_.c_str(), &st) != 0) {
    log::warn("cannot stat cgroup root", {{"path", root_}, {"err", std::strerror(errno)}});
    return;
  }
  paths_[st.st_ino] = "/";
  unresolvable_.erase(st.st_ino);

  // Depth-first over relative paths (not open descriptors, so a wide
  // hierarchy cannot exhaust the fd limit).
  std::vector<std::string> stack{""};
  while (!stack.empty()) {
    const std::string dir_path = std::move(stack.back());
    stack.pop_back();
    const std::string full = root_ + dir_path;
    DIR* d = opendir(full.c_str());
    if (d == nullptr) continue;  // removed during the walk
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] == '.' &&
          (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) {
        continue;
      }
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat est{};
        is_dir = fstatat(dirfd(d), e->d_name, &est, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISDIR(est.st_mode);
      }
      if (!is_dir) continue;
      std::string path = dir_path + "/" + e->d_name;
      paths_[e->d_ino] = path;
      unresolvable_.erase(e->d_ino);
      stack.push_back(std::move(path));
    }
    closedir(d);
  }
}

}  // namespace cgio
