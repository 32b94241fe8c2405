#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "loading/loader.h"

namespace cgio {
namespace {

// A fake kernel: refuses to load objects containing a rejected program and
// to attach programs listed as failing; records what was loaded.
struct FakeKernel {
  std::set<std::string> reject_load;
  std::set<std::string> reject_attach;
  std::vector<std::vector<std::string>> loads;  // programs of each load call
  std::set<std::string> attached;
};

class FakeObject final : public LoadedObject {
 public:
  explicit FakeObject(FakeKernel& k) : k_(k) {}
  ~FakeObject() override {
    for (const auto& p : mine_) k_.attached.erase(p);
  }
  Result<void> attach(std::string_view program) override {
    if (k_.reject_attach.contains(std::string(program))) return Error{"attach refused"};
    k_.attached.insert(std::string(program));
    mine_.insert(std::string(program));
    return {};
  }
  void detach(std::string_view program) override {
    k_.attached.erase(std::string(program));
    mine_.erase(std::string(program));
  }
  bool has_links() const override { return !mine_.empty(); }
  int program_fd(std::string_view) const override { return -1; }

 private:
  FakeKernel& k_;
  std::set<std::string> mine_;
};

class FakeLoader final : public ObjectLoader {
 public:
  explicit FakeLoader(FakeKernel& k) : k_(k) {}
  Result<std::unique_ptr<LoadedObject>> load(const BpfObjectSpec&,
                                             const std::vector<std::string_view>& programs) override {
    std::vector<std::string> names(programs.begin(), programs.end());
    k_.loads.push_back(names);
    for (const auto& n : names) {
      if (k_.reject_load.contains(n)) return Error{"verifier rejected " + n};
    }
    return std::unique_ptr<LoadedObject>(std::make_unique<FakeObject>(k_));
  }

 private:
  FakeKernel& k_;
};

const BpfObjectSpec kTp{"tp", nullptr, nullptr};
const BpfObjectSpec kKp{"kp", nullptr, nullptr};

std::vector<Implementation> table() {
  return {
      {"read", ProgramGroup::vfs, ProbeType::kprobe, "v1", {}, &kKp, {"kp_read_entry", "kp_read_exit"}},
      {"read", ProgramGroup::vfs, ProbeType::tracepoint, "sys_exit", {}, &kTp, {"tp_read"}},
      {"write", ProgramGroup::vfs, ProbeType::kprobe, "v1", {}, &kKp, {"kp_write"}},
      {"write", ProgramGroup::vfs, ProbeType::tracepoint, "sys_exit", {}, &kTp, {"tp_write"}},
      {"send", ProgramGroup::net, ProbeType::tracepoint, "sock_length", {}, &kTp, {"tp_send"}},
  };
}

LoadedPrograms load(const std::vector<std::string_view>& ops, const std::vector<Implementation>& t,
                    ObjectLoader& loader, const KernelFacts& facts = {}) {
  return load_programs(make_plan(ops, t, facts, std::nullopt), loader);
}

const OperationStatus& op(const LoadedPrograms& r, const std::string& name) {
  return *std::find_if(r.operations.begin(), r.operations.end(),
                       [&](const OperationStatus& s) { return s.operation == name; });
}

TEST(Loader, LoadsEachObjectOnceWhenEverythingWorks) {
  FakeKernel k;
  FakeLoader loader(k);
  const auto t = table();
  auto r = load({"read", "write", "send"}, t, loader);
  EXPECT_EQ(r.attached_count(), 3u);
  EXPECT_EQ(k.loads.size(), 2u) << "one load per object";
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::kprobe);
  EXPECT_EQ(op(r, "send").chosen->variant, "sock_length");
  EXPECT_EQ(k.attached, (std::set<std::string>{"kp_read_entry", "kp_read_exit", "kp_write", "tp_send"}));
}

// The composition root puts the cgroup events first so that they attach
// before anything counts: objects load in plan order, whatever their address.
TEST(Loader, ObjectsLoadInPlanOrder) {
  for (const auto& order : {std::vector<std::string_view>{"send", "read"}, {"read", "send"}}) {
    FakeKernel k;
    FakeLoader loader(k);
    const auto t = table();
    auto r = load(order, t, loader);
    ASSERT_EQ(k.loads.size(), 2u);
    const std::string first = order[0] == "send" ? "tp_send" : "kp_read_entry";
    EXPECT_EQ(k.loads[0].front(), first) << "first in the plan: " << order[0];
  }
}

TEST(Loader, OneRejectedProgramDoesNotTakeTheOthersDown) {
  FakeKernel k;
  k.reject_load = {"kp_write"};
  FakeLoader loader(k);
  const auto t = table();
  auto r = load({"read", "write", "send"}, t, loader);
  EXPECT_EQ(r.attached_count(), 3u);
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::kprobe) << "read stays on kprobe";
  EXPECT_EQ(op(r, "write").chosen->probe_type, ProbeType::tracepoint) << "write falls back";
  ASSERT_EQ(op(r, "write").attempts.size(), 2u);
  EXPECT_EQ(op(r, "write").attempts[0].status, AttemptStatus::load_failed);
  EXPECT_EQ(op(r, "write").attempts[0].describe(), "kprobe/v1: verifier rejected kp_write");
  EXPECT_EQ(op(r, "write").attempts[1].status, AttemptStatus::attached);
}

