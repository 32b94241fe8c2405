#include "cgroups/workload_info.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include <nlohmann/json.hpp>

namespace cgio {
namespace {

std::optional<std::string> passwd_name(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
  return std::string(found->pw_name);
}

// Plain read(2): the files read here vanish under us (a removed cgroup's
// cgroup.procs and an exited task's environ fail with ENODEV or ESRCH), and
// libstdc++'s filebuf throws on a failed read. Any failure is "not found".
std::optional<std::string> read_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;  // environments and state files are far smaller
  }
  close(fd);
  return out;
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  closedir(d);
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The pids in `dir`'s cgroup.procs and in its descendants', depth first,
// at most `limit`.
void unit_pids(const std::string& dir, std::vector<pid_t>& out, size_t limit) {
  if (out.size() >= limit) return;
  if (auto procs = read_file(dir + "/cgroup.procs")) {
    std::istringstream in(*procs);
    for (pid_t pid; out.size() < limit && in >> pid;) out.push_back(pid);
  }
  for (const std::string& name : dir_entries(dir)) {
    const std::string sub = dir + "/" + name;
    DIR* d = opendir(sub.c_str());
    if (d == nullptr) continue;
    closedir(d);
    unit_pids(sub, out, limit);
  }
}

// NUL-separated NAME=value pairs.
std::vector<std::pair<std::string, std::string>> parse_environ(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find('\0', i);
    if (end == std::string::npos) end = text.size();
    const std::string_view entry(text.data() + i, end - i);
    if (const size_t eq = entry.find('='); eq != std::string_view::npos) {
      out.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    i = end + 1;
  }
  return out;
}

// `obj[key]` when it is a string, else "". The runtimes' state files are
// read as found: a field of another type (nlohmann's value() throws on
// one) is as good as absent.
std::string string_field(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void add(InfoLabels& labels, std::string name, std::string value) {
  if (!value.empty()) labels.emplace_back(std::move(name), std::move(value));
}

// "uid_<n>" in a Slurm v1 path.
std::optional<uid_t> uid_in_path(std::string_view path) {
  const size_t at = path.find("/uid_");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = path.substr(at + 5);
  rest = rest.substr(0, rest.find('/'));
  if (!all_digits(rest) || rest.size() > 9) return std::nullopt;
  return static_cast<uid_t>(std::stoul(std::string(rest)));
}

}  // namespace

WorkloadInfo::WorkloadInfo(WorkloadInfoRoots roots) : roots_(std::move(roots)) {
  if (!roots_.user_name) roots_.user_name = passwd_name;
}

WorkloadInfo::Found WorkloadInfo::lookup(const WorkloadIdentity& who, const std::vector<std::string>& unit_dirs) const {
  if (who.workload == "slurm") return slurm(who, unit_dirs);
  if (who.workload == "kubernetes") return kubernetes(who);
  if (who.workload == "podman") return podman(who.workload_id);
  if (who.workload == "docker") return docker(who.workload_id);
  return {{}, true};  // the id is the name (services, VMs) or there is none to find
}

WorkloadInfo::Found WorkloadInfo::slurm(const WorkloadIdentity& who, const std::vector<std::string>& unit_dirs) const {
  // The job's tasks carry its details in their environment (slurmstepd,
  // which also sits in some of the job's cgroups, has no SLURM_JOB_ID).
  std::vector<pid_t> pids;
  for (const std::string& dir : unit_dirs) unit_pids(dir, pids, 64);
  std::vector<std::pair<std::string, std::string>> env;
  for (pid_t pid : pids) {
    auto text = read_file(roots_.procfs + "/" + std::to_string(pid) + "/environ");
    if (!text) continue;
    auto vars = parse_environ(*text);
    const auto job = std::find_if(vars.begin(), vars.end(), [](const auto& v) { return v.first == "SLURM_JOB_ID"; });
    if (job != vars.end() && job->second == who.workload_id) {
      env = std::move(vars);
      break;
    }
  }
  const auto var = [&](std::string_view name) -> std::string {
    for (const auto& [k, v] : env) {
      if (k == name) return v;
    }
    return "";
  };
  std::optional<uid_t> uid = uid_in_path(who.unit_path);
  if (!uid && all_digits(var("SLURM_JOB_UID")) && var("SLURM_JOB_UID").size() <= 9) {
    uid = static_cast<uid_t>(std::stoul(var("SLURM_JOB_UID")));
  }
  Found f;
  std::string user = var("SLURM_JOB_USER");
  if (user.empty() && uid) user = roots_.user_name(*uid).value_or("");
  add(f.labels, "user", user);
  if (uid) add(f.labels, "uid", std::to_string(*uid));
  add(f.labels, "job_name", var("SLURM_JOB_NAME"));
  add(f.labels, "account", var("SLURM_JOB_ACCOUNT"));
  add(f.labels, "partition", var("SLURM_JOB_PARTITION"));
  f.complete = !env.empty();
  return f;
}

WorkloadInfo::Found WorkloadInfo::kubernetes(const WorkloadIdentity& who) const {
  Found f;
  // The kubelet names a pod's log directory <namespace>_<pod>_<uid>;
  // namespaces and pod names cannot contain '_'.
  const std::string suffix = "_" + who.workload_id;
  for (const std::string& name : dir_entries(roots_.pod_logs)) {
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    const std::string head = name.substr(0, name.size() - suffix.size());
    const size_t sep = head.find('_');
    if (sep == std::string::npos) continue;
    add(f.labels, "namespace", head.substr(0, sep));
    add(f.labels, "pod", head.substr(sep + 1));
    f.complete = true;
    break;
  }
  // Step mode: a container of the pod, whose cgroup ends in its id
  // ("[<runtime>-]<id>[.scope]").
  std::string_view last = who.unit_path;
  last.remove_prefix(last.rfind('/') + 1);
  if (last.ends_with(".scope")) last.remove_suffix(6);
  for (std::string_view runtime : {"cri-containerd-", "crio-", "docker-"}) {
    if (last.starts_with(runtime)) last.remove_prefix(runtime.size());
  }
  const bool container = last.size() == 64 && std::all_of(last.begin(), last.end(), [](char c) {
                           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                         });
  if (f.complete && container) {
    const std::string tail = "-" + std::string(last) + ".log";
    for (const std::string& name : dir_entries(roots_.container_logs)) {
      if (!name.ends_with(tail)) continue;
      const std::string head = name.substr(0, name.size() - tail.size());
      const size_t sep = head.rfind('_');
      if (sep != std::string::npos) add(f.labels, "container", head.substr(sep + 1));
      break;
    }
  }
  return f;
}

WorkloadInfo::Found WorkloadInfo::podman(const std::string& id) const {
  Found f;
  // containers/storage keeps one containers.json per graph driver
  // (overlay-containers, vfs-containers, ...): [{"id": ..., "names": [...]}].
  for (const std::string& dir : dir_entries(roots_.podman_storage)) {
    if (!dir.ends_with("-containers")) continue;
    auto text = read_file(roots_.podman_storage + "/" + dir + "/containers.json");
    if (!text) continue;
    const auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (!doc.is_array()) continue;
    for (const auto& c : doc) {
      if (!c.is_object() || string_field(c, "id") != id) continue;
      const auto names = c.find("names");
      if (names != c.end() && names->is_array() && !names->empty() && (*names)[0].is_string()) {
        add(f.labels, "name", (*names)[0].get<std::string>());
      }
      f.complete = true;
      return f;
    }
  }
  return f;
}

WorkloadInfo::Found WorkloadInfo::docker(const std::string& id) const {
  Found f;
  auto text = read_file(roots_.docker + "/containers/" + id + "/config.v2.json");
  if (!text) return f;
  const auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object()) return f;
  std::string name = string_field(doc, "Name");
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  add(f.labels, "name", name);
  f.complete = true;
  return f;
}

}  // namespace cgio
