#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "cgroup_paths.h"
#include "fixture_tree.h"

namespace cgio {
namespace {

using test::FixtureTree;

std::map<uint64_t, std::string> resolve(CgroupPaths& paths, const std::vector<uint64_t>& ids) {
  std::map<uint64_t, std::string> out;
  paths.resolve(ids, [&](size_t i, const std::string* p) { out[ids[i]] = p ? *p : "<none>"; });
  return out;
}

TEST(CgroupPaths, ResolvesRootAndNestedCgroups) {
  FixtureTree tree;
  const uint64_t slurm = tree.add("/system.slice/slurmstepd.scope/job_42/step_0/user/task_0");
  const uint64_t pod = tree.add("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice");
  std::ofstream(tree.root() + "/cgroup.procs") << "1\n";  // files are not cgroups
  CgroupPaths paths(tree.root());
  const auto got = resolve(paths, {tree.id(""), slurm, pod});
  EXPECT_EQ(got.at(tree.id("")), "/");
  EXPECT_EQ(got.at(slurm), "/system.slice/slurmstepd.scope/job_42/step_0/user/task_0");
  EXPECT_EQ(got.at(pod), "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice");
}

TEST(CgroupPaths, EscapedNamesStayVerbatim) {
  FixtureTree tree;
  const uint64_t vm = tree.add("/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope");
  CgroupPaths paths(tree.root());
  EXPECT_EQ(resolve(paths, {vm}).at(vm), "/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope");
}

TEST(CgroupPaths, WalksOnlyWhenAnUnknownIdAppears) {
  FixtureTree tree;
  const uint64_t a = tree.add("/a");
  CgroupPaths paths(tree.root());
  resolve(paths, {a});
  EXPECT_EQ(paths.walks(), 1u);
  resolve(paths, {a});
  resolve(paths, {a, tree.id("")});
  EXPECT_EQ(paths.walks(), 1u) << "known ids must not trigger a walk";
  const uint64_t b = tree.add("/a/b");
  EXPECT_EQ(resolve(paths, {a, b}).at(b), "/a/b");
  EXPECT_EQ(paths.walks(), 2u);
}

TEST(CgroupPaths, UnknownIdIsUnresolvedAndNotRewalkedEveryScrape) {
  FixtureTree tree;
  CgroupPaths paths(tree.root());
  const uint64_t ghost = 0xfffffffffff1ULL;  // beyond 32 bits on purpose
  EXPECT_EQ(resolve(paths, {ghost}).at(ghost), "<none>");
  EXPECT_EQ(resolve(paths, {ghost}).at(ghost), "<none>");
  EXPECT_EQ(paths.walks(), 1u);
}

TEST(CgroupPaths, RemovedCgroupKeepsTheNameItWasSeenWith) {
  FixtureTree tree;
  const uint64_t job = tree.add("/job_1");
  CgroupPaths paths(tree.root());
  EXPECT_EQ(resolve(paths, {job}).at(job), "/job_1");
  const uint64_t other = tree.add("/job_2");  // before the removal: no inode reuse
  tree.remove("/job_1");
  const auto got = resolve(paths, {job, other});  // walks again for job_2
  EXPECT_EQ(got.at(job), "/job_1");
  EXPECT_EQ(got.at(other), "/job_2");
}

TEST(CgroupPaths, MissingRootResolvesNothingWithoutCrashing) {
  CgroupPaths paths("/nonexistent/cgroup/root");
  EXPECT_EQ(resolve(paths, {1}).at(1), "<none>");
}

}  // namespace
}  // namespace cgio
