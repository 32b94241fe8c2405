#include "kernel/probes.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>

#include "kernel/privileges.h"
#include "util/bpf_handles.h"

namespace cgio {
namespace {

// r0 = 0; exit
const bpf_insn kTrivial[] = {
    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};
constexpr size_t kTrivialLen = sizeof(kTrivial) / sizeof(kTrivial[0]);

Result<Fd> load_trivial(bpf_prog_type type, bpf_attach_type attach, __u32 attach_btf_id, const std::string& what) {
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .attach_btf_id = attach_btf_id);
  const int fd = bpf_prog_load(type, "cgio_probe", "GPL", kTrivial, kTrivialLen, &opts);
  if (fd < 0) return errno_error("loading a trivial " + what + " was refused", -fd);
  return Fd(fd);
}

Result<int> read_int_file(const std::string& path) {
  std::ifstream in(path);
  int v = 0;
  if (!in || !(in >> v)) return errno_error("cannot read " + path, errno ? errno : ENOENT);
  return v;
}

// The bit of perf_event_attr.config that makes a kprobe a kretprobe.
int retprobe_bit() {
  std::ifstream in("/sys/bus/event_source/devices/kprobe/format/retprobe");
  std::string spec;
  in >> spec;  // "config:0"
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return 0;
  try {
    return std::stoi(spec.substr(colon + 1));
  } catch (...) {
    return 0;
  }
}

Result<Fd> perf_kprobe(int prog_fd, int pmu_type, const std::string& function, bool ret) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = static_cast<__u32>(pmu_type);
  attr.config = ret ? (1ull << retprobe_bit()) : 0;
  attr.config1 = reinterpret_cast<__u64>(function.c_str());
  attr.config2 = 0;
  Fd pfd(static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
  if (!pfd.valid()) {
    const int err = errno;
    Error e = errno_error(std::string(ret ? "kretprobe" : "kprobe") + " on " + function + " refused", err);
    if (std::string hint = perf_event_refusal_hint(err); !hint.empty()) e.message += " (" + hint + ")";
    return e;
  }
  if (ioctl(pfd.get(), PERF_EVENT_IOC_SET_BPF, prog_fd) != 0) {
    return errno_error("attaching a kprobe program to " + function + " refused", errno);
  }
  return pfd;
}

}  // namespace

Result<TrivialProgram> TrivialProgram::fexit(const struct btf* kernel_btf, const std::string& function) {
  if (kernel_btf == nullptr) return Error{"the kernel has no BTF of its own: fentry needs it"};
  const int id = btf__find_by_name_kind(kernel_btf, function.c_str(), BTF_KIND_FUNC);
  if (id <= 0) return Error{function + " is not in kernel BTF"};
  auto prog =
      load_trivial(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, static_cast<__u32>(id), "fexit program on " + function);
  if (!prog) return prog.error();
  TrivialProgram t;
  t.prog_ = std::move(prog.value());
  Fd link(bpf_link_create(t.prog_.get(), 0, BPF_TRACE_FEXIT, nullptr));
  if (!link.valid()) return errno_error("attaching a trivial fexit program to " + function + " refused", errno);
  t.attachments_.push_back(std::move(link));
  return t;
}

Result<TrivialProgram> TrivialProgram::kprobe(const std::string& function, bool entry, bool ret) {
  auto type = read_int_file("/sys/bus/event_source/devices/kprobe/type");
  if (!type) return Error{"the kernel has no kprobe event source (kprobes not built in)"};
  auto prog = load_trivial(BPF_PROG_TYPE_KPROBE, static_cast<bpf_attach_type>(0), 0, "kprobe program for " + function);
  if (!prog) return prog.error();
  TrivialProgram t;
  t.prog_ = std::move(prog.value());
  for (const bool is_ret : {false, true}) {
    if (!(is_ret ? ret : entry)) continue;
    auto pfd = perf_kprobe(t.prog_.get(), *type, function, is_ret);
    if (!pfd) return pfd.error();
    t.attachments_.push_back(std::move(pfd.value()));
  }
  return t;
}

