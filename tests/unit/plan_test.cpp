// The selection logic fed with BTF shaped like each kernel generation cgio
// must survive: the right variant per probe type, BTF winning over the
// version table, and clean refusals.
#include <gtest/gtest.h>

#include "btf_fixture.h"
#include "loading/plan.h"

namespace cgio {
namespace {

using test::KernelShape;
using test::shaped_btf;

struct Fixture {
  KernelBtf btf;
  KernelFacts facts;
  Fixture(const KernelShape& shape, KernelVersion version) : btf(shaped_btf(shape)) {
    facts.release = version.str() + "-fixture";
    facts.version = version;
    facts.btf = &btf;
    facts.btf_source = "fixture";
  }
  std::vector<OperationPlan> plan(std::optional<ProbeType> only = std::nullopt) const {
    std::vector<std::string_view> ops = operations(ProgramGroup::vfs);
    for (auto op : operations(ProgramGroup::net)) ops.push_back(op);
    return make_plan(ops, catalogue(), facts, only);
  }
};

const Choice& choice(const std::vector<OperationPlan>& plan, std::string_view op, ProbeType type) {
  for (const auto& p : plan) {
    if (p.operation != op) continue;
    for (const auto& c : p.choices) {
      if (c.type == type) return c;
    }
  }
  static const Choice none;
  ADD_FAILURE() << "no " << to_string(type) << " choice for " << op;
  return none;
}

KernelShape v5_8() { return {true, 6, true, false, false, true}; }
KernelShape v5_12() { return {true, 6, true, false, false, true}; }
KernelShape v6_3() { return {false, 5, true, true, true, true, true, true, true, true}; }
KernelShape v6_15() { return {false, 5, false, true, true, true, true, true, true, true}; }
KernelShape v6_19() { return {false, 4, false, true, true, true, true, true, true, true}; }

struct Generation {
  const char* name;
  KernelShape shape;
  KernelVersion version;
  const char* recv_variant;  // fentry net_receive
  const char* send_variant;  // fentry and kprobe net_send
  bool tracepoints;          // tracepoint type usable for vfs and net
};

void PrintTo(const Generation& g, std::ostream* os) { *os << g.name; }

class Generations : public ::testing::TestWithParam<Generation> {};

TEST_P(Generations, PickTheVariantWrittenForThem) {
  const Generation& g = GetParam();
  Fixture f(g.shape, g.version);
  const auto plan = f.plan();
  for (const auto& p : plan) {
    if (p.operation == "vfs_io_uring") {
      // One tracepoint for every probe type, there since 5.19.
      ASSERT_EQ(p.choices.size(), 1u);
      EXPECT_EQ(p.choices[0].type, ProbeType::tracepoint);
      EXPECT_EQ(p.choices[0].usable(), g.shape.io_uring_req) << p.choices[0].reason;
      continue;
    }
    if (p.operation == "vfs_mmap") {
      // The page cache's folio tracepoints, for every probe type.
      ASSERT_EQ(p.choices.size(), 1u);
      EXPECT_EQ(p.choices[0].type, ProbeType::tracepoint);
      EXPECT_EQ(p.choices[0].usable(), g.shape.folio_tps) << p.choices[0].reason;
      if (!g.shape.folio_tps) {
        EXPECT_NE(p.choices[0].reason.find("passing a struct folio"), std::string::npos) << p.choices[0].reason;
      }
      continue;
    }
    ASSERT_EQ(p.choices.size(), 3u) << p.operation;
    EXPECT_EQ(p.choices[0].type, ProbeType::fentry) << "fentry is preferred";
    EXPECT_EQ(p.choices[1].type, ProbeType::kprobe);
    EXPECT_EQ(p.choices[2].type, ProbeType::tracepoint);
  }
  const Choice& recv = choice(plan, "net_receive", ProbeType::fentry);
  EXPECT_TRUE(recv.usable()) << recv.reason;
  EXPECT_EQ(recv.variant(), g.recv_variant);
  EXPECT_TRUE(recv.note.empty()) << "version table and BTF agree: " << recv.note;
  EXPECT_EQ(choice(plan, "net_send", ProbeType::fentry).variant(), g.send_variant);
  EXPECT_EQ(choice(plan, "net_send", ProbeType::kprobe).variant(), g.send_variant);
  EXPECT_EQ(choice(plan, "net_receive", ProbeType::kprobe).variant(), g.recv_variant) << "recv flags (MSG_PEEK)";
  // libaio's completions are walked with bpf_loop (5.17+).
  EXPECT_EQ(choice(plan, "vfs_aio", ProbeType::fentry).usable(), g.shape.bpf_loop);
  EXPECT_EQ(choice(plan, "vfs_aio", ProbeType::tracepoint).usable(), g.tracepoints && g.shape.bpf_loop);
  for (const char* op : {"vfs_read", "vfs_write", "vfs_open", "vfs_mkdir", "vfs_unlink", "vfs_rmdir", "vfs_transfer"}) {
    EXPECT_TRUE(choice(plan, op, ProbeType::fentry).usable()) << op << choice(plan, op, ProbeType::fentry).reason;
    EXPECT_TRUE(choice(plan, op, ProbeType::kprobe).usable()) << op;
    const Choice& tp = choice(plan, op, ProbeType::tracepoint);
    EXPECT_EQ(tp.usable(), g.tracepoints) << op << ": " << tp.reason;
    if (g.tracepoints) {
      EXPECT_EQ(tp.variant(), "sys_exit_cast") << "files read without helper calls on 6.2+";
    }
    if (!g.tracepoints) {
      EXPECT_EQ(tp.status, AttemptStatus::requirement_missing);
      EXPECT_NE(tp.reason.find("bpf_task_pt_regs"), std::string::npos) << tp.reason;
    }
  }
  const Choice& net_tp = choice(plan, "net_send", ProbeType::tracepoint);
  EXPECT_EQ(net_tp.usable(), g.tracepoints);
  if (!g.tracepoints) {
    EXPECT_NE(net_tp.reason.find("sock_send_length"), std::string::npos) << net_tp.reason;
  }
}

INSTANTIATE_TEST_SUITE_P(Plan, Generations,
                         ::testing::Values(Generation{"v5_8", v5_8(), {5, 8, 0}, "noblock", "sendpage", false},
                                           Generation{"v5_12", v5_12(), {5, 12, 0}, "noblock", "sendpage", false},
                                           Generation{"v6_3", v6_3(), {6, 3, 0}, "addr_len", "sendpage", true},
                                           Generation{"v6_15", v6_15(), {6, 15, 0}, "addr_len", "sendmsg", true},
                                           Generation{"v6_19", v6_19(), {6, 19, 0}, "flags", "sendmsg", true}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Plan, BtfWinsOverTheVersionTableForBackportedPrototypes) {
  // A 6.1 kernel whose distribution backported the 4-parameter recvmsg.
  Fixture f(v6_19(), {6, 1, 0});
  const auto plan = f.plan();
  const Choice& recv = choice(plan, "net_receive", ProbeType::fentry);
  EXPECT_TRUE(recv.usable()) << recv.reason;
  EXPECT_EQ(recv.variant(), "flags");
  EXPECT_EQ(recv.version_variant, "addr_len");
  EXPECT_NE(recv.note.find("kernel 6.1.0 suggests variant addr_len but BTF matches flags"), std::string::npos)
      << recv.note;
  EXPECT_NE(recv.note.find("BTF wins"), std::string::npos);
}

TEST(Plan, SendpageStillPresentOnANewerVersionIsHookedToo) {
  // Version says 6.10 (no sendpage) but the kernel still has it.
  KernelShape shape = v6_15();
  shape.sendpage = true;
  Fixture f(shape, {6, 10, 0});
  const auto plan = f.plan();
  const Choice& send = choice(plan, "net_send", ProbeType::fentry);
  EXPECT_EQ(send.variant(), "sendpage");
  EXPECT_NE(send.note.find("tcp_sendpage exists"), std::string::npos) << send.note;
}

TEST(Plan, UnknownPrototypeRefusesTheProbeTypeCleanly) {
  KernelShape shape = v6_19();
  shape.recvmsg_params = 7;
  Fixture f(shape, {6, 19, 0});
  const auto plan = f.plan();
  const Choice& fentry = choice(plan, "net_receive", ProbeType::fentry);
  EXPECT_FALSE(fentry.usable());
  EXPECT_EQ(fentry.status, AttemptStatus::prototype_mismatch);
  EXPECT_NE(fentry.reason.find("no variant matches this kernel"), std::string::npos) << fentry.reason;
  EXPECT_NE(fentry.reason.find("tcp_recvmsg: 7 parameters"), std::string::npos) << fentry.reason;
  // The kprobe entry reads the flags argument, whose place depends on the
  // shape: refused too. The tracepoint has the flags as its own argument.
  EXPECT_EQ(choice(plan, "net_receive", ProbeType::kprobe).status, AttemptStatus::prototype_mismatch);
  EXPECT_TRUE(choice(plan, "net_receive", ProbeType::tracepoint).usable());
  // Other operations are unaffected.
  EXPECT_TRUE(choice(plan, "net_send", ProbeType::fentry).usable());
}

TEST(Plan, InlinedVfsReadvDisablesTheFentryReadButNotWrite) {
  KernelShape shape = v6_19();
  shape.vfs_readv = false;
  Fixture f(shape, {6, 19, 0});
  const auto plan = f.plan();
  const Choice& read = choice(plan, "vfs_read", ProbeType::fentry);
  EXPECT_FALSE(read.usable());
  EXPECT_NE(read.reason.find("vfs_readv is not in kernel BTF"), std::string::npos) << read.reason;
  EXPECT_TRUE(choice(plan, "vfs_write", ProbeType::fentry).usable());
}

TEST(Plan, WithoutRdonlyCastTheTracepointTypeReadsFilesWithProbeReads) {
  KernelShape shape = v6_3();
  shape.rdonly_cast = false;  // a 6.3 kernel built without the kfunc
  Fixture f(shape, {6, 3, 0});
  const auto plan = f.plan();
  const Choice& tp = choice(plan, "vfs_read", ProbeType::tracepoint);
  EXPECT_TRUE(tp.usable()) << tp.reason;
  EXPECT_EQ(tp.variant(), "sys_exit");
  EXPECT_NE(tp.note.find("bpf_rdonly_cast"), std::string::npos) << tp.note;
}

TEST(Plan, ReturnTypeOutsideTheSpecIsAMismatch) {
  test::BtfBuilder b;
  b.fn("do_rmdir", "char *", {"int", "const char *"});
  KernelBtf btf = b.build();
  KernelFacts facts;
  facts.version = {6, 19, 0};
  facts.btf = &btf;
  const auto plan = make_plan({"vfs_rmdir"}, catalogue(), facts, ProbeType::fentry);
  ASSERT_EQ(plan[0].choices.size(), 1u);
  EXPECT_NE(plan[0].choices[0].reason.find("do_rmdir: return type *"), std::string::npos) << plan[0].choices[0].reason;
}

TEST(Plan, ForcedTypeKeepsOnlyItsChoices) {
  Fixture f(v6_19(), {6, 19, 0});
  for (const auto& p : f.plan(ProbeType::kprobe)) {
    ASSERT_EQ(p.choices.size(), 1u) << p.operation;
    // io_uring's completion and the page cache tracepoints serve every probe type.
    const bool every = p.operation == "vfs_io_uring" || p.operation == "vfs_mmap";
    EXPECT_EQ(p.choices[0].type, every ? ProbeType::tracepoint : ProbeType::kprobe);
  }
}

TEST(Plan, RealProbeRefusalIsRecordedWithItsReason) {
  Fixture f(v6_19(), {6, 19, 0});
  f.facts.probe = [](ProbeType type, std::string_view target) -> Result<void> {
    if (type == ProbeType::fentry) return Error{"fexit on " + std::string(target) + ": EPERM"};
    return {};
  };
  const auto plan = f.plan();
  const Choice& c = choice(plan, "vfs_read", ProbeType::fentry);
  EXPECT_EQ(c.status, AttemptStatus::probe_refused);
  EXPECT_EQ(c.reason, "fexit on vfs_read: EPERM");
  EXPECT_EQ(c.variant(), "vfs") << "the variant is still known";
}

TEST(Plan, RenderedPlanNamesTypesVariantsPrototypesAndReasons) {
  Fixture f(v5_8(), {5, 8, 0});
  const std::string text = render_plan(f.plan(), f.facts, std::nullopt);
  EXPECT_NE(text.find("plan for kernel 5.8.0-fixture"), std::string::npos) << text;
  EXPECT_NE(text.find("net_receive   fentry      noblock      BTF matches"), std::string::npos) << text;
  EXPECT_NE(text.find("int tcp_recvmsg(struct sock *, struct msghdr *, size_t, int, int, int *)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("tracepoint  -            unavailable: no variant matches this kernel (sys_exit_cast: the "
                      "kernel has no bpf_task_pt_regs helper"),
            std::string::npos)
      << text;
}

TEST(Prototypes, TypeSpecMatching) {
  EXPECT_TRUE(type_matches("int|long", "long"));
  EXPECT_TRUE(type_matches("int|long", "int"));
  EXPECT_FALSE(type_matches("int|long", "uint"));
  EXPECT_TRUE(type_matches("*", "struct sock *"));
  EXPECT_TRUE(type_matches("?", "anything"));
  EXPECT_TRUE(type_matches("struct sock *", "struct sock *"));
  EXPECT_FALSE(type_matches("struct sock *", "struct file *"));
  EXPECT_FALSE(type_matches("*", "long"));
}

TEST(Prototypes, TypedefsAndConstResolveToCanonicalTypes) {
  test::BtfBuilder b;
  b.fn("f", "ssize_t", {"size_t", "umode_t", "const char *", "struct sock *"});
  KernelBtf btf = b.build();
  const auto fn = btf.function("f");
  ASSERT_TRUE(fn);
  EXPECT_EQ(fn->ret, "long");
  EXPECT_EQ(fn->params, (std::vector<std::string>{"ulong", "ushort", "*", "struct sock *"}));
  EXPECT_EQ(fn->c_text, "ssize_t f(size_t, umode_t, const char *, struct sock *)");
  EXPECT_FALSE(btf.function("g"));
}

}  // namespace
}  // namespace cgio
