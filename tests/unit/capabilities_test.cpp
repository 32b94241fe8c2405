// --capabilities.keep and the set the running exporter keeps, from the
// kernel version, kernel.unprivileged_bpf_disabled and what is held; and
// the drop itself reaching every thread (in a forked child, no root needed).
#include "kernel/capabilities.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace cgio {
namespace {

constexpr CapSet kEverything = (CapSet{1} << 41) - 1;  // CAP_CHOWN .. CAP_CHECKPOINT_RESTORE

CapSet listed(std::string_view text) {
  auto k = parse_capability_keep(text);
  EXPECT_TRUE(k) << text << ": " << (k ? "" : k.error().message);
  if (!k) return 0;
  EXPECT_EQ(k->mode, CapabilityKeep::Mode::listed) << text;
  return k->listed;
}

TEST(CapabilityKeep, ParsesTheModesAndNamesInAnyCase) {
  EXPECT_EQ(parse_capability_keep("auto")->mode, CapabilityKeep::Mode::automatic);
  EXPECT_EQ(parse_capability_keep("all")->mode, CapabilityKeep::Mode::all);
  EXPECT_EQ(listed("none"), 0u);
  EXPECT_EQ(listed("cap_bpf"), cap_bit(kCapBpf));
  EXPECT_EQ(listed("CAP_BPF,cap_dac_read_search"), cap_bit(kCapBpf) | cap_bit(kCapDacReadSearch));
  EXPECT_EQ(capability_names(listed("cap_bpf,CAP_DAC_READ_SEARCH")), "cap_dac_read_search,cap_bpf");
  EXPECT_EQ(capability_names(0), "none");
}

TEST(CapabilityKeep, RejectsUnknownNamesNumbersAndEmptyItems) {
  for (const char* bad :
       {"cap_foo", "bpf", "12", "", "cap_bpf,", ",cap_bpf", "cap_bpf,,cap_perfmon", "none,cap_bpf", "all,cap_bpf"}) {
    auto k = parse_capability_keep(bad);
    ASSERT_FALSE(k) << '"' << bad << "\" was accepted";
    EXPECT_EQ(k.error().kind, ErrorKind::bad_input) << bad;
    EXPECT_NE(k.error().message.find("unknown capability"), std::string::npos) << k.error().message;
  }
}

TEST(CapabilityKeep, MapAccessNeedsCapBpfOnlyBefore65WithTheSysctlSet) {
  EXPECT_TRUE(map_access_needs_cap_bpf({6, 1, 0}, 2));
  EXPECT_TRUE(map_access_needs_cap_bpf({6, 4, 16}, 1));
  EXPECT_TRUE(map_access_needs_cap_bpf({6, 1, 0}, -1));  // unreadable: assumed set
  EXPECT_TRUE(map_access_needs_cap_bpf({}, 2));          // unknown version: assumed old
  EXPECT_FALSE(map_access_needs_cap_bpf({6, 1, 0}, 0));
  EXPECT_FALSE(map_access_needs_cap_bpf({6, 5, 0}, 2));
  EXPECT_FALSE(map_access_needs_cap_bpf({6, 18, 44}, 1));
}

KeptCapabilities keep_auto(KernelVersion v, int sysctl, CapSet permitted) {
  auto k = capabilities_to_keep({}, KeepInputs{v, sysctl, permitted});
  EXPECT_TRUE(k);
  return k ? *k : KeptCapabilities{};
}

TEST(CapabilityKeep, AutoKeepsWhatTheRunningExporterUsesOnThisKernel) {
  const CapSet base = cap_bit(kCapDacReadSearch) | cap_bit(kCapSysPtrace);
  const KeptCapabilities old_kernel = keep_auto({6, 1, 0}, 2, kEverything);
  EXPECT_EQ(old_kernel.keep, base | cap_bit(kCapBpf)) << capability_names(old_kernel.keep);
  EXPECT_NE(old_kernel.why.find("kernel.unprivileged_bpf_disabled=2"), std::string::npos) << old_kernel.why;
  EXPECT_EQ(keep_auto({6, 18, 0}, 2, kEverything).keep, base);
  EXPECT_EQ(keep_auto({6, 1, 0}, 0, kEverything).keep, base);
  // Loading needs these; the running exporter never does.
  for (const KernelVersion v : {KernelVersion{5, 10, 0}, KernelVersion{6, 1, 0}, KernelVersion{6, 18, 0}}) {
    const CapSet kept = keep_auto(v, 2, kEverything).keep;
    EXPECT_FALSE(kept & cap_bit(kCapSysAdmin)) << v.str();
    EXPECT_FALSE(kept & cap_bit(kCapPerfmon)) << v.str();
  }
}

TEST(CapabilityKeep, AutoKeepsOnlyWhatIsHeldAndSaysWhatIsMissing) {
  const CapSet held = cap_bit(kCapBpf) | cap_bit(kCapPerfmon) | cap_bit(kCapDacReadSearch);
  const KeptCapabilities k = keep_auto({6, 1, 0}, 2, held);
  EXPECT_EQ(k.keep, cap_bit(kCapBpf) | cap_bit(kCapDacReadSearch));
  EXPECT_NE(k.why.find("cap_sys_ptrace (not held)"), std::string::npos) << k.why;
}

TEST(CapabilityKeep, AListIsKeptExactlyAndMustBeHeld) {
  auto list = parse_capability_keep("cap_perfmon,cap_net_bind_service");
  ASSERT_TRUE(list);
  auto k = capabilities_to_keep(*list, KeepInputs{{6, 18, 0}, 2, kEverything});
  ASSERT_TRUE(k);
  EXPECT_EQ(capability_names(k->keep), "cap_net_bind_service,cap_perfmon");
  auto not_held = capabilities_to_keep(*list, KeepInputs{{6, 18, 0}, 2, cap_bit(kCapPerfmon)});
  ASSERT_FALSE(not_held);
  EXPECT_EQ(not_held.error().kind, ErrorKind::bad_input);
  EXPECT_NE(not_held.error().message.find("cap_net_bind_service"), std::string::npos) << not_held.error().message;
  auto all = capabilities_to_keep(*parse_capability_keep("all"), KeepInputs{{6, 1, 0}, 2, cap_bit(kCapBpf)});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->keep, cap_bit(kCapBpf));
}

