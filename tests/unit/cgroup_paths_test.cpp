#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <map>

#include "cgroups/cgroup_paths.h"
#include "cgroups/cgroup_setup.h"
#include "cgroups/cgroup_space.h"
#include "fixture_tree.h"

namespace cgio {
namespace {

using test::FixtureTree;

std::map<uint64_t, std::string> walk(const CgroupHierarchy& h) {
  std::map<uint64_t, std::string> out;
  for (const auto& [id, path] : h.walk()) out[id] = path;
  return out;
}

TEST(CgroupHierarchy, WalkFindsRootAndNestedCgroupsByInodeNumber) {
  FixtureTree tree;
  const uint64_t slurm = tree.add("/system.slice/slurmstepd.scope/job_42/step_0/user/task_0");
  const uint64_t pod = tree.add("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice");
  std::ofstream(tree.root() + "/cgroup.procs") << "1\n";  // files are not cgroups
  const auto got = walk(CgroupHierarchy(tree.root()));
  EXPECT_EQ(got.at(tree.id("")), "/");
  EXPECT_EQ(got.at(slurm), "/system.slice/slurmstepd.scope/job_42/step_0/user/task_0");
  EXPECT_EQ(got.at(pod), "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice");
  EXPECT_EQ(got.size(), 10u);
}

TEST(CgroupHierarchy, ParentsComeBeforeChildren) {
  FixtureTree tree;
  tree.add("/a/b/c");
  tree.add("/d");
  std::map<std::string, size_t> order;
  const auto entries = CgroupHierarchy(tree.root()).walk();
  for (size_t i = 0; i < entries.size(); ++i) order[entries[i].second] = i;
  EXPECT_LT(order.at("/"), order.at("/a"));
  EXPECT_LT(order.at("/a"), order.at("/a/b"));
  EXPECT_LT(order.at("/a/b"), order.at("/a/b/c"));
}

TEST(CgroupHierarchy, EscapedNamesStayVerbatimAndTrailingSlashesAreIgnored) {
  FixtureTree tree;
  const uint64_t vm = tree.add("/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope");
  const auto got = walk(CgroupHierarchy(tree.root() + "/"));
  EXPECT_EQ(got.at(vm), "/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope");
}

TEST(CgroupHierarchy, MissingRootWalksNothingAndResolvesNothing) {
  CgroupHierarchy h("/nonexistent/cgroup/root");
  EXPECT_TRUE(h.walk().empty());
  EXPECT_FALSE(h.resolve(1));
}

TEST(CgroupHierarchy, ResolveNeedsKernfsHandles) {
  // A fixture tree is not a cgroup filesystem: there are no kernfs file
  // handles to open, so nothing resolves (the live tier covers cgroupfs).
  FixtureTree tree;
  const uint64_t a = tree.add("/a");
  EXPECT_FALSE(CgroupHierarchy(tree.root()).resolve(a));
}

}  // namespace
}  // namespace cgio

namespace cgio {
namespace {

// /proc/cgroups text and the mounts of a host: hybrid (cgroup2 beside v1
// controllers), pure v2 or pure v1.
struct HostFixture {
  std::string proc_cgroups;
  std::vector<Mount> mounts;

  explicit HostFixture(bool v2, bool v1) {
    char tmpl[] = "/tmp/cgio-proc-cgroups-XXXXXX";
    const int fd = mkstemp(tmpl);
    proc_cgroups = tmpl;
    const std::string text = std::string("#subsys_name\thierarchy\tnum_cgroups\tenabled\n") + "cpuset\t" +
                             (v1 ? "3" : "0") + "\t1\t1\ncpuacct\t" + (v1 ? "5" : "0") + "\t1\t1\n";
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    if (v2) mounts.push_back({"/sys/fs/cgroup/unified", "/", "cgroup2", "cgroup2", "rw,nsdelegate"});
    if (v1) mounts.push_back({"/sys/fs/cgroup/cpu,cpuacct", "/", "cgroup", "cgroup", "rw,cpu,cpuacct"});
  }
  ~HostFixture() { unlink(proc_cgroups.c_str()); }