TEST(Loader, PartialAttachIsUndoneAndTheOperationFallsBack) {
  FakeKernel k;
  k.reject_attach = {"kp_read_exit"};
  FakeLoader loader(k);
  const auto t = table();
  auto r = load({"read"}, t, loader);
  EXPECT_TRUE(op(r, "read").attached);
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::tracepoint);
  EXPECT_EQ(op(r, "read").attempts[0].status, AttemptStatus::attach_failed);
  EXPECT_FALSE(k.attached.contains("kp_read_entry")) << "half-attached operation must be detached";
  EXPECT_TRUE(k.attached.contains("tp_read"));
}

TEST(Loader, UnavailableImplementationIsSkippedWithItsReason) {
  FakeKernel k;
  FakeLoader loader(k);
  auto t = table();
  t[0].requires_ = [](const KernelFacts&) { return Result<void>(Error{"no kprobes here"}); };
  auto r = load({"read"}, t, loader);
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::tracepoint);
  ASSERT_EQ(op(r, "read").attempts.size(), 2u);
  EXPECT_EQ(op(r, "read").attempts[0].describe(), "kprobe/v1: no kprobes here");
  EXPECT_EQ(op(r, "read").attempts[0].status, AttemptStatus::requirement_missing);
  for (const auto& l : k.loads) {
    EXPECT_EQ(std::count(l.begin(), l.end(), "kp_read_entry"), 0) << "never loaded";
  }
}

TEST(Loader, OperationWithNothingWorkingIsReportedNotAttached) {
  FakeKernel k;
  k.reject_load = {"kp_read_entry", "tp_read"};
  FakeLoader loader(k);
  const auto t = table();
  auto r = load({"read", "send"}, t, loader);
  EXPECT_FALSE(op(r, "read").attached);
  EXPECT_EQ(op(r, "read").attempts.size(), 2u);
  EXPECT_EQ(op(r, "read").probe_type_label(), "tracepoint") << "the last type tried";
  EXPECT_EQ(op(r, "read").variant_label(), "sys_exit");
  EXPECT_TRUE(op(r, "send").attached);
  EXPECT_EQ(r.attached_count(), 1u);
}

TEST(Loader, RefusedRealProbeMovesToTheNextType) {
  FakeKernel k;
  FakeLoader loader(k);
  const auto t = table();
  KernelFacts facts;
  facts.probe = [](ProbeType type, std::string_view) -> Result<void> {
    if (type == ProbeType::kprobe) return Error{"no kprobe PMU"};
    return {};
  };
  auto r = load({"read", "write"}, t, loader, facts);
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::tracepoint);
  EXPECT_EQ(op(r, "read").attempts[0].status, AttemptStatus::probe_refused);
  for (const auto& l : k.loads) {
    EXPECT_EQ(std::count(l.begin(), l.end(), "kp_write"), 0) << "a refused type is never loaded";
  }
}

TEST(Loader, ForcedProbeTypeWithNothingAvailableAttachesNothing) {
  FakeKernel k;
  FakeLoader loader(k);
  const auto t = table();
  auto r = load_programs(make_plan({"read", "send"}, t, {}, ProbeType::fentry), loader);
  EXPECT_EQ(r.attached_count(), 0u);
  EXPECT_TRUE(k.loads.empty());
  EXPECT_TRUE(op(r, "send").attempts.empty()) << "no fentry implementation: nothing tried";
}

TEST(Catalogue, EveryOperationHasAnImplementationAndNoProgramServesTwoOperations) {
  std::map<std::pair<std::string, std::string>, std::string> owner;  // (object, program) -> operation
  for (const auto& impl : catalogue()) {
    EXPECT_FALSE(impl.programs.empty()) << impl.operation;
    for (auto p : impl.programs) {
      const auto [it, fresh] =
          owner.emplace(std::pair{std::string(impl.object->name), std::string(p)}, std::string(impl.operation));
      EXPECT_EQ(it->second, impl.operation) << p << " is used by two operations";
    }
  }
  for (std::string_view op : {"vfs_read", "vfs_write", "vfs_open", "vfs_mkdir", "vfs_unlink", "vfs_rmdir",
                              "vfs_transfer", "vfs_aio", "net_send", "net_receive", "net_transfer"}) {
    for (ProbeType type : kProbeTypesByPreference) {
      bool found = false;
      for (const auto& impl : catalogue()) found = found || (impl.operation == op && impl.probe_type == type);
      EXPECT_TRUE(found) << op << " has no " << to_string(type) << " implementation";
    }
  }
  EXPECT_EQ(operations(ProgramGroup::vfs),
            (std::vector<std::string_view>{"vfs_read", "vfs_write", "vfs_open", "vfs_mkdir", "vfs_unlink", "vfs_rmdir",
                                           "vfs_transfer", "vfs_aio", "vfs_io_uring", "vfs_mmap"}));
  // The io_uring completions and the page cache's folio events: one
  // tracepoint program each under every probe type.
  for (const auto& impl : catalogue()) {
    if (impl.operation == "vfs_io_uring" || impl.operation == "vfs_mmap") {
      EXPECT_TRUE(impl.every_probe_type);
      EXPECT_EQ(impl.probe_type, ProbeType::tracepoint);
    }
  }
  EXPECT_EQ(operations(ProgramGroup::net), (std::vector<std::string_view>{"net_send", "net_receive", "net_transfer"}));
}

}  // namespace
}  // namespace cgio
