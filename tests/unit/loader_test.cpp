#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "loader.h"

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

const BpfObjectSpec kTp{"tp", nullptr};
const BpfObjectSpec kKp{"kp", nullptr};

std::vector<Implementation> table() {
  return {
      {"read", Domain::vfs, ProbeType::kprobe, "v1", &kKp, {"kp_read_entry", "kp_read_exit"}, nullptr},
      {"read", Domain::vfs, ProbeType::tracepoint, "sys_exit", &kTp, {"tp_read"}, nullptr},
      {"write", Domain::vfs, ProbeType::kprobe, "v1", &kKp, {"kp_write"}, nullptr},
      {"write", Domain::vfs, ProbeType::tracepoint, "sys_exit", &kTp, {"tp_write"}, nullptr},
      {"send", Domain::net, ProbeType::tracepoint, "sock_length", &kTp, {"tp_send"}, nullptr},
  };
}

const OperationStatus& op(const LoadedPrograms& r, const std::string& name) {
  return *std::find_if(r.operations.begin(), r.operations.end(),
                       [&](const OperationStatus& s) { return s.operation == name; });
}

KernelFacts no_facts() { return {}; }

TEST(Loader, LoadsEachObjectOnceWhenEverythingWorks) {
  FakeKernel k;
  FakeLoader loader(k);
  const auto t = table();
  auto r = load_programs({"read", "write", "send"}, t, no_facts(), loader);
  EXPECT_EQ(r.attached_count(), 3u);
  EXPECT_EQ(k.loads.size(), 2u) << "one load per object";
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::kprobe);
  EXPECT_EQ(op(r, "send").chosen->variant, "sock_length");
  EXPECT_EQ(k.attached, (std::set<std::string>{"kp_read_entry", "kp_read_exit", "kp_write", "tp_send"}));
}

TEST(Loader, OneRejectedProgramDoesNotTakeTheOthersDown) {
  FakeKernel k;
  k.reject_load = {"kp_write"};
  FakeLoader loader(k);
  const auto t = table();
  auto r = load_programs({"read", "write", "send"}, t, no_facts(), loader);
  EXPECT_EQ(r.attached_count(), 3u);
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::kprobe) << "read stays on kprobe";
  EXPECT_EQ(op(r, "write").chosen->probe_type, ProbeType::tracepoint) << "write falls back";
  ASSERT_EQ(op(r, "write").attempts.size(), 1u);
  EXPECT_NE(op(r, "write").attempts[0].find("kprobe/v1: load: verifier rejected kp_write"), std::string::npos)
      << op(r, "write").attempts[0];
}

TEST(Loader, PartialAttachIsUndoneAndTheOperationFallsBack) {
  FakeKernel k;
  k.reject_attach = {"kp_read_exit"};
  FakeLoader loader(k);
  const auto t = table();
  auto r = load_programs({"read"}, t, no_facts(), loader);
  EXPECT_TRUE(op(r, "read").attached);
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::tracepoint);
  EXPECT_FALSE(k.attached.contains("kp_read_entry")) << "half-attached operation must be detached";
  EXPECT_TRUE(k.attached.contains("tp_read"));
}

TEST(Loader, UnavailableImplementationIsSkippedWithItsReason) {
  FakeKernel k;
  FakeLoader loader(k);
  auto t = table();
  t[0].unavailable = [](const KernelFacts&) { return std::optional<std::string>("no kprobes here"); };
  auto r = load_programs({"read"}, t, no_facts(), loader);
  EXPECT_EQ(op(r, "read").chosen->probe_type, ProbeType::tracepoint);
  EXPECT_EQ(op(r, "read").attempts, std::vector<std::string>{"kprobe/v1: no kprobes here"});
  for (const auto& l : k.loads) {
    EXPECT_EQ(std::count(l.begin(), l.end(), "kp_read_entry"), 0) << "never loaded";
  }
}

TEST(Loader, OperationWithNothingWorkingIsReportedNotAttached) {
  FakeKernel k;
  k.reject_load = {"kp_read_entry", "tp_read"};
  FakeLoader loader(k);
  const auto t = table();
  auto r = load_programs({"read", "send"}, t, no_facts(), loader);
  EXPECT_FALSE(op(r, "read").attached);
  EXPECT_EQ(op(r, "read").attempts.size(), 2u);
  EXPECT_EQ(op(r, "read").probe_type_label(), "tracepoint") << "the last type tried";
  EXPECT_TRUE(op(r, "send").attached);
  EXPECT_EQ(r.attached_count(), 1u);
}

TEST(Loader, UnknownOperationIsReported) {
  FakeKernel k;
  FakeLoader loader(k);
  const auto t = table();
  auto r = load_programs({"nope"}, t, no_facts(), loader);
  EXPECT_FALSE(op(r, "nope").attached);
  EXPECT_EQ(op(r, "nope").attempts, std::vector<std::string>{"no implementation in catalogue"});
}

TEST(Catalogue, EveryOperationHasAnImplementationAndProgramsAreUnique) {
  std::set<std::pair<std::string, std::string>> seen;  // (object, program) per probe variant
  for (const auto& impl : catalogue()) {
    EXPECT_FALSE(impl.programs.empty()) << impl.operation;
    for (auto p : impl.programs) {
      EXPECT_TRUE(seen.insert({std::string(impl.object->name), std::string(p)}).second)
          << p << " is used by two operations";
    }
  }
  EXPECT_EQ(operations(Domain::vfs),
            (std::vector<std::string_view>{"vfs_read", "vfs_write", "vfs_open", "vfs_mkdir",
                                           "vfs_unlink", "vfs_rmdir"}));
  EXPECT_EQ(operations(Domain::net), (std::vector<std::string_view>{"net_send", "net_receive"}));
}

}  // namespace
}  // namespace cgio
