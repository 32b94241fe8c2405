#include "loading/programs.h"

#include <bpf/btf.h>
#include <linux/bpf.h>

// The skeletons name the contract types in their .rodata layout.
#include "contracts/common.h"
#include "contracts/net.h"
#include "contracts/vfs.h"

#include "contracts/cgroup_events.h"

#include "cgio_cgroup_events.skel.h"
#include "cgio_io_uring.skel.h"
#include "cgio_mmap.skel.h"
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
const BpfObjectSpec kIoUring = CGIO_SKELETON_OBJECT("cgio_io_uring", cgio_io_uring);
const BpfObjectSpec kMmap = CGIO_SKELETON_OBJECT("cgio_mmap", cgio_mmap);
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

// Loops over a syscall's io_events with the bpf_loop helper (5.17).
Result<void> needs_bpf_loop(const KernelFacts& k) {
  if (k.btf != nullptr && k.btf->has_enum_value("bpf_func_id", "BPF_FUNC_loop")) return {};
  return Error{"the kernel has no bpf_loop helper (added in 5.17) to walk the completions io_getevents returns"};
}

Result<void> needs_task_pt_regs_and_bpf_loop(const KernelFacts& k) {
  if (auto r = needs_task_pt_regs(k); !r) return r;
  return needs_bpf_loop(k);
}

Result<void> needs_task_pt_regs_rdonly_cast_and_bpf_loop(const KernelFacts& k) {
  if (auto r = needs_task_pt_regs_and_rdonly_cast(k); !r) return r;
  return needs_bpf_loop(k);
}

// io_uring_complete passes the request (its second argument) since 5.19;
// before, only the result, which says neither opcode nor file.
Result<void> needs_io_uring_complete_with_request(const KernelFacts& k) {
  if (k.btf == nullptr || !k.btf_has("btf_trace_io_uring_complete", BTF_KIND_TYPEDEF)) {
    return Error{"kernel BTF has no io_uring_complete tracepoint (io_uring not built in?)"};
  }
  if (!k.btf->has_type("io_kiocb", BTF_KIND_STRUCT)) {
    return Error{"kernel BTF has no struct io_kiocb to read the request from"};
  }
  if (!k.btf->has_member("io_kiocb", "cqe")) {
    return Error{"io_uring requests carry no cqe (before 5.19): the completion's operation is unknown"};
  }
  return {};
}

// Whether tracepoint `event`'s argument `index` (0: the first after the
// context) is a pointer to struct `name`, from its btf_trace_<event>
// typedef (a pointer to the probe's prototype, whose first parameter is the
// context).
bool tracepoint_arg_is(const KernelFacts& k, std::string_view event, unsigned index, std::string_view name) {
  if (k.btf == nullptr) return false;
  const struct btf* btf = k.btf->vmlinux();
  const std::string typedef_name = "btf_trace_" + std::string(event);
  const int id = btf__find_by_name_kind(btf, typedef_name.c_str(), BTF_KIND_TYPEDEF);
  if (id <= 0) return false;
  const btf_type* t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);  // the pointer
  if (t == nullptr || !btf_is_ptr(t)) return false;
  t = btf__type_by_id(btf, t->type);
  if (t == nullptr || !btf_is_func_proto(t) || btf_vlen(t) <= index + 1) return false;
  const btf_type* arg = btf__type_by_id(btf, btf_params(t)[index + 1].type);
  if (arg == nullptr || !btf_is_ptr(arg)) return false;
  arg = btf__type_by_id(btf, arg->type);
  return arg != nullptr && btf_is_struct(arg) && name == btf__name_by_offset(btf, arg->name_off);
}

