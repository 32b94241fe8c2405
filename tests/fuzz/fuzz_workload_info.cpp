// What workload_info reads from files others write: a Slurm task's
// /proc/<pid>/environ, Podman's containers.json, Docker's config.v2.json.
// Input: a first byte choosing the file, then its content, placed in a
// scratch tree that stands for /proc, /var/lib/containers/storage and
// /var/lib/docker. Invariants: the lookup returns (no exception), every
// label has a value, and what it found comes from the input: a complete
// Slurm lookup means the environment named the job, a complete container
// lookup means the file named the container (Podman) or was a JSON object
// (Docker), and a name label is text of the input.
#include <sys/stat.h>

#include <string>

#include "cgroups/workload_info.h"
#include "fuzz_support.h"

namespace {

const std::string kJob = "4242";
const std::string kContainer(64, 'c');

struct Tree {
  std::string root = cgio::fuzz::scratch_dir() + "/info";
  Tree() {
    for (const std::string& d : std::initializer_list<std::string>{
             "", "/proc", "/proc/77", "/cgroup", "/podman", "/podman/overlay-containers", "/docker",
             "/docker/containers", "/docker/containers/" + kContainer, "/pods", "/containers"}) {
      ::mkdir((root + d).c_str(), 0700);
    }
    cgio::fuzz::write_file(root + "/cgroup/cgroup.procs", "77\n");
  }
  cgio::WorkloadInfo info() const {
    cgio::WorkloadInfoRoots roots;
    roots.procfs = root + "/proc";
    roots.podman_storage = root + "/podman";
    roots.docker = root + "/docker";
    roots.pod_logs = root + "/pods";
    roots.container_logs = root + "/containers";
    roots.user_name = [](uid_t uid) { return std::optional<std::string>("user" + std::to_string(uid)); };
    return cgio::WorkloadInfo(std::move(roots));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Tree tree;
  static const cgio::WorkloadInfo info = tree.info();
  const auto [which, content] = cgio::fuzz::take_choice(cgio::fuzz::as_text(data, size), 3);

  cgio::WorkloadIdentity who;
  std::string file;
  switch (which) {
    case 0:
      who = {"slurm", kJob, "/system.slice/slurmstepd.scope/job_" + kJob, ""};
      file = tree.root + "/proc/77/environ";
      break;
    case 1:
      who = {"podman", kContainer, "/machine.slice/libpod-" + kContainer + ".scope", ""};
      file = tree.root + "/podman/overlay-containers/containers.json";
      break;
    default:
      who = {"docker", kContainer, "/system.slice/docker-" + kContainer + ".scope", ""};
      file = tree.root + "/docker/containers/" + kContainer + "/config.v2.json";
      break;
  }
  cgio::fuzz::write_file(file, content);
  const auto found = info.lookup(who, {tree.root + "/cgroup"});
  for (const auto& [name, value] : found.labels) FUZZ_CHECK(!name.empty() && !value.empty());
  if (found.complete) {
    if (which == 0) FUZZ_CHECK(content.find("SLURM_JOB_ID=" + kJob) != std::string_view::npos);
    if (which == 1) FUZZ_CHECK(content.find(kContainer) != std::string_view::npos);
    if (which == 2) FUZZ_CHECK(content.find('{') != std::string_view::npos);
  }
  for (const auto& [name, value] : found.labels) {
    if (name == "job_name" || name == "account" || name == "partition") {
      FUZZ_CHECK(content.find("=" + value) != std::string_view::npos);
    }
  }
  ::unlink(file.c_str());
  return 0;
}