  Result<CgroupChoice> choose(CgroupMode mode) const {
    return choose_cgroup_hierarchy(mode, "cpuacct", mounts, proc_cgroups,
                                   mounts.empty() || mounts[0].fs_type != "cgroup2" ? "" : mounts[0].mount_point);
  }
};

TEST(CgroupChoice, AutoOnAHybridHostChargesBothHierarchies) {
  const HostFixture host(true, true);
  auto c = host.choose(CgroupMode::automatic);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->keys, CgroupKeys::hybrid);
  EXPECT_EQ(c->v2_root, "/sys/fs/cgroup/unified");
  EXPECT_EQ(c->v1_root, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(c->hierarchy_id, 5u);
  EXPECT_EQ(c->space().keys(), CgroupKeys::hybrid);
}

TEST(CgroupChoice, AutoUsesWhicheverHierarchyIsMounted) {
  auto v2 = HostFixture(true, false).choose(CgroupMode::automatic);
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(v2->keys, CgroupKeys::v2);
  EXPECT_TRUE(v2->v1_root.empty());
  auto v1 = HostFixture(false, true).choose(CgroupMode::automatic);
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_EQ(v1->keys, CgroupKeys::v1);
  EXPECT_EQ(v1->reason, "no cgroup2 mount");
  auto none = HostFixture(false, false).choose(CgroupMode::automatic);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("neither cgroup2 nor a cgroup v1 cpuacct"), std::string::npos);
}

TEST(CgroupChoice, ForcedModesUseOneHierarchyOrSayWhatIsMissing) {
  const HostFixture hybrid(true, true);
  EXPECT_EQ(hybrid.choose(CgroupMode::v2)->keys, CgroupKeys::v2);
  EXPECT_EQ(hybrid.choose(CgroupMode::v1)->keys, CgroupKeys::v1);
  EXPECT_TRUE(hybrid.choose(CgroupMode::v1)->v2_root.empty());
  auto no_v1 = HostFixture(true, false).choose(CgroupMode::v1);
  ASSERT_FALSE(no_v1);
  EXPECT_EQ(no_v1.error().message, "no cgroup v1 hierarchy with controller cpuacct is mounted");
  EXPECT_FALSE(HostFixture(false, true).choose(CgroupMode::v2));
}

TEST(CgroupSpace, HybridWalksBothHierarchiesAndTagsTheV1Keys) {
  test::FixtureTree v2, v1;
  const uint64_t svc = v2.add("/system.slice/slurmd.service");
  const uint64_t job = v1.add("/slurm_n1/uid_0/job_7");
  const CgroupSpace space = CgroupSpace::hybrid(v2.root(), v1.root(), 5);
  std::map<uint64_t, std::pair<std::string, bool>> seen;
  for (const auto& e : space.walk()) seen[e.key] = {e.path, e.v1_of_hybrid};
  EXPECT_EQ(seen.at(svc), (std::pair<std::string, bool>{"/system.slice/slurmd.service", false}));
  const uint64_t job_key = job | (1ull << 63);
  EXPECT_EQ(seen.at(job_key), (std::pair<std::string, bool>{"/slurm_n1/uid_0/job_7", true}));
  EXPECT_TRUE(space.is_v1_key(job_key));
  EXPECT_FALSE(space.is_v1_key(svc));
  EXPECT_EQ(CgroupSpace::kernfs_id(job_key), job);
  // Events name (hierarchy, kernfs id); hierarchies not counted are ignored.
  EXPECT_EQ(space.key_of(0, svc), svc);
  EXPECT_EQ(space.key_of(5, job), job_key);
  EXPECT_FALSE(space.key_of(3, job));
}

TEST(CgroupSpace, SingleHierarchiesKeepPlainKernfsIds) {
  test::FixtureTree tree;
  const uint64_t id = tree.add("/slurm/uid_0/job_1");
  const CgroupSpace v1 = CgroupSpace::v1(tree.root(), 4);
  EXPECT_EQ(v1.key_of(4, id), id);
  EXPECT_FALSE(v1.key_of(0, id)) << "cgroup2 is not counted";
  EXPECT_FALSE(v1.is_v1_key(id));
  const CgroupSpace v2 = CgroupSpace::v2(tree.root());
  EXPECT_EQ(v2.key_of(0, id), id);
  EXPECT_FALSE(v2.key_of(4, id));
  for (const auto& e : v1.walk()) EXPECT_FALSE(e.v1_of_hybrid);
}

}  // namespace
}  // namespace cgio
