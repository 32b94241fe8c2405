#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "cgroups/workloads.h"

namespace cgio {
namespace {

// Real shapes: 64-hex container ids, pod UIDs as the kubelet writes them.
const std::string kCid = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kCid2 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const std::string kPodUid = "1d5b4c3a-2f6e-4b8a-9c7d-0e1f2a3b4c5d";
const std::string kPodUidSystemd = "1d5b4c3a_2f6e_4b8a_9c7d_0e1f2a3b4c5d";
const std::string kSluid = "s01JQ7Z9XKMN4P";  // 13 Crockford base32 characters after the s

WorkloadClassifier classifier(AggregateMode mode, const std::string& pattern = "") {
  auto c = WorkloadClassifier::create(pattern, mode);
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return std::move(c).value();
}

WorkloadIdentity classify(const std::string& path, AggregateMode mode, const std::string& pattern = "") {
  return classifier(mode, pattern).classify(path);
}

// Checks one path in all three modes. `unit` is the unit in mode unit,
// `step_unit` and `step` what mode step gives; leaf mode must give the
// path itself with the same workload.
void expect_all_modes(const std::string& path, const std::string& workload, const std::string& id,
                      const std::string& unit, const std::string& step_unit, const std::string& step = "",
                      const std::string& pattern = "") {
  SCOPED_TRACE(path);
  EXPECT_EQ(classify(path, AggregateMode::unit, pattern), (WorkloadIdentity{workload, id, unit, ""}));
  EXPECT_EQ(classify(path, AggregateMode::step, pattern), (WorkloadIdentity{workload, id, step_unit, step}));
  EXPECT_EQ(classify(path, AggregateMode::leaf, pattern), (WorkloadIdentity{workload, id, path, ""}));
}

// A path that is its own unit in every mode.
void expect_unit(const std::string& path, const std::string& workload, const std::string& id, const std::string& unit) {
  expect_all_modes(path, workload, id, unit, unit);
}

TEST(AggregateMode, ParsesAndPrints) {
  EXPECT_EQ(parse_aggregate_mode("unit"), AggregateMode::unit);
  EXPECT_EQ(parse_aggregate_mode("step"), AggregateMode::step);
  EXPECT_EQ(parse_aggregate_mode("leaf"), AggregateMode::leaf);
  EXPECT_FALSE(parse_aggregate_mode("Unit"));
  EXPECT_FALSE(parse_aggregate_mode(""));
  EXPECT_FALSE(parse_aggregate_mode("job"));
  for (auto mode : {AggregateMode::unit, AggregateMode::step, AggregateMode::leaf}) {
    EXPECT_EQ(parse_aggregate_mode(to_string(mode)), mode);
  }
  EXPECT_EQ(to_string(AggregateMode::step), "step");
}

// --- Slurm, cgroup v2 ---------------------------------------------------------

TEST(Workloads, SlurmV2TaskCountsTowardJobOrStep) {
  const std::string job = "/system.slice/slurmstepd.scope/job_42";
  expect_all_modes(job + "/step_0/user/task_0", "slurm", "42", job, job + "/step_0", "0");
  expect_all_modes(job + "/step_1/user/task_3", "slurm", "42", job, job + "/step_1", "1");
  expect_all_modes(job + "/step_batch/user/task_0", "slurm", "42", job, job + "/step_batch", "batch");
  expect_all_modes(job + "/step_extern/user/task_special", "slurm", "42", job, job + "/step_extern", "extern");
  expect_all_modes(job + "/step_interactive/user/task_0", "slurm", "42", job, job + "/step_interactive", "interactive");
  // slurmstepd's own processes for a step sit beside `user`.
  expect_all_modes(job + "/step_0/slurm", "slurm", "42", job, job + "/step_0", "0");
  expect_all_modes(job + "/step_0", "slurm", "42", job, job + "/step_0", "0");
  // Heterogeneous job components name their steps "<n>+<component>".
  expect_all_modes(job + "/step_0+1/user/task_0", "slurm", "42", job, job + "/step_0+1", "0+1");
}

TEST(Workloads, SlurmV2JobCgroupOutsideAStepStaysTheJob) {
  const std::string job = "/system.slice/slurmstepd.scope/job_42";
  expect_unit(job, "slurm", "42", job);
  // Not a step directory: the job's own.
  expect_unit(job + "/other", "slurm", "42", job);
  expect_unit(job + "/step_", "slurm", "42", job);
}

TEST(Workloads, SlurmV2NodePrefixedScope) {
  const std::string job = "/system.slice/node1_slurmstepd.scope/job_7";
  expect_all_modes(job + "/step_extern/user/task_special", "slurm", "7", job, job + "/step_extern", "extern");
  const std::string dashed = "/system.slice/cn-0042_slurmstepd.scope/job_8";
  expect_all_modes(dashed + "/step_0/user/task_1", "slurm", "8", dashed, dashed + "/step_0", "0");
}

TEST(Workloads, SlurmStepdScopeAndItsSystemCgroupAreNotJobs) {
  expect_unit("/system.slice/slurmstepd.scope", "systemd", "slurmstepd.scope", "/system.slice/slurmstepd.scope");
  expect_unit("/system.slice/slurmstepd.scope/system", "systemd", "slurmstepd.scope", "/system.slice/slurmstepd.scope");
  expect_unit("/system.slice/node1_slurmstepd.scope", "systemd", "node1_slurmstepd.scope",
              "/system.slice/node1_slurmstepd.scope");
  expect_unit("/system.slice/node1_slurmstepd.scope/system", "systemd", "node1_slurmstepd.scope",
              "/system.slice/node1_slurmstepd.scope");
  // "_slurmstepd.scope" with no node name is not the multiple-slurmd form.
  expect_unit("/system.slice/_slurmstepd.scope/job_1", "systemd", "_slurmstepd.scope",
              "/system.slice/_slurmstepd.scope");
}

TEST(Workloads, SlurmV2SluidJobDirectories) {
  const std::string prefixed = "/system.slice/slurmstepd.scope/job_" + kSluid;
  expect_all_modes(prefixed + "/step_0/user/task_0", "slurm", kSluid, prefixed, prefixed + "/step_0", "0");
  const std::string bare = "/system.slice/node1_slurmstepd.scope/" + kSluid;
  expect_all_modes(bare + "/step_batch/user/task_0", "slurm", kSluid, bare, bare + "/step_batch", "batch");
  expect_unit(bare, "slurm", kSluid, bare);
  // Either case; the id is reported as written.
  const std::string lower = "/system.slice/slurmstepd.scope/s01jq7z9xkmn4p";
  expect_all_modes(lower + "/step_0", "slurm", "s01jq7z9xkmn4p", lower, lower + "/step_0", "0");
}

TEST(Workloads, SlurmV2NotAJobDirectory) {
  const std::string scope = "/system.slice/slurmstepd.scope";
  for (const std::string child : {"s01JQ7Z9XKMN4",    // 12 characters
                                  "s01JQ7Z9XKMN4PQ",  // 14 characters
                                  "s01JQ7Z9XKMNIP",   // I is not Crockford base32
                                  "s01JQ7Z9XKMNUP",   // nor U
                                  "x01JQ7Z9XKMN4P",   // not s
                                  "job_abc", "job_", "job_12a", "user"}) {
    expect_unit(scope + "/" + child + "/step_0", "systemd", "slurmstepd.scope", scope);
  }
}

TEST(Workloads, SlurmV2AnywhereInThePath) {
  // A Slurm test cluster in Docker: the job is more specific than the container.
  const std::string job = "/system.slice/docker-" + kCid + ".scope/system.slice/slurmstepd.scope/job_3";
  expect_all_modes(job + "/step_0/user/task_0", "slurm", "3", job, job + "/step_0", "0");
}

// --- Slurm, cgroup v1 ---------------------------------------------------------

TEST(Workloads, SlurmV1ControllerHierarchy) {
  const std::string job = "/slurm/uid_1000/job_42";
  expect_all_modes(job + "/step_0/task_0", "slurm", "42", job, job + "/step_0", "0");
  expect_all_modes(job + "/step_batch/task_0", "slurm", "42", job, job + "/step_batch", "batch");
  expect_all_modes(job + "/step_extern/task_0", "slurm", "42", job, job + "/step_extern", "extern");
  expect_unit(job, "slurm", "42", job);
  const std::string node = "/slurm_node1/uid_0/job_9";
  expect_all_modes(node + "/step_1/task_2", "slurm", "9", node, node + "/step_1", "1");
}

TEST(Workloads, SlurmV1AboveTheJobIsNoWorkload) {
  expect_unit("/slurm", "cgroup", "/slurm", "/slurm");
  expect_unit("/slurm/uid_1000", "cgroup", "/slurm/uid_1000", "/slurm/uid_1000");
  expect_unit("/slurm/uid_x/job_1", "cgroup", "/slurm/uid_x/job_1", "/slurm/uid_x/job_1");
  expect_unit("/slurm_/uid_0/job_1", "cgroup", "/slurm_/uid_0/job_1", "/slurm_/uid_0/job_1");
  // Only at the root of a hierarchy.
  expect_unit("/a/slurm/uid_0/job_1", "cgroup", "/a/slurm/uid_0/job_1", "/a/slurm/uid_0/job_1");
}

// --- Kubernetes ---------------------------------------------------------------

TEST(Workloads, KubernetesSystemdDriverBurstable) {
  const std::string pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodUidSystemd + ".slice";
  const std::string container = pod + "/cri-containerd-" + kCid + ".scope";
  expect_all_modes(container, "kubernetes", kPodUid, pod, container);
  // Cgroups a container makes below itself stay in the container.
  expect_all_modes(container + "/nested", "kubernetes", kPodUid, pod, container);
  // The pod's own cgroup is the pod in every mode.
  expect_unit(pod, "kubernetes", kPodUid, pod);
}

TEST(Workloads, KubernetesSystemdDriverBestEffortCrio) {
  const std::string pod =
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodUidSystemd + ".slice";
  const std::string container = pod + "/crio-" + kCid + ".scope";
  expect_all_modes(container, "kubernetes", kPodUid, pod, container);
  // CRI-O's conmon is not a container: it stays the pod's, even in step mode.
  expect_unit(pod + "/crio-conmon-" + kCid + ".scope", "kubernetes", kPodUid, pod);
}

TEST(Workloads, KubernetesGuaranteedPodSitsUnderKubepods) {
  const std::string pod = "/kubepods.slice/kubepods-pod" + kPodUidSystemd + ".slice";
  const std::string container = pod + "/cri-containerd-" + kCid2 + ".scope";
  expect_all_modes(container, "kubernetes", kPodUid, pod, container);
  expect_unit(pod, "kubernetes", kPodUid, pod);
}

TEST(Workloads, DockerScopeInsideKubepodsIsKubernetes) {
  const std::string pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodUidSystemd + ".slice";
  const std::string container = pod + "/docker-" + kCid + ".scope";
  expect_all_modes(container, "kubernetes", kPodUid, pod, container);
}

TEST(Workloads, KubernetesStaticPodUidIsAHash) {
  const std::string pod =
      "/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod6d1c8e5fd2a1f1b1d3b0e2e1b3e0d7e0.slice";
  expect_unit(pod, "kubernetes", "6d1c8e5fd2a1f1b1d3b0e2e1b3e0d7e0", pod);
}

TEST(Workloads, KubernetesUnderANestedKubeletRoot) {
  // kind and other kubelets with --cgroup-root=/kubelet: every level is prefixed.
  const std::string pod =
      "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
      "kubelet-kubepods-besteffort-pod" +
      kPodUidSystemd + ".slice";
  const std::string container = pod + "/cri-containerd-" + kCid + ".scope";
  expect_all_modes(container, "kubernetes", kPodUid, pod, container);
}

TEST(Workloads, KubernetesCgroupfsDriver) {
  const std::string pod = "/kubepods/burstable/pod" + kPodUid;
  expect_all_modes(pod + "/" + kCid, "kubernetes", kPodUid, pod, pod + "/" + kCid);
  expect_unit(pod, "kubernetes", kPodUid, pod);
  const std::string besteffort = "/kubepods/besteffort/pod" + kPodUid;
  expect_all_modes(besteffort + "/" + kCid2, "kubernetes", kPodUid, besteffort, besteffort + "/" + kCid2);
  const std::string guaranteed = "/kubepods/pod" + kPodUid;
  expect_all_modes(guaranteed + "/" + kCid, "kubernetes", kPodUid, guaranteed, guaranteed + "/" + kCid);
}

TEST(Workloads, KubernetesLevelsAbovePodsAreNoWorkload) {
  for (const std::string path : {"/kubepods.slice", "/kubepods.slice/kubepods-burstable.slice",
                                 "/kubepods.slice/kubepods-besteffort.slice", "/kubepods", "/kubepods/burstable"}) {
    expect_unit(path, "cgroup", path, path);
  }
  // The QoS in the pod's name must be its parent's.
  const std::string mixed =
      "/kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" + kPodUidSystemd + ".slice";
  expect_unit(mixed, "cgroup", mixed, mixed);
}

TEST(Workloads, KubernetesComesBeforeSlurm) {
  // slurmd in a pod (Slinky): the rule order makes the pod the workload.
  const std::string pod = "/kubepods.slice/kubepods-pod" + kPodUidSystemd + ".slice";
  const std::string container = pod + "/cri-containerd-" + kCid + ".scope";
  expect_all_modes(container + "/system.slice/slurmstepd.scope/job_5/step_0/user/task_0", "kubernetes", kPodUid, pod,
                   container);
}

// --- Docker -------------------------------------------------------------------

TEST(Workloads, DockerSystemdDriver) {
  const std::string scope = "/system.slice/docker-" + kCid + ".scope";
  expect_unit(scope, "docker", kCid, scope);
  // A container running its own systemd: its cgroups are the container's.
  expect_unit(scope + "/init.scope", "docker", kCid, scope);
  expect_unit(scope + "/system.slice/nginx.service", "docker", kCid, scope);
}

TEST(Workloads, DockerCgroupfsDriver) {
  const std::string dir = "/docker/" + kCid;
  expect_unit(dir, "docker", kCid, dir);
  expect_unit(dir + "/sub", "docker", kCid, dir);
  // Docker in Docker: the outer container.
  expect_unit(dir + "/docker/" + kCid2, "docker", kCid, dir);
}

TEST(Workloads, DockerNeedsAFullContainerId) {
  expect_unit("/system.slice/docker.service", "systemd", "docker.service", "/system.slice/docker.service");
  expect_unit("/system.slice/docker-abc123.scope", "systemd", "docker-abc123.scope",
              "/system.slice/docker-abc123.scope");
  expect_unit("/docker", "cgroup", "/docker", "/docker");
  expect_unit("/docker/abc123", "cgroup", "/docker/abc123", "/docker/abc123");
}

// --- Podman -------------------------------------------------------------------

TEST(Workloads, PodmanRootful) {
  const std::string scope = "/machine.slice/libpod-" + kCid + ".scope";
  expect_unit(scope, "podman", kCid, scope);
  expect_unit(scope + "/container", "podman", kCid, scope);
  // Containers of a podman pod sit in the pod's slice.
  const std::string in_pod = "/machine.slice/machine-libpod_pod_" + kCid2 + ".slice/libpod-" + kCid + ".scope";
  expect_unit(in_pod, "podman", kCid, in_pod);
}

TEST(Workloads, PodmanRootless) {
  const std::string manager = "/user.slice/user-1000.slice/user@1000.service";
  const std::string scope = manager + "/user.slice/libpod-" + kCid + ".scope";
  expect_unit(scope, "podman", kCid, scope);
  expect_unit(scope + "/container", "podman", kCid, scope);
  const std::string in_pod = manager + "/user.slice/user-libpod_pod_" + kCid2 + ".slice/libpod-" + kCid + ".scope";
  expect_unit(in_pod, "podman", kCid, in_pod);
}

TEST(Workloads, PodmanConmonIsASystemdScope) {
  const std::string conmon = "/machine.slice/libpod-conmon-" + kCid + ".scope";
  expect_unit(conmon, "systemd", "libpod-conmon-" + kCid + ".scope", conmon);
  const std::string manager = "/user.slice/user-1000.slice/user@1000.service";
  expect_unit(manager + "/user.slice/libpod-conmon-" + kCid + ".scope", "systemd", "user@1000.service", manager);
}

// Without systemd (the cgroupfs manager) podman puts containers in
// /libpod_parent/libpod-<id>, or below --cgroup-parent; its conmon in the
// parent's own "conmon" cgroup.
TEST(Workloads, PodmanCgroupfsManagerAndCustomParents) {
  const std::string ctr = "/libpod_parent/libpod-" + kCid;
  expect_unit(ctr, "podman", kCid, ctr);
  expect_unit(ctr + "/init", "podman", kCid, ctr);
  expect_unit("/libpod_parent/conmon", "cgroup", "/libpod_parent/conmon", "/libpod_parent/conmon");
  expect_unit("/libpod_parent", "cgroup", "/libpod_parent", "/libpod_parent");
  const std::string custom = "/batch/ci/libpod-" + kCid;
  expect_unit(custom, "podman", kCid, custom);
  const std::string in_pod = "/libpod_parent/" + kCid2 + "/libpod-" + kCid;
  expect_unit(in_pod, "podman", kCid, in_pod);
  // The systemd manager with a --cgroup-parent slice of the site's own.
  const std::string slice = "/system.slice/libpod-" + kCid + ".scope";
  expect_unit(slice, "podman", kCid, slice);
  // Not container ids: too short, upper case, or the monitor.
  expect_unit("/libpod_parent/libpod-abc123", "cgroup", "/libpod_parent/libpod-abc123", "/libpod_parent/libpod-abc123");
  expect_unit("/libpod_parent/libpod-conmon-" + kCid, "cgroup", "/libpod_parent/libpod-conmon-" + kCid,
              "/libpod_parent/libpod-conmon-" + kCid);
}

// --- containerd ---------------------------------------------------------------

TEST(Workloads, ContainerdCgroupfsNamespacesAndNerdctlScopes) {
  for (const std::string ns : {"default", "k8s.io"}) {
    const std::string ctr = "/" + ns + "/" + kCid;
    expect_unit(ctr, "containerd", kCid, ctr);
  }
  const std::string scope = "/system.slice/nerdctl-" + kCid + ".scope";
  expect_unit(scope, "containerd", kCid, scope);
  // A namespace name only counts at the root; anything else is unrecognised.
  expect_unit("/srv/default/" + kCid, "cgroup", "/srv/default/" + kCid, "/srv/default/" + kCid);
  expect_unit("/default/abc", "cgroup", "/default/abc", "/default/abc");
}

// --- libvirt ------------------------------------------------------------------

TEST(Workloads, LibvirtQemuScope) {
  const std::string scope = "/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope";
  expect_unit(scope, "libvirt", "vm1", scope);
  for (const std::string sub : {"/libvirt", "/libvirt/emulator", "/libvirt/vcpu0", "/emulator", "/vcpu1"}) {
    expect_unit(scope + sub, "libvirt", "vm1", scope);
  }
}

TEST(Workloads, LibvirtVmNamesKeepTheirDashes) {
  const std::string scope = "/machine.slice/machine-qemu\\x2d12\\x2dweb\\x2dserver\\x2d01.scope";
  expect_unit(scope + "/libvirt/vcpu3", "libvirt", "web-server-01", scope);
  // A name that starts with digits and a dash is still after the domain id.
  const std::string digits = "/machine.slice/machine-qemu\\x2d3\\x2d2024\\x2dbuild.scope";
  expect_unit(digits, "libvirt", "2024-build", digits);
  // Any \xNN is unescaped.
  const std::string plus = "/machine.slice/machine-qemu\\x2d4\\x2dvm\\x2bone.scope";
  expect_unit(plus, "libvirt", "vm+one", plus);
}

TEST(Workloads, LibvirtOlderAndLxcNames) {
  // libvirt before 1.3: no domain id.
  const std::string old = "/machine.slice/machine-qemu\\x2dvm1.scope";
  expect_unit(old, "libvirt", "vm1", old);
  const std::string lxc = "/machine.slice/machine-lxc\\x2d4242\\x2dcontainer1.scope";
  expect_unit(lxc + "/sub", "libvirt", "container1", lxc);
}

TEST(Workloads, OtherMachinesAreSystemdScopes) {
  // systemd-nspawn registers "machine-<name>.scope" too.
  const std::string nspawn = "/machine.slice/machine-debian.scope";
  expect_unit(nspawn, "systemd", "machine-debian.scope", nspawn);
  // A domain without a name is not a VM libvirt made.
  const std::string no_name = "/machine.slice/machine-qemu\\x2d5\\x2d.scope";
  expect_unit(no_name, "systemd", "machine-qemu\\x2d5\\x2d.scope", no_name);
}

// --- systemd ------------------------------------------------------------------

TEST(Workloads, SystemdServicesAndScopes) {
  expect_unit("/system.slice/nginx.service", "systemd", "nginx.service", "/system.slice/nginx.service");
  expect_unit("/system.slice/system-getty.slice/getty@tty1.service", "systemd", "getty@tty1.service",
              "/system.slice/system-getty.slice/getty@tty1.service");
  expect_unit("/user.slice/user-1000.slice/session-3.scope", "systemd", "session-3.scope",
              "/user.slice/user-1000.slice/session-3.scope");
  expect_unit("/init.scope", "systemd", "init.scope", "/init.scope");
}

TEST(Workloads, SystemdOutermostUnitWins) {
  const std::string manager = "/user.slice/user-1000.slice/user@1000.service";
  expect_unit(manager + "/app.slice/foo.service", "systemd", "user@1000.service", manager);
  expect_unit(manager + "/init.scope", "systemd", "user@1000.service", manager);
  expect_unit(manager, "systemd", "user@1000.service", manager);
  // A service's delegated subtree.
  expect_unit("/system.slice/foo.service/payload", "systemd", "foo.service", "/system.slice/foo.service");
}

TEST(Workloads, SlicesAloneAreNoWorkload) {
  for (const std::string path : {"/system.slice", "/user.slice", "/user.slice/user-1000.slice", "/machine.slice",
                                 "/system.slice/.service", "/system.slice/.scope"}) {
    expect_unit(path, "cgroup", path, path);
  }
}

// --- fallback -----------------------------------------------------------------

TEST(Workloads, RootAndUnknownPathsAreTheirOwnUnit) {
  expect_unit("/", "cgroup", "/", "/");
  expect_unit("/foo", "cgroup", "/foo", "/foo");
  expect_unit("/foo/bar/baz", "cgroup", "/foo/bar/baz", "/foo/bar/baz");
}

// --- custom pattern -----------------------------------------------------------

TEST(WorkloadPattern, WithAWorkloadGroup) {
  const std::string pattern = "^/grid/(?<workload>htcondor)/slot(?<workload_id>\\d+)";
  // The match ends inside "slot12_3": the unit is that whole cgroup. Custom
  // units have no steps, so step mode is unit mode.
  const std::string slot = "/grid/htcondor/slot12_3";
  expect_all_modes(slot + "/proc", "htcondor", "12", slot, slot, "", pattern);
  expect_all_modes(slot, "htcondor", "12", slot, slot, "", pattern);
}

TEST(WorkloadPattern, WithoutAWorkloadGroupIsCustom) {
  const std::string pattern = "/lsf/job\\.(?<workload_id>\\d+)\\.";
  const std::string job = "/lsf/job.5123.1700000000";
  expect_all_modes(job + "/task", "custom", "5123", job, job, "", pattern);
  // The other spelling of a named group.
  expect_all_modes(job + "/task", "custom", "5123", job, job, "", "/lsf/job\\.(?'workload_id'\\d+)");
}

TEST(WorkloadPattern, MatchEndingWithASlashEndsInTheCgroupBefore) {
  const std::string pattern = "^/jobs/(?<workload_id>\\d+)/";
  expect_all_modes("/jobs/17/a/b", "custom", "17", "/jobs/17", "/jobs/17", "", pattern);
}

TEST(WorkloadPattern, ComesBeforeTheBuiltInLayouts) {
  const std::string pattern = "slurmstepd\\.scope/job_(?<workload_id>\\d+)";
  const std::string job = "/system.slice/slurmstepd.scope/job_42";
  expect_all_modes(job + "/step_0/user/task_0", "custom", "42", job, job, "", pattern);
}

TEST(WorkloadPattern, PathsItDoesNotMatchFallThrough) {
  const std::string pattern = "^/grid/slot(?<workload_id>\\d+)";
  expect_all_modes("/system.slice/nginx.service", "systemd", "nginx.service", "/system.slice/nginx.service",
                   "/system.slice/nginx.service", "", pattern);
  const std::string job = "/system.slice/slurmstepd.scope/job_42";
  expect_all_modes(job + "/step_batch/user/task_0", "slurm", "42", job, job + "/step_batch", "batch", pattern);
  expect_all_modes("/", "cgroup", "/", "/", "/", "", pattern);
  // A match whose workload_id is empty, or took no part, is no match.
  expect_all_modes("/grid/x", "cgroup", "/grid/x", "/grid/x", "/grid/x", "", "^/grid/(?<workload_id>\\d*)");
  expect_all_modes("/grid/x", "cgroup", "/grid/x", "/grid/x", "/grid/x", "", "^/grid/(?:(?<workload_id>\\d+)|x)");
}

TEST(WorkloadPattern, RepeatedGroupNameTakesTheOneThatMatched) {
  const std::string pattern = "^/a/(?<workload_id>\\d+)|^/b/x(?<workload_id>\\d+)";
  expect_all_modes("/b/x5/c", "custom", "5", "/b/x5", "/b/x5", "", pattern);
  expect_all_modes("/a/7", "custom", "7", "/a/7", "/a/7", "", pattern);
}

std::string pattern_error(const std::string& pattern) {
  auto c = WorkloadClassifier::create(pattern, AggregateMode::unit);
  EXPECT_FALSE(c) << pattern;
  return c ? "" : c.error().message;
}

TEST(WorkloadPattern, InvalidPatternsNameTheFlagPositionAndReason) {
  EXPECT_EQ(pattern_error("(?<workload_id>"),
            "invalid --cgroup.workload-pattern \"(?<workload_id>\": at position 15: "
            "unmatched marking parenthesis ( or \\(");
  EXPECT_EQ(pattern_error("/a[(?<workload_id>x)"),
            "invalid --cgroup.workload-pattern \"/a[(?<workload_id>x)\": at position 20: "
            "unmatched [ or [^ in character class declaration");
  EXPECT_EQ(pattern_error("*(?<workload_id>x)"),
            "invalid --cgroup.workload-pattern \"*(?<workload_id>x)\": at position 0: "
            "invalid preceding regular expression prior to repetition operator");
  // Python's named groups get a hint.
  EXPECT_EQ(pattern_error("/a/(?P<workload_id>x)"),
            "invalid --cgroup.workload-pattern \"/a/(?P<workload_id>x)\": at position 3: "
            "invalid or unterminated Perl (?...) sequence (name groups as (?<name>...))");
}

TEST(WorkloadPattern, WorkloadIdGroupIsRequired) {
  const std::string expected = ": it has no named group workload_id, as in (?<workload_id>[^/]+)";
  EXPECT_EQ(pattern_error("^/grid/slot(\\d+)"), "invalid --cgroup.workload-pattern \"^/grid/slot(\\d+)\"" + expected);
  EXPECT_EQ(pattern_error("^/grid/(?<workload>\\w+)/(?<workload_i>\\d+)"),
            "invalid --cgroup.workload-pattern \"^/grid/(?<workload>\\w+)/(?<workload_i>\\d+)\"" + expected);
  // Only a real group counts, not the text of one.
  EXPECT_EQ(pattern_error("\\(?<workload_id>x\\)"),
            "invalid --cgroup.workload-pattern \"\\(?<workload_id>x\\)\"" + expected);
}

TEST(WorkloadPattern, EmptyPatternIsNone) {
  auto c = WorkloadClassifier::create("", AggregateMode::step);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mode(), AggregateMode::step);
  EXPECT_EQ(c->classify("/grid/slot1").workload, "cgroup");
}

// --- as a value ---------------------------------------------------------------

TEST(WorkloadClassifier, CopiesShareThePatternAndKeepTheMode) {
  WorkloadClassifier original = classifier(AggregateMode::leaf, "^/grid/slot(?<workload_id>\\d+)");
  const WorkloadClassifier copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  WorkloadClassifier moved = std::move(original);
  for (const WorkloadClassifier* c : {&copy, static_cast<const WorkloadClassifier*>(&moved)}) {
    EXPECT_EQ(c->classify("/grid/slot4/x"), (WorkloadIdentity{"custom", "4", "/grid/slot4/x", ""}));
  }
  moved = classifier(AggregateMode::unit);
  EXPECT_EQ(moved.classify("/grid/slot4/x").workload, "cgroup");
  EXPECT_EQ(copy.classify("/grid/slot4/x").workload, "custom");
}

TEST(WorkloadClassifier, ConcurrentClassifyCalls) {
  const WorkloadClassifier c = classifier(AggregateMode::step, "^/grid/slot(?<workload_id>\\d+)");
  const std::string job = "/system.slice/slurmstepd.scope/job_42";
  const std::vector<std::pair<std::string, WorkloadIdentity>> cases = {
      {job + "/step_0/user/task_0", {"slurm", "42", job + "/step_0", "0"}},
      {"/grid/slot9/a", {"custom", "9", "/grid/slot9", ""}},
      {"/machine.slice/machine-qemu\\x2d1\\x2dvm\\x2d1.scope/libvirt",
       {"libvirt", "vm-1", "/machine.slice/machine-qemu\\x2d1\\x2dvm\\x2d1.scope", ""}},
      {"/", {"cgroup", "/", "/", ""}},
  };
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        for (const auto& [path, want] : cases) {
          if (c.classify(path) != want) ++failures[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace cgio
