#include <gtest/gtest.h>

#include "kernel/mounts.h"

namespace cgio {
namespace {

TEST(Mounts, HybridHostHasCgroup2BesideV1Controllers) {
  auto mounts = read_mountinfo(CGIO_FIXTURES "/mountinfo-hybrid");
  ASSERT_TRUE(mounts) << mounts.error().message;
  auto cg2 = find_mount(*mounts, "cgroup2");
  ASSERT_TRUE(cg2);
  EXPECT_EQ(cg2->mount_point, "/sys/fs/cgroup/unified");
  auto tracefs = find_mount(*mounts, "tracefs");
  ASSERT_TRUE(tracefs);
  EXPECT_EQ(tracefs->mount_point, "/sys/kernel/tracing");
  EXPECT_FALSE(find_mount(*mounts, "debugfs"));
}

TEST(Mounts, OctalEscapesAreDecoded) {
  auto mounts = read_mountinfo(CGIO_FIXTURES "/mountinfo-hybrid");
  ASSERT_TRUE(mounts);
  bool found = false;
  for (const Mount& m : *mounts) found = found || m.mount_point == "/mnt/with space";
  EXPECT_TRUE(found);
}

TEST(Mounts, PrefersTheMountOfTheHierarchyRoot) {
  // In a container the namespace's own cgroup2 view has a non-root root;
  // the host's hierarchy mounted at /host/sys/fs/cgroup is the whole tree.
  auto mounts = read_mountinfo(CGIO_FIXTURES "/mountinfo-container");
  ASSERT_TRUE(mounts);
  auto cg2 = find_mount(*mounts, "cgroup2");
  ASSERT_TRUE(cg2);
  EXPECT_EQ(cg2->mount_point, "/host/sys/fs/cgroup");
}

TEST(Mounts, MissingFileIsAnError) {
  auto mounts = read_mountinfo("/nonexistent/mountinfo");
  ASSERT_FALSE(mounts);
  EXPECT_NE(mounts.error().message.find("/nonexistent/mountinfo"), std::string::npos);
}

TEST(Mounts, MalformedLinesAreSkipped) {
  const auto mounts = parse_mountinfo("garbage\n1 2 3:4 / /x rw - ext4 /dev/a rw\nno separator here at all x y\n");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].mount_point, "/x");
  EXPECT_EQ(mounts[0].fs_type, "ext4");
}

}  // namespace
}  // namespace cgio
