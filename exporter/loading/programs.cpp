#include "loading/programs.h"

#include <bpf/btf.h>
#include <linux/bpf.h>

// The skeletons name the contract types in their .rodata layout.
#include "contracts/common.h"
#include "contracts/net.h"
#include "contracts/vfs.h"

#include "contracts/cgroup_events.h"

#include "cgio_cgroup_events.skel.h"
#include "cgio_net_fentry.skel.h"
#include "cgio_net_kprobe.skel.h"
#include "cgio_net_tp_btf.skel.h"
#include "cgio_vfs_fentry.skel.h"
#include "cgio_vfs_kprobe.skel.h"
#include "cgio_vfs_tracepoint.skel.h"
#include "cgio_vfs_tracepoint_cast.skel.h"

namespace cgio {

std::string_view to_string(ProgramGroup group) {
  switch (group) {
    case ProgramGroup::vfs:
      return "vfs";
    case ProgramGroup::net:
      return "net";
    case ProgramGroup::cgroup_events:
      return "cgroup_events";
  }
  return "unknown";
}

bool KernelRange::contains(const KernelVersion& v) const {
  if (min.known() && v < min) return false;
  if (max.known() && !(v < max)) return false;
  return true;
}

std::string KernelRange::str() const {
  const auto mm = [](const KernelVersion& v) { return std::to_string(v.major) + "." + std::to_string(v.minor); };
  if (!min.known() && !max.known()) return "any";
  if (!max.known()) return mm(min) + "+";
  if (!min.known()) return "<" + mm(max);
  return mm(min) + "-" + mm(max);
}

namespace {

// Each object through its skeleton's own open, destroy and typed .rodata:
// a misspelt skeleton or config variable does not compile.
#define CGIO_SKELETON_OBJECT(label, skel)                                                   \
  BpfObjectSpec {                                                                           \
    label, skel##__elf_bytes, [](const bpf_object_open_opts* opts) {                        \
      OpenedObject o;                                                                       \
      skel* s = skel##__open_opts(opts);                                                    \
      if (s == nullptr) return o;                                                           \
      o.skeleton = SkeletonPtr(s, [](void* p) { skel##__destroy(static_cast<skel*>(p)); }); \
      o.obj = s->obj;                                                                       \
      o.config = &s->rodata->cgio_cfg;                                                      \
      return o;                                                                             \
    }                                                                                       \
  }

const BpfObjectSpec kVfsFentry = CGIO_SKELETON_OBJECT("cgio_vfs_fx", cgio_vfs_fentry);
const BpfObjectSpec kVfsKprobe = CGIO_SKELETON_OBJECT("cgio_vfs_kp", cgio_vfs_kprobe);
const BpfObjectSpec kVfsTracepoint = CGIO_SKELETON_OBJECT("cgio_vfs_tp", cgio_vfs_tracepoint);
const BpfObjectSpec kVfsTracepointCast = CGIO_SKELETON_OBJECT("cgio_vfs_tpc", cgio_vfs_tracepoint_cast);
const BpfObjectSpec kNetFentry = CGIO_SKELETON_OBJECT("cgio_net_fx", cgio_net_fentry);
const BpfObjectSpec kNetKprobe = CGIO_SKELETON_OBJECT("cgio_net_kp", cgio_net_kprobe);
const BpfObjectSpec kNetTpBtf = CGIO_SKELETON_OBJECT("cgio_net_tpbtf", cgio_net_tp_btf);
const BpfObjectSpec kCgroupEvents = CGIO_SKELETON_OBJECT("cgio_cg_events", cgio_cgroup_events);

constexpr KernelRange kAny{};
constexpr KernelRange since(unsigned major, unsigned minor) { return {{major, minor, 0}, {}}; }
constexpr KernelRange before(unsigned major, unsigned minor) { return {{}, {major, minor, 0}}; }
constexpr KernelRange between(unsigned a, unsigned b, unsigned c, unsigned d) { return {{a, b, 0}, {c, d, 0}}; }

// Syscall-exit programs read the syscall's arguments from the task's saved
// registers through bpf_task_pt_regs (5.15); the kernel knows a helper when
// its BTF lists it in enum bpf_func_id.
Result<void> needs_task_pt_regs(const KernelFacts& k) {
  if (k.btf != nullptr && k.btf->has_enum_value("bpf_func_id", "BPF_FUNC_task_pt_regs")) return {};
  return Error{"the kernel has no bpf_task_pt_regs helper (added in 5.15) to read syscall arguments at exit"};
}

Result<void> needs_cgroup_tracepoints(const KernelFacts& k) {
  for (const char* t : {"btf_trace_cgroup_mkdir", "btf_trace_cgroup_rmdir", "btf_trace_cgroup_rename"}) {
    if (!k.btf_has(t, BTF_KIND_TYPEDEF)) return Error{std::string("kernel BTF has no tracepoint ") + (t + 10)};
  }
  return {};
}

// ...and, to read files without helper calls, the bpf_rdonly_cast kfunc (6.2).
Result<void> needs_task_pt_regs_and_rdonly_cast(const KernelFacts& k) {
  if (auto r = needs_task_pt_regs(k); !r) return r;
  if (k.btf_has("bpf_rdonly_cast", BTF_KIND_FUNC)) return {};
  return Error{"the kernel has no bpf_rdonly_cast kfunc (added in 6.2)"};
}

Result<void> needs_sock_length_tracepoints(const KernelFacts& k) {
  if (k.btf_has("btf_trace_sock_send_length", BTF_KIND_TYPEDEF) &&
      k.btf_has("btf_trace_sock_recv_length", BTF_KIND_TYPEDEF)) {
    return {};
  }
  return Error{"kernel BTF has no sock_send_length/sock_recv_length tracepoints (added in 6.3)"};
}

// Prototypes as the programs were written for them (see bpf/*.bpf.c).
ProtoSpec exact(std::string_view fn, std::string_view ret, std::vector<std::string_view> params) {
  return {fn, ret, std::move(params), true, false};
}
ProtoSpec prefix(std::string_view fn, std::string_view ret, std::vector<std::string_view> params) {
  return {fn, ret, std::move(params), false, false};
}
ProtoSpec absent(std::string_view fn) { return {fn, "?", {}, false, true}; }

constexpr std::string_view kSock = "struct sock *";
constexpr std::string_view kFile = "struct file *";
// Fd and -errno results: long before some 6.x releases, int after; read as int.
constexpr std::string_view kIntOrLong = "int|long";

std::vector<Implementation> build() {
  std::vector<Implementation> t;
  const auto add = [&](Implementation impl) { t.push_back(std::move(impl)); };

  // --- vfs ------------------------------------------------------------------
  for (const auto& [op, fn, fnv, base] : {std::tuple{"vfs_read", "vfs_read", "vfs_readv", "read"},
                                          std::tuple{"vfs_write", "vfs_write", "vfs_writev", "write"}}) {
    const std::string_view b = base;
    const bool rd = b == "read";
    add({op,
         ProgramGroup::vfs,
         ProbeType::fentry,
         "vfs",
         kAny,
         &kVfsFentry,
         {rd ? "cgio_fx_read" : "cgio_fx_write", rd ? "cgio_fx_readv" : "cgio_fx_writev"},
         {exact(fn, "long", {kFile, "*", "ulong", "*"}), exact(fnv, "long", {kFile, "*", "ulong", "*", "?"})}});
    add({op,
         ProgramGroup::vfs,
         ProbeType::kprobe,
         "vfs",
         kAny,
         &kVfsKprobe,
         {rd ? "cgio_kp_read" : "cgio_kp_write", rd ? "cgio_kr_read" : "cgio_kr_write",
          rd ? "cgio_kp_readv" : "cgio_kp_writev", rd ? "cgio_kr_readv" : "cgio_kr_writev"},
         {prefix(fn, "long", {kFile}), prefix(fnv, "long", {kFile})}});
  }
  add({"vfs_open",
       ProgramGroup::vfs,
       ProbeType::fentry,
       "openat2",
       kAny,
       &kVfsFentry,
       {"cgio_fx_open"},
       {exact("do_sys_openat2", kIntOrLong, {"int", "*", "struct open_how *"})}});
  add({"vfs_open",
       ProgramGroup::vfs,
       ProbeType::kprobe,
       "openat2",
       kAny,
       &kVfsKprobe,
       {"cgio_kp_open", "cgio_kr_open"},
       {prefix("do_sys_openat2", kIntOrLong, {"int", "*", "struct open_how *"})}});
  add({"vfs_mkdir",
       ProgramGroup::vfs,
       ProbeType::fentry,
       "namei",
       kAny,
       &kVfsFentry,
       {"cgio_fx_mkdir"},
       {exact("do_mkdirat", kIntOrLong, {"int", "*", "ushort"})}});
  add({"vfs_mkdir",
       ProgramGroup::vfs,
       ProbeType::kprobe,
       "namei",
       kAny,
       &kVfsKprobe,
       {"cgio_kr_mkdir"},
       {prefix("do_mkdirat", kIntOrLong, {})}});
  add({"vfs_unlink",
       ProgramGroup::vfs,
       ProbeType::fentry,
       "namei",
       kAny,
       &kVfsFentry,
       {"cgio_fx_unlink"},
       {exact("do_unlinkat", kIntOrLong, {"int", "*"})}});
  add({"vfs_unlink",
       ProgramGroup::vfs,
       ProbeType::kprobe,
       "namei",
       kAny,
       &kVfsKprobe,
       {"cgio_kr_unlink"},
       {prefix("do_unlinkat", kIntOrLong, {})}});
  add({"vfs_rmdir",
       ProgramGroup::vfs,
       ProbeType::fentry,
       "namei",
       kAny,
       &kVfsFentry,
       {"cgio_fx_rmdir"},
       {exact("do_rmdir", kIntOrLong, {"int", "*"})}});
  add({"vfs_rmdir",
       ProgramGroup::vfs,
       ProbeType::kprobe,
       "namei",
       kAny,
       &kVfsKprobe,
       {"cgio_kr_rmdir"},
       {prefix("do_rmdir", kIntOrLong, {})}});

  // Two builds of the same programs: reading files with plain loads where the
  // kernel can cast pointers (6.2+, preferred), with probe reads before.
  const auto vfs_tp = [&](std::string_view op, std::vector<std::string_view> progs,
                          std::vector<std::string_view> events) {
    add({op,
         ProgramGroup::vfs,
         ProbeType::tracepoint,
         "sys_exit_cast",
         since(6, 2),
         &kVfsTracepointCast,
         progs,
         {},
         events,
         needs_task_pt_regs_and_rdonly_cast});
    add({op,
         ProgramGroup::vfs,
         ProbeType::tracepoint,
         "sys_exit",
         between(5, 15, 6, 2),
         &kVfsTracepoint,
         std::move(progs),
         {},
         std::move(events),
         needs_task_pt_regs});
  };
  vfs_tp("vfs_read", {"cgio_read", "cgio_pread64", "cgio_readv", "cgio_preadv", "cgio_preadv2"},
         {"syscalls/sys_exit_read", "syscalls/sys_exit_pread64", "syscalls/sys_exit_readv", "syscalls/sys_exit_preadv",
          "syscalls/sys_exit_preadv2"});
  vfs_tp("vfs_write", {"cgio_write", "cgio_pwrite64", "cgio_writev", "cgio_pwritev", "cgio_pwritev2"},
         {"syscalls/sys_exit_write", "syscalls/sys_exit_pwrite64", "syscalls/sys_exit_writev",
          "syscalls/sys_exit_pwritev", "syscalls/sys_exit_pwritev2"});
  vfs_tp(
      "vfs_open", {"cgio_open", "cgio_openat", "cgio_openat2", "cgio_creat"},
      {"syscalls/sys_exit_open", "syscalls/sys_exit_openat", "syscalls/sys_exit_openat2", "syscalls/sys_exit_creat"});
  vfs_tp("vfs_mkdir", {"cgio_mkdir", "cgio_mkdirat"}, {"syscalls/sys_exit_mkdir", "syscalls/sys_exit_mkdirat"});
  vfs_tp("vfs_unlink", {"cgio_unlink", "cgio_unlinkat_f"}, {"syscalls/sys_exit_unlink", "syscalls/sys_exit_unlinkat"});
  vfs_tp("vfs_rmdir", {"cgio_rmdir", "cgio_unlinkat_d"}, {"syscalls/sys_exit_rmdir", "syscalls/sys_exit_unlinkat"});

  // --- net ------------------------------------------------------------------
  const std::vector<ProtoSpec> sendmsg_exact = {exact("tcp_sendmsg", "int", {kSock, "*", "ulong"}),
                                                exact("udp_sendmsg", "int", {kSock, "*", "ulong"}),
                                                exact("udpv6_sendmsg", "int", {kSock, "*", "ulong"})};
  const std::vector<ProtoSpec> sendpage_exact = {exact("tcp_sendpage", "int", {kSock, "*", "int", "ulong", "int"}),
                                                 exact("udp_sendpage", "int", {kSock, "*", "int", "ulong", "int"})};
  const auto concat = [](std::vector<ProtoSpec> a, const std::vector<ProtoSpec>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  // Before 6.5, sendfile/splice to a socket reach sendpage, not sendmsg.
  add({"net_send",
       ProgramGroup::net,
       ProbeType::fentry,
       "sendpage",
       before(6, 5),
       &kNetFentry,
       {"cgio_fx_tcp_send", "cgio_fx_udp_send", "cgio_fx_udp6_send", "cgio_fx_tcp_page", "cgio_fx_udp_page"},
       concat(sendmsg_exact, sendpage_exact)});
  add({"net_send",
       ProgramGroup::net,
       ProbeType::fentry,
       "sendmsg",
       since(6, 5),
       &kNetFentry,
       {"cgio_fx_tcp_send", "cgio_fx_udp_send", "cgio_fx_udp6_send"},
       concat(sendmsg_exact, {absent("tcp_sendpage"), absent("udp_sendpage")})});

  const std::vector<ProtoSpec> sendmsg_prefix = {prefix("tcp_sendmsg", "int", {kSock}),
                                                 prefix("udp_sendmsg", "int", {kSock}),
                                                 prefix("udpv6_sendmsg", "int", {kSock})};
  add({"net_send",
       ProgramGroup::net,
       ProbeType::kprobe,
       "sendpage",
       before(6, 5),
       &kNetKprobe,
       {"cgio_kp_tcp_send", "cgio_kr_tcp_send", "cgio_kp_udp_send", "cgio_kr_udp_send", "cgio_kp_udp6_send",
        "cgio_kr_udp6_send", "cgio_kp_tcp_page", "cgio_kr_tcp_page", "cgio_kp_udp_page", "cgio_kr_udp_page"},
       concat(sendmsg_prefix, {prefix("tcp_sendpage", "int", {kSock}), prefix("udp_sendpage", "int", {kSock})})});
  add({"net_send",
       ProgramGroup::net,
       ProbeType::kprobe,
       "sendmsg",
       since(6, 5),
       &kNetKprobe,
       {"cgio_kp_tcp_send", "cgio_kr_tcp_send", "cgio_kp_udp_send", "cgio_kr_udp_send", "cgio_kp_udp6_send",
        "cgio_kr_udp6_send"},
       concat(sendmsg_prefix, {absent("tcp_sendpage"), absent("udp_sendpage")})});

  const auto recv = [](std::vector<std::string_view> params) {
    return std::vector<ProtoSpec>{exact("tcp_recvmsg", "int", params), exact("udp_recvmsg", "int", params),
                                  exact("udpv6_recvmsg", "int", params)};
  };
  add({"net_receive",
       ProgramGroup::net,
       ProbeType::fentry,
       "noblock",
       before(5, 19),
       &kNetFentry,
       {"cgio_fx_tcp_recv6", "cgio_fx_udp_recv6", "cgio_fx_udp6_recv6"},
       recv({kSock, "*", "ulong", "int", "int", "*"})});
  add({"net_receive",
       ProgramGroup::net,
       ProbeType::fentry,
       "addr_len",
       between(5, 19, 6, 18),
       &kNetFentry,
       {"cgio_fx_tcp_recv5", "cgio_fx_udp_recv5", "cgio_fx_udp6_recv5"},
       recv({kSock, "*", "ulong", "int", "*"})});
  add({"net_receive",
       ProgramGroup::net,
       ProbeType::fentry,
       "flags",
       since(6, 18),
       &kNetFentry,
       {"cgio_fx_tcp_recv4", "cgio_fx_udp_recv4", "cgio_fx_udp6_recv4"},
       recv({kSock, "*", "ulong", "int"})});
  add({"net_receive",
       ProgramGroup::net,
       ProbeType::kprobe,
       "sock",
       kAny,
       &kNetKprobe,
       {"cgio_kp_tcp_recv", "cgio_kr_tcp_recv", "cgio_kp_udp_recv", "cgio_kr_udp_recv", "cgio_kp_udp6_recv",
        "cgio_kr_udp6_recv"},
       {prefix("tcp_recvmsg", "int", {kSock}), prefix("udp_recvmsg", "int", {kSock}),
        prefix("udpv6_recvmsg", "int", {kSock})}});

  add({"net_send",
       ProgramGroup::net,
       ProbeType::tracepoint,
       "sock_length",
       since(6, 3),
       &kNetTpBtf,
       {"cgio_sock_send"},
       {},
       {"btf:sock_send_length"},
       needs_sock_length_tracepoints});
  add({"net_receive",
       ProgramGroup::net,
       ProbeType::tracepoint,
       "sock_length",
       since(6, 3),
       &kNetTpBtf,
       {"cgio_sock_recv"},
       {},
       {"btf:sock_recv_length"},
       needs_sock_length_tracepoints});

  // --- cgroup events: not a counted operation; always this probe type --------
  add({"cgroup_events",
       ProgramGroup::cgroup_events,
       ProbeType::tracepoint,
       "tp_btf",
       kAny,
       &kCgroupEvents,
       {"cgio_cg_mkdir", "cgio_cg_rmdir", "cgio_cg_rename"},
       {},
       {"btf:cgroup_rmdir"},
       needs_cgroup_tracepoints});
  return t;
}

}  // namespace

std::span<const Implementation> catalogue() {
  static const std::vector<Implementation> table = build();
  return table;
}

std::vector<std::string_view> operations(ProgramGroup group) {
  std::vector<std::string_view> ops;
  for (const Implementation& impl : catalogue()) {
    if (impl.group != group) continue;
    bool seen = false;
    for (auto op : ops) seen = seen || op == impl.operation;
    if (!seen) ops.push_back(impl.operation);
  }
  return ops;
}

}  // namespace cgio
