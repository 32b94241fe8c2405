#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "contracts/common.h"
#include "maps/lost_updates.h"

#include "kernel/kernel.h"
#include "kernel/privileges.h"
#include "kernel/pt_regs_offset.h"
#include "util/log.h"
#include "web/web.h"

namespace cgio {
namespace {

TEST(KernelRelease, ParsesDistributionReleases) {
  EXPECT_EQ(parse_kernel_release("6.18.44-fc-v769"), (KernelVersion{6, 18, 44}));
  EXPECT_EQ(parse_kernel_release("6.1.0-47-cloud-amd64"), (KernelVersion{6, 1, 0}));
  EXPECT_EQ(parse_kernel_release("5.14.0-427.13.1.el9_4.x86_64"), (KernelVersion{5, 14, 0}));
  EXPECT_EQ(parse_kernel_release("6.19"), (KernelVersion{6, 19, 0}));
  EXPECT_EQ(parse_kernel_release("6.19-rc1"), (KernelVersion{6, 19, 0}));
  EXPECT_FALSE(parse_kernel_release("linux"));
  EXPECT_FALSE(parse_kernel_release("6"));
  EXPECT_LT((KernelVersion{5, 19, 0}), (KernelVersion{6, 1, 0}));
}

TEST(PtRegsOffset, AcceptsOnlyRegistersNearTheTopOfTheStack) {
  // x86_64 with 16 KiB stacks: the registers (168 bytes) end at the top.
  const uint64_t stack = 0xffffc90000a88000;
  auto offset = pt_regs_offset_from(stack + 16384 - 168, stack);
  ASSERT_TRUE(offset) << offset.error().message;
  EXPECT_EQ(*offset, 16216u);
  EXPECT_FALSE(pt_regs_offset_from(0, stack));                   // helper gave nothing
  EXPECT_FALSE(pt_regs_offset_from(stack + 16216, 0));           // no stack pointer read
  EXPECT_FALSE(pt_regs_offset_from(stack - 8, stack));           // below the stack
  EXPECT_FALSE(pt_regs_offset_from(stack, stack));               // at its very start
  EXPECT_FALSE(pt_regs_offset_from(stack + (1u << 20), stack));  // not this stack
  EXPECT_FALSE(pt_regs_offset_from(stack + 16217, stack));       // misaligned
}

TEST(Privileges, CapabilityCombinations) {
  constexpr uint64_t dac = 1ull << 2, sys_admin = 1ull << 21, perfmon = 1ull << 38, bpf = 1ull << 39;
  EXPECT_TRUE(check_bpf_capabilities(sys_admin | dac));
  EXPECT_TRUE(check_bpf_capabilities(bpf | perfmon | dac));
  for (const uint64_t without_dac : {sys_admin, bpf | perfmon, sys_admin | bpf | perfmon}) {
    auto r = check_bpf_capabilities(without_dac);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("missing capability CAP_DAC_READ_SEARCH:"), std::string::npos)
        << r.error().message;
  }
  auto none = check_bpf_capabilities(0);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("missing capability CAP_BPF and CAP_PERFMON"), std::string::npos);
  EXPECT_EQ(none.error().kind, ErrorKind::permission);
  auto no_perfmon = check_bpf_capabilities(bpf);
  ASSERT_FALSE(no_perfmon);
  EXPECT_NE(no_perfmon.error().message.find("missing capability CAP_PERFMON:"), std::string::npos)
      << no_perfmon.error().message;
}

TEST(Privileges, PerfEventParanoidThreeIsNamedWhenItIsWhyPerfEventOpenFailed) {
  constexpr uint64_t sys_admin = 1ull << 21, perfmon = 1ull << 38, bpf = 1ull << 39;
  const std::string hint = perf_event_refusal_hint(EACCES, 3, bpf | perfmon);
  EXPECT_NE(hint.find("kernel.perf_event_paranoid is 3"), std::string::npos) << hint;
  EXPECT_NE(hint.find("sysctl kernel.perf_event_paranoid=2"), std::string::npos) << hint;
  EXPECT_EQ(perf_event_refusal_hint(EPERM, 4, 0).find("kernel.perf_event_paranoid is 4"), 0u);
  EXPECT_EQ(perf_event_refusal_hint(EACCES, 2, bpf | perfmon), "") << "2 is what CAP_PERFMON is enough for";
  EXPECT_EQ(perf_event_refusal_hint(EACCES, 3, sys_admin), "") << "CAP_SYS_ADMIN passes the patch";
  EXPECT_EQ(perf_event_refusal_hint(ENOENT, 3, bpf | perfmon), "") << "not a refusal";
}

