#include "maps/pin_dir.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/log.h"

namespace cgio {
namespace {

// bpffs refuses dots in names (reserved for its own files).
constexpr std::string_view kLinksPrefix = "links_";
constexpr const char* kSettingsMap = "cgio_settings";
constexpr std::string_view kBpffsMountPoint = "/sys/fs/bpf";

bool on_bpffs(const std::string& path) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

Result<void> make_dir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return {};
  return errno_error("cannot create " + path, errno);
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") out.emplace_back(name);
  }
  closedir(d);
  return out;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Unlinks every pin under `dir` (depth first) and the directory itself.
Result<void> remove_tree(const std::string& dir) {
  for (const std::string& name : entries(dir)) {
    const std::string path = dir + "/" + name;
    if (is_dir(path)) {
      if (auto r = remove_tree(path); !r) return r;
    } else if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return errno_error("cannot unpin " + path, errno);
    }
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) return errno_error("cannot remove " + dir, errno);
  return {};
}

std::string describe(const PinnedSettings& s) {
  std::string mounts;
  for (uint32_t i = 0; i < s.mount_count && i < s.mount_devs.size(); ++i) {
    mounts += (i ? "," : "") + std::to_string(s.mount_devs[i] >> 20) + ":" + std::to_string(s.mount_devs[i] & 0xfffff);
  }
  return "cgroup keys " + std::to_string(s.cgroup_keys) + ", v1 hierarchy " + std::to_string(s.v1_hierarchy_id) +
         ", mount points [" + mounts + "]";
}

}  // namespace

int open_pinned(const std::string& path) {
  const int fd = bpf_obj_get(path.c_str());
  return fd >= 0 ? fd : -errno;
}

Result<PinDir> PinDir::open(const std::string& root) {
  PinDir p;
  p.root_ = root;
  while (p.root_.size() > 1 && p.root_.back() == '/') p.root_.pop_back();
  const size_t slash = p.root_.find_last_of('/');
  const std::string parent = slash == 0 || slash == std::string::npos ? "/" : p.root_.substr(0, slash);
  if (!on_bpffs(p.root_) && !on_bpffs(parent) && parent == kBpffsMountPoint) {
    // Where systemd mounts it; hosts without systemd may have none yet.
    if (mount("bpf", parent.c_str(), "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") != 0) {
      return errno_error("no bpf filesystem at " + parent + " and mounting one failed", errno);
    }
    log::info("mounted a bpf filesystem for the pinned state", {{"path", parent}});
  }
  if (!on_bpffs(p.root_) && !on_bpffs(parent)) {
    return Error{"--bpf.pin-path " + root +
                 " is not on a bpf filesystem: mount one (mount -t bpf bpf /sys/fs/bpf) or give "
                 "--bpf.pin-path=none to count without surviving restarts"};
  }
  if (auto r = make_dir(p.root_); !r) return r.error();
  const std::string mine = "v" + std::to_string(kPinLayout);
  for (const std::string& name : entries(p.root_)) {
    if (name != mine && name.size() > 1 && name[0] == 'v') {
      return Error{"--bpf.pin-path " + p.root_ + " holds the state of cgio pin layout " + name.substr(1) +
                   ", which this version (layout " + std::to_string(kPinLayout) +
                   ") cannot adopt; stop the exporter that uses it, or discard it (its counters restart "
                   "from zero) with: cgio_exporter --bpf.unpin --bpf.pin-path=" +
                   p.root_};
    }
  }
  p.dir_ = p.root_ + "/" + mine;
  if (auto r = make_dir(p.dir_); !r) return r.error();
  p.lock_.reset(::open(p.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!p.lock_.valid()) return errno_error("cannot open " + p.dir_, errno);
  if (flock(p.lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error{"another cgio_exporter uses --bpf.pin-path " + p.root_ + "; give each exporter its own pin path"};
    }
    return errno_error("cannot lock " + p.dir_, errno);
  }
  return p;
}

std::string PinDir::map_path(std::string_view kernel_name) const { return dir_ + "/" + std::string(kernel_name); }

std::string PinDir::links_dir(uint32_t generation) const {
  return dir_ + "/" + std::string(kLinksPrefix) + std::to_string(generation);
}

Result<void> PinDir::check_settings(const PinnedSettings& now, bool maps_new) const {
  const std::string path = map_path(kSettingsMap);
  const uint32_t key = 0;
  Fd fd(open_pinned(path));
  if (!fd.valid() || maps_new) {
    if (fd.valid()) {
      unlink(path.c_str());
      fd.reset();
    }
    const int made =
        bpf_map_create(BPF_MAP_TYPE_ARRAY, kSettingsMap, sizeof(uint32_t), sizeof(PinnedSettings), 1, nullptr);
    if (made < 0) return errno_error("cannot create map " + std::string(kSettingsMap), -made);
    fd.reset(made);
    if (bpf_map_update_elem(fd.get(), &key, &now, BPF_ANY) != 0) return errno_error("cannot save settings", errno);
    if (bpf_obj_pin(fd.get(), path.c_str()) != 0) return errno_error("cannot pin " + path, errno);
    return {};
  }
  PinnedSettings saved;
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0 || info.value_size != sizeof(PinnedSettings) ||
      bpf_map_lookup_elem(fd.get(), &key, &saved) != 0) {
    return Error{"the pinned settings at " + path + " are not this version's; discard the pinned state with: " +
                 "cgio_exporter --bpf.unpin --bpf.pin-path=" + root_};
  }
  if (saved == now) return {};
  return Error{"the counters pinned at " + dir_ + " were made with " + describe(saved) + "; this start has " +
               describe(now) +
               " (--cgroup.mode, --cgroup.v1-controller, --vfs.mountpoints), so their keys would mean other cgroups "
               "or filesystems. Start with the same flags, or discard the pinned counters (they restart from zero) "
               "with: cgio_exporter --bpf.unpin --bpf.pin-path=" +
               root_};
}

std::vector<uint32_t> PinDir::link_generations() const {
  std::vector<uint32_t> out;
  for (const std::string& name : entries(dir_)) {
    if (!name.starts_with(kLinksPrefix)) continue;
    const std::string digits = name.substr(kLinksPrefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 10) continue;
    out.push_back(static_cast<uint32_t>(std::stoul(digits)));
  }
  return out;
}

Result<void> PinDir::remove_links(uint32_t generation) const { return remove_tree(links_dir(generation)); }

Result<void> PinDir::remove_all(const std::string& root) {
  if (!is_dir(root)) return {};
  if (!on_bpffs(root)) return Error{root + " is not on a bpf filesystem; nothing of cgio is pinned there"};
  for (const std::string& name : entries(root)) {
    if (name.size() > 1 && name[0] == 'v' && name.find_first_not_of("0123456789", 1) == std::string::npos) {
      const std::string dir = root + "/" + name;
      Fd lock(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (lock.valid() && flock(lock.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        return Error{"a running cgio_exporter uses " + dir + "; stop it first"};
      }
      if (auto r = remove_tree(dir); !r) return r;
    }
  }
  if (rmdir(root.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY) {
    return errno_error("cannot remove " + root, errno);
  }
  return {};
}

}  // namespace cgio