// The status line `field` of thread `tid` of this process, as a number.
uint64_t status_hex(pid_t tid, const std::string& field) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      uint64_t v = 0;
      std::istringstream(line.substr(field.size() + 1)) >> std::hex >> v;
      return v;
    }
  }
  return ~uint64_t{0};
}

// In a child: threads started before the drop (as the web server's and the
// event reader's are) each end up with nothing but the kept set.
TEST(CapabilityDrop, ReachesEveryThread) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    std::vector<std::atomic<pid_t>> tids(4);
    for (size_t i = 0; i < tids.size(); ++i) {
      threads.emplace_back([&, i] {
        tids[i] = gettid();
        while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      });
    }
    for (auto& t : tids) {
      while (t == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Keep what is held of CAP_DAC_READ_SEARCH (as root: something to keep).
    const CapSet keep = status_hex(gettid(), "CapPrm") & cap_bit(kCapDacReadSearch);
    bool bounding = false;
    int bad = restrict_capabilities(keep, &bounding) ? 0 : 10;
    for (auto& t : tids) {
      for (const char* field : {"CapEff", "CapPrm"}) bad += status_hex(t, field) != keep;
      for (const char* field : {"CapInh", "CapAmb"}) bad += status_hex(t, field) != 0;
      bad += status_hex(t, "NoNewPrivs") != 1;
      if (bounding) bad += (status_hex(t, "CapBnd") & ~keep) != 0;
    }
    stop = true;
    for (auto& t : threads) t.join();
    _exit(bad);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "thread sets not as kept (10: the drop failed)";
}

}  // namespace
}  // namespace cgio