TEST(Privileges, PerfEventParanoidIsReadFromProcfs) {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("cgio-paranoid-" + std::to_string(getpid()));
  std::filesystem::create_directories(root / "sys/kernel");
  std::filesystem::create_directories(root / "self");
  std::ofstream(root / "sys/kernel/perf_event_paranoid") << "3\n";
  std::ofstream(root / "self/status") << "Name:\tx\nCapEff:\t000000c000000004\n";
  EXPECT_NE(perf_event_refusal_hint(EACCES, root.string()).find("is 3"), std::string::npos);
  std::ofstream(root / "self/status") << "Name:\tx\nCapEff:\t000000c000200004\n";
  EXPECT_EQ(perf_event_refusal_hint(EACCES, root.string()), "") << "with CAP_SYS_ADMIN";
  std::ofstream(root / "sys/kernel/perf_event_paranoid") << "2\n";
  std::ofstream(root / "self/status") << "Name:\tx\nCapEff:\t000000c000000004\n";
  EXPECT_EQ(perf_event_refusal_hint(EACCES, root.string()), "");
  EXPECT_EQ(perf_event_refusal_hint(EACCES, "/nonexistent"), "");
  std::filesystem::remove_all(root);
}

TEST(Privileges, ReadsCapEffFromProcfs) {
  auto caps = effective_capabilities("/proc");
  ASSERT_TRUE(caps) << caps.error().message;
  EXPECT_FALSE(effective_capabilities("/nonexistent"));
}

TEST(Log, LogfmtQuoting) {
  EXPECT_EQ(log::quote("plain"), "plain");
  EXPECT_EQ(log::quote(""), "\"\"");
  EXPECT_EQ(log::quote("two words"), "\"two words\"");
  EXPECT_EQ(log::quote("a=b"), "\"a=b\"");
  EXPECT_EQ(log::quote("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(log::parse_level("warn"), log::Level::warn);
  EXPECT_FALSE(log::parse_level("WARN"));
}

TEST(Web, LandingPageLinksTheEscapedTelemetryPath) {
  const std::string page = landing_page("/m<x>");
  EXPECT_NE(page.find("<a href=\"/m&lt;x&gt;\">Metrics</a>"), std::string::npos) << page;
}

}  // namespace
}  // namespace cgio

namespace cgio {
namespace {

TEST(LostUpdateLog, EachMapAndReasonIsLoggedOnceWhenItStartsLosing) {
  std::vector<std::string> names(CGIO_MAP_MAX);
  names[CGIO_MAP_VFS] = "vfs";
  names[CGIO_MAP_NET] = "net";
  LostUpdateLog log(names, 10);
  std::vector<uint64_t> slots(CGIO_LOST_SLOTS, 0);
  const auto slot = [](int map, int reason) { return static_cast<size_t>(map * CGIO_LOST_MAX + reason); };
  EXPECT_EQ(log.check(slots), 0u);
  slots[slot(CGIO_MAP_VFS, CGIO_LOST_FULL)] = 3;
  EXPECT_EQ(log.check(slots), 1u);
  slots[slot(CGIO_MAP_VFS, CGIO_LOST_FULL)] = 300;
  EXPECT_EQ(log.check(slots), 0u) << "once per map and reason";
  slots[slot(CGIO_MAP_VFS, CGIO_LOST_NOMEM)] = 1;
  slots[slot(CGIO_MAP_NET, CGIO_LOST_FULL)] = 1;
  slots[slot(CGIO_MAP_VFS_MOUNTS, CGIO_LOST_FULL)] = 1;  // not in use: not logged
  EXPECT_EQ(log.check(slots), 2u);
  EXPECT_EQ(log.check(slots), 0u);
}

}  // namespace
}  // namespace cgio