// The page cache tracepoints pass folios since the 5.16-5.18 conversion; the
// fault flag is in task_struct with CONFIG_MEMCG.
Result<void> needs_folio_tracepoints_and_fault_flag(const KernelFacts& k) {
  for (const char* event : {"mm_filemap_add_to_page_cache", "writeback_dirty_folio"}) {
    if (!tracepoint_arg_is(k, event, 0, "folio")) {
      return Error{std::string("kernel BTF has no tracepoint ") + event + " passing a struct folio"};
    }
  }
  if (!k.btf->has_member("task_struct", "in_user_fault")) {
    return Error{"task_struct has no in_user_fault flag (a kernel without CONFIG_MEMCG): faults cannot be told apart"};
  }
  return {};
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
// The kernel's syscall wrappers, which fentry and kprobe programs hook by
// name (bpf/include/cgio_syscall.bpf.h: CGIO_SYSCALL_FN).
#if defined(__x86_64__)
#define CGIO_SYSCALL_FN(name) "__x64_sys_" name
#elif defined(__aarch64__)
#define CGIO_SYSCALL_FN(name) "__arm64_sys_" name
#endif
constexpr std::string_view kFile = "struct file *";
constexpr std::string_view kMsg = "struct msghdr *";
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

  // copy_file_range, sendfile, splice (vfs_transfer) and the libaio
  // completions reaped by io_getevents (vfs_aio): the syscalls themselves,
  // at their exit tracepoints or their wrappers (fentry, kprobe), whose one
  // argument is the saved user registers.
  const auto wrappers = [](std::vector<std::string_view> fns, bool exact_arity) {
    std::vector<ProtoSpec> specs;
    for (auto fn : fns) {
      specs.push_back(exact_arity ? exact(fn, "long", {"struct pt_regs *"}) : prefix(fn, "long", {"struct pt_regs *"}));
    }
    return specs;
  };
  const auto syscalls_row = [&](std::string_view op, ProgramGroup group, std::vector<std::string_view> fns,
                                std::vector<std::string_view> fx, std::vector<std::string_view> kp,
                                std::vector<std::string_view> tp, std::vector<std::string_view> events,
                                const BpfObjectSpec* fx_obj, const BpfObjectSpec* kp_obj,
                                const BpfObjectSpec* tp_cast_obj, const BpfObjectSpec* tp_obj,
                                std::function<Result<void>(const KernelFacts&)> fx_needs,
                                std::function<Result<void>(const KernelFacts&)> cast_needs,
                                std::function<Result<void>(const KernelFacts&)> tp_needs) {
    add({op, group, ProbeType::fentry, "syscall", kAny, fx_obj, std::move(fx), wrappers(fns, true), {}, fx_needs});
    add({op, group, ProbeType::kprobe, "syscall", kAny, kp_obj, std::move(kp), wrappers(fns, false), {}, fx_needs});
    if (tp_cast_obj != nullptr) {
      add({op, group, ProbeType::tracepoint, "sys_exit_cast", since(6, 2), tp_cast_obj, tp, {}, events, cast_needs});
    }
    add({op,
         group,
         ProbeType::tracepoint,
         "sys_exit",
         tp_cast_obj != nullptr ? between(5, 15, 6, 2) : kAny,
         tp_obj,
         std::move(tp),
         {},
         std::move(events),
         tp_needs});
  };
  syscalls_row("vfs_transfer", ProgramGroup::vfs,
               {CGIO_SYSCALL_FN("copy_file_range"), CGIO_SYSCALL_FN("sendfile64"), CGIO_SYSCALL_FN("splice")},
               {"cgio_fx_copy_file_range", "cgio_fx_sendfile64", "cgio_fx_splice"},
               {"cgio_kp_copy_file_range", "cgio_kr_copy_file_range", "cgio_kp_sendfile64", "cgio_kr_sendfile64",
                "cgio_kp_splice", "cgio_kr_splice"},
               {"cgio_copy_file_range", "cgio_sendfile64", "cgio_splice"},
               {"syscalls/sys_exit_copy_file_range", "syscalls/sys_exit_sendfile64", "syscalls/sys_exit_splice"},
               &kVfsFentry, &kVfsKprobe, &kVfsTracepointCast, &kVfsTracepoint, {}, needs_task_pt_regs_and_rdonly_cast,
               needs_task_pt_regs);
  syscalls_row("vfs_aio", ProgramGroup::vfs, {CGIO_SYSCALL_FN("io_getevents"), CGIO_SYSCALL_FN("io_pgetevents")},
               {"cgio_fx_io_getevents", "cgio_fx_io_pgetevents"},
               {"cgio_kp_io_getevents", "cgio_kr_io_getevents", "cgio_kp_io_pgetevents", "cgio_kr_io_pgetevents"},
               {"cgio_io_getevents", "cgio_io_pgetevents"},
               {"syscalls/sys_exit_io_getevents", "syscalls/sys_exit_io_pgetevents"}, &kVfsFentry, &kVfsKprobe,
               &kVfsTracepointCast, &kVfsTracepoint, needs_bpf_loop, needs_task_pt_regs_rdonly_cast_and_bpf_loop,
               needs_task_pt_regs_and_bpf_loop);

  // io_uring: its completion tracepoint under every probe type (see
  // bpf/io_uring.bpf.c: io_uring's internal functions change every release).
  {
    Implementation uring{"vfs_io_uring",
                         ProgramGroup::vfs,
                         ProbeType::tracepoint,
                         "tp_btf",
                         since(5, 19),
                         &kIoUring,
                         {"cgio_io_uring_complete"},
                         {},
                         {"btf:io_uring_complete"},
                         needs_io_uring_complete_with_request};
    uring.every_probe_type = true;
    add(std::move(uring));
  }

  // Memory-mapped files: the page cache's folio tracepoints under every
  // probe type (bpf/mmap.bpf.c: no function hook sees a store through a
  // mapping either).
  {
    Implementation mmap{"vfs_mmap",
                        ProgramGroup::vfs,
                        ProbeType::tracepoint,
                        "tp_btf",
                        kAny,
                        &kMmap,
                        {"cgio_mmap_pagein", "cgio_mmap_dirty"},
                        {},
                        {"btf:mm_filemap_add_to_page_cache", "btf:writeback_dirty_folio"},
                        needs_folio_tracepoints_and_fault_flag};
    mmap.every_probe_type = true;
    add(std::move(mmap));
  }

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

  const std::vector<ProtoSpec> sendmsg_prefix = {prefix("tcp_sendmsg", "int", {kSock, kMsg}),
                                                 prefix("udp_sendmsg", "int", {kSock, kMsg}),
                                                 prefix("udpv6_sendmsg", "int", {kSock, kMsg})};
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
  // The entry keeps the recv flags (MSG_PEEK): argument 5 before 5.19, 4 after.
  const auto recv_kprobe = [&](std::string_view variant, KernelRange versions, bool noblock,
                               std::vector<std::string_view> params) {
    std::vector<std::string_view> progs;
    for (std::string_view p : {"tcp", "udp", "udp6"}) {
      const bool tcp = p == "tcp", udp = p == "udp";
      progs.push_back(noblock ? (tcp   ? "cgio_kp_tcp_recv_nb"
                                 : udp ? "cgio_kp_udp_recv_nb"
                                       : "cgio_kp_udp6_recv_nb")
                              : (tcp   ? "cgio_kp_tcp_recv"
                                 : udp ? "cgio_kp_udp_recv"
                                       : "cgio_kp_udp6_recv"));
      progs.push_back(tcp ? "cgio_kr_tcp_recv" : udp ? "cgio_kr_udp_recv" : "cgio_kr_udp6_recv");
    }
    add({"net_receive", ProgramGroup::net, ProbeType::kprobe, variant, versions, &kNetKprobe, std::move(progs),
         recv(std::move(params))});
  };
  recv_kprobe("noblock", before(5, 19), true, {kSock, "*", "ulong", "int", "int", "*"});
  recv_kprobe("addr_len", between(5, 19, 6, 18), false, {kSock, "*", "ulong", "int", "*"});
  recv_kprobe("flags", since(6, 18), false, {kSock, "*", "ulong", "int"});

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

  // The socket side of sendfile/splice, one call per syscall (net_transfer).
  // The tracepoint type counts the network only where sock_*_length exist.
  syscalls_row("net_transfer", ProgramGroup::net, {CGIO_SYSCALL_FN("sendfile64"), CGIO_SYSCALL_FN("splice")},
               {"cgio_fx_net_sendfile64", "cgio_fx_net_splice"},
               {"cgio_kp_net_sendfile64", "cgio_kr_net_sendfile64", "cgio_kp_net_splice", "cgio_kr_net_splice"},
               {"cgio_net_sendfile64", "cgio_net_splice"}, {"syscalls/sys_exit_sendfile64", "syscalls/sys_exit_splice"},
               &kNetFentry, &kNetKprobe, nullptr, &kNetTpBtf, {}, {}, [](const KernelFacts& k) -> Result<void> {
                 if (auto r = needs_sock_length_tracepoints(k); !r) return r;
                 return needs_task_pt_regs(k);
               });

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
