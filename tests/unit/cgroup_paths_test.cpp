#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "cgroups/cgroup_paths.h"
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
