#include "cgroups/workload_info.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fixture_tree.h"

namespace cgio {
namespace {

using test::FixtureTree;

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

const std::string kCid(64, 'c');

struct Node {
  FixtureTree cgroups, files;
  WorkloadInfo info{roots()};

  WorkloadInfoRoots roots() const {
    WorkloadInfoRoots r;
    r.procfs = files.root() + "/proc";
    r.podman_storage = files.root() + "/containers/storage";
    r.docker = files.root() + "/docker";
    r.pod_logs = files.root() + "/log/pods";
    r.container_logs = files.root() + "/log/containers";
    r.user_name = [](uid_t uid) -> std::optional<std::string> {
      if (uid == 1001) return "alice";
      return std::nullopt;
    };
    return r;
  }
};

TEST(WorkloadInfo, SlurmJobFromItsTasksEnvironment) {
  Node node;
  const std::string job = "/system.slice/slurmstepd.scope/job_77";
  node.cgroups.add(job + "/step_0/user/task_0");
  // slurmstepd sits in the job too, without the job's environment.
  write(node.cgroups.root() + job + "/step_0/cgroup.procs", "4000\n");
  write(node.files.root() + "/proc/4000/environ", std::string("PATH=/usr/bin\0", 14));
  write(node.cgroups.root() + job + "/step_0/user/task_0/cgroup.procs", "4242\n");
  const std::string env[] = {"SLURM_JOB_ID=77",         "SLURM_JOB_NAME=train", "SLURM_JOB_ACCOUNT=phys",
                             "SLURM_JOB_PARTITION=gpu", "SLURM_JOB_USER=alice", "SLURM_JOB_UID=1001"};
  std::string environ;
  for (const auto& e : env) environ += e + '\0';
  write(node.files.root() + "/proc/4242/environ", environ);
  const auto f = node.info.lookup({"slurm", "77", job, ""}, {node.cgroups.root() + job});
  EXPECT_TRUE(f.complete);
  EXPECT_EQ(f.labels,
            (InfoLabels{
                {"user", "alice"}, {"uid", "1001"}, {"job_name", "train"}, {"account", "phys"}, {"partition", "gpu"}}));
}

TEST(WorkloadInfo, SlurmV1JobBeforeItsTasksStartHasItsUserFromThePath) {
  Node node;
  const std::string job = "/slurm_n1/uid_1001/job_5";
  node.cgroups.add(job);
  write(node.cgroups.root() + job + "/cgroup.procs", "");
  const auto f = node.info.lookup({"slurm", "5", job, ""}, {node.cgroups.root() + job});
  EXPECT_FALSE(f.complete) << "the job name may come once its tasks run";
  EXPECT_EQ(f.labels, (InfoLabels{{"user", "alice"}, {"uid", "1001"}}));
  // A task of another job (a stale pid) is not this job's.
  write(node.cgroups.root() + job + "/cgroup.procs", "99\n");
  write(node.files.root() + "/proc/99/environ", std::string("SLURM_JOB_ID=6\0SLURM_JOB_NAME=x\0", 32));
  EXPECT_FALSE(node.info.lookup({"slurm", "5", job, ""}, {node.cgroups.root() + job}).complete);
}

// Files that fail to read (a removed cgroup's cgroup.procs and an exited
// task's environ fail with ENODEV; a directory fails with EISDIR) are not
// found: nothing throws (libstdc++'s filebuf would).
TEST(WorkloadInfo, FilesThatFailToReadAreNotFound) {
  Node node;
  const std::string job = "/slurm_n1/uid_0/job_8";
  node.cgroups.add(job + "/cgroup.procs");  // a directory: read(2) fails
  write(node.cgroups.root() + job + "/step_0/cgroup.procs", "77\n");
  std::filesystem::create_directories(node.files.root() + "/proc/77/environ");
  WorkloadInfo::Found f;
  EXPECT_NO_THROW(f = node.info.lookup({"slurm", "8", job, ""}, {node.cgroups.root() + job}));
  EXPECT_FALSE(f.complete);
  std::filesystem::create_directories(node.files.root() + "/docker/containers/" + kCid + "/config.v2.json");
  EXPECT_NO_THROW(f = node.info.lookup({"docker", kCid, "/docker/" + kCid, ""}, {}));
  EXPECT_FALSE(f.complete);
}

TEST(WorkloadInfo, PodNamespaceAndNameFromTheKubeletsLogDirectories) {
  Node node;
  const std::string uid = "3f2a1b4c-1111-2222-3333-444455556666";
  std::filesystem::create_directories(node.files.root() + "/log/pods/prod_web-7d4b_" + uid + "/nginx");
  std::filesystem::create_directories(node.files.root() + "/log/pods/other_db-0_aaaa");
  write(node.files.root() + "/log/containers/web-7d4b_prod_nginx-" + kCid + ".log", "");
  const std::string pod = "/kubepods/burstable/pod" + uid;
  auto f = node.info.lookup({"kubernetes", uid, pod, ""}, {});
  EXPECT_TRUE(f.complete);
  EXPECT_EQ(f.labels, (InfoLabels{{"namespace", "prod"}, {"pod", "web-7d4b"}}));
  // Step mode: the unit is a container of the pod.
  f = node.info.lookup({"kubernetes", uid, pod + "/cri-containerd-" + kCid + ".scope", ""}, {});
  EXPECT_EQ(f.labels, (InfoLabels{{"namespace", "prod"}, {"pod", "web-7d4b"}, {"container", "nginx"}}));
  EXPECT_FALSE(node.info.lookup({"kubernetes", "nope", "/kubepods/podnope", ""}, {}).complete);
}

TEST(WorkloadInfo, ContainerNamesFromPodmanAndDockerState) {
  Node node;
  write(node.files.root() + "/containers/storage/overlay-containers/containers.json",
        R"([{"id":"other","names":["x"]},{"id":")" + kCid + R"(","names":["web"],"image":"i"}])");
  auto f = node.info.lookup({"podman", kCid, "/libpod_parent/libpod-" + kCid, ""}, {});
  EXPECT_TRUE(f.complete);
  EXPECT_EQ(f.labels, (InfoLabels{{"name", "web"}}));
  write(node.files.root() + "/docker/containers/" + kCid + "/config.v2.json", R"({"Name":"/api","Id":"x"})");
  f = node.info.lookup({"docker", kCid, "/docker/" + kCid, ""}, {});
  EXPECT_EQ(f.labels, (InfoLabels{{"name", "api"}}));
  // Unknown ids and broken files: nothing found, nothing thrown.
  write(node.files.root() + "/containers/storage/vfs-containers/containers.json", "{not json");
  EXPECT_FALSE(node.info.lookup({"podman", std::string(64, 'd'), "/x", ""}, {}).complete);
  EXPECT_TRUE(node.info.lookup({"systemd", "a.service", "/a.service", ""}, {}).complete);
}

}  // namespace
}  // namespace cgio
