#include "cgroups/cgroup_paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "util/bpf_handles.h"
#include "util/log.h"

namespace cgio {

CgroupHierarchy::CgroupHierarchy(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::vector<std::pair<uint64_t, std::string>> CgroupHierarchy::walk() const {
  std::vector<std::pair<uint64_t, std::string>> out;
  struct stat st {};
  if (stat(root_.c_str(), &st) != 0) {
    log::warn("cannot stat cgroup root", {{"path", root_}, {"err", std::strerror(errno)}});
    return out;
  }
  out.emplace_back(st.st_ino, "/");
  // Depth-first over relative paths (not open descriptors, so a wide
  // hierarchy cannot exhaust the fd limit); children after their parent.
  std::vector<std::string> stack{""};
  while (!stack.empty()) {
    const std::string dir_path = std::move(stack.back());
    stack.pop_back();
    DIR* d = opendir((root_ + dir_path).c_str());
    if (d == nullptr) continue;  // removed during the walk
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) {
        continue;
      }
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat est {};
        is_dir = fstatat(dirfd(d), e->d_name, &est, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(est.st_mode);
      }
      if (!is_dir) continue;
      std::string path = dir_path + "/" + e->d_name;
      out.emplace_back(e->d_ino, path);
      stack.push_back(std::move(path));
    }
    closedir(d);
  }
  return out;
}

std::optional<std::string> CgroupHierarchy::resolve(uint64_t id) const {
  // kernfs exports its nodes with file handles of type FILEID_KERNFS whose
  // payload is the 64-bit node id, which is the cgroup id.
  constexpr int kFileidKernfs = 0xfe;
  alignas(file_handle) unsigned char buf[sizeof(file_handle) + sizeof(uint64_t)] = {};
  auto* handle = reinterpret_cast<file_handle*>(buf);
  handle->handle_bytes = sizeof(uint64_t);
  handle->handle_type = kFileidKernfs;
  std::memcpy(buf + sizeof(file_handle), &id, sizeof(id));
  Fd mount(open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!mount.valid()) return std::nullopt;
  Fd dir(open_by_handle_at(mount.get(), handle, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return std::nullopt;
  char target[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(dir.get());
  const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0) return std::nullopt;
  const std::string full(target, static_cast<size_t>(n));
  if (full == root_) return "/";
  if (full.compare(0, root_.size(), root_) != 0 || full.size() <= root_.size() || full[root_.size()] != '/') {
    return std::nullopt;  // outside this mount (another namespace's view)
  }
  return full.substr(root_.size());
}

}  // namespace cgio