Result<TrivialProgram> TrivialProgram::tracepoint(Tracefs& tracefs, const std::string& category_event) {
  auto pfd = tracefs.open_perf_event(category_event);
  if (!pfd) return pfd.error();
  auto prog = load_trivial(BPF_PROG_TYPE_TRACEPOINT, static_cast<bpf_attach_type>(0), 0,
                           "tracepoint program for " + category_event);
  if (!prog) return prog.error();
  TrivialProgram t;
  t.prog_ = std::move(prog.value());
  if (ioctl(pfd->get(), PERF_EVENT_IOC_SET_BPF, t.prog_.get()) != 0) {
    return errno_error("attaching a tracepoint program to " + category_event + " refused", errno);
  }
  t.attachments_.push_back(std::move(pfd.value()));
  return t;
}

Result<TrivialProgram> TrivialProgram::btf_tracepoint(const struct btf* kernel_btf, const std::string& event) {
  if (kernel_btf == nullptr) return Error{"the kernel has no BTF of its own: BTF tracepoints need it"};
  const std::string type_name = "btf_trace_" + event;
  const int id = btf__find_by_name_kind(kernel_btf, type_name.c_str(), BTF_KIND_TYPEDEF);
  if (id <= 0) return Error{"tracepoint " + event + " is not in kernel BTF"};
  auto prog = load_trivial(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, static_cast<__u32>(id),
                           "BTF tracepoint program on " + event);
  if (!prog) return prog.error();
  TrivialProgram t;
  t.prog_ = std::move(prog.value());
  Fd link(bpf_raw_tracepoint_open(nullptr, t.prog_.get()));
  if (!link.valid()) return errno_error("attaching a BTF tracepoint program to " + event + " refused", errno);
  t.attachments_.push_back(std::move(link));
  return t;
}

namespace {

// A probe attaches for a moment: the trivial program is detached and
// unloaded as the result goes out of scope.
Result<void> attached(const Result<TrivialProgram>& t) {
  if (!t) return t.error();
  return {};
}

}  // namespace

Result<void> AttachProber::cached(const std::string& key, const std::function<Result<void>()>& probe) {
  std::lock_guard lock(mutex_);
  auto it = results_.find(key);
  if (it == results_.end()) it = results_.emplace(key, probe()).first;
  return it->second;
}

const struct btf* AttachProber::kernel_btf() {
  if (!btf_loaded_) {
    btf_loaded_ = true;
    btf_.reset(btf__load_vmlinux_btf());
  }
  return btf_.get();
}

Result<void> AttachProber::fentry(const std::string& function) {
  return cached("fentry:" + function, [&] { return attached(TrivialProgram::fexit(kernel_btf(), function)); });
}

Result<void> AttachProber::kprobe(const std::string& function) {
  return cached("kprobe:" + function, [&] { return attached(TrivialProgram::kprobe(function, true, true)); });
}

Result<void> AttachProber::tracepoint(const std::string& category_event) {
  return cached("tracepoint:" + category_event,
                [&] { return attached(TrivialProgram::tracepoint(tracefs_, category_event)); });
}

Result<void> AttachProber::btf_tracepoint(const std::string& event) {
  return cached("tp_btf:" + event, [&] { return attached(TrivialProgram::btf_tracepoint(kernel_btf(), event)); });
}

Result<void> AttachProber::probe(ProbeType type, std::string_view target) {
  const std::string t(target);
  switch (type) {
    case ProbeType::fentry:
      return fentry(t);
    case ProbeType::kprobe:
      return kprobe(t);
    case ProbeType::tracepoint:
      if (t.starts_with("btf:")) return btf_tracepoint(t.substr(4));
      return tracepoint(t);
  }
  return Error{"unknown probe type"};
}

}  // namespace cgio
