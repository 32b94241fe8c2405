#include "floor.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <map>

#include "loading/plan.h"
#include "loading/programs.h"

namespace cgio::bench {

Result<std::unique_ptr<KernelView>> KernelView::inspect() {
  std::unique_ptr<KernelView> k(new KernelView());
  auto running = inspect_running_kernel("");
  if (!running) return running.error();
  k->kernel_.emplace(std::move(running.value()));
  if (!k->kernel_->btf) return Error{"kernel BTF is required: " + k->kernel_->btf_error};
  k->facts_.release = k->kernel_->release;
  k->facts_.version = k->kernel_->version;
  k->facts_.btf = &*k->kernel_->btf;
  k->facts_.btf_source = k->kernel_->btf_source;
  KernelView* raw = k.get();
  k->facts_.probe = [raw](ProbeType type, std::string_view target) { return raw->prober_.probe(type, target); };
  return k;
}

Result<std::vector<Hook>> cgio_hooks(KernelView& kernel, ProbeType type, std::vector<std::string>* uncounted) {
  // As the exporter does with both collectors on: the counted operations
  // with the forced type, then the cgroup events with whatever works.
  std::vector<std::string_view> counted = operations(ProgramGroup::vfs);
  for (auto op : operations(ProgramGroup::net)) counted.push_back(op);
  auto plan = make_plan(counted, catalogue(), kernel.facts(), type);
  for (auto& p : make_plan(operations(ProgramGroup::cgroup_events), catalogue(), kernel.facts(), std::nullopt)) {
    plan.push_back(std::move(p));
  }

  // The embedded objects, opened (never loaded) to read section names.
  std::map<const BpfObjectSpec*, BpfObjectPtr> objects;
  std::vector<Hook> hooks;
  bool any_counted = false;
  for (const OperationPlan& p : plan) {
    const Choice* chosen = nullptr;
    for (const Choice& c : p.choices) {
      if (c.usable()) {
        chosen = &c;
        break;
      }
    }
    if (chosen == nullptr) {
      if (p.group != ProgramGroup::cgroup_events && uncounted != nullptr) uncounted->push_back(p.operation);
      continue;
    }
    // io_uring's tracepoint serves every probe type: it does not make the
    // forced type usable here (the exporter would refuse to start on it alone).
    any_counted = any_counted || (p.group != ProgramGroup::cgroup_events && !chosen->impl->every_probe_type);
    const BpfObjectSpec* spec = chosen->impl->object;
    auto& obj = objects[spec];
    if (!obj) {
      size_t size = 0;
      const void* bytes = spec->elf_bytes(&size);
      const std::string name(spec->name);
      LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
      obj.reset(bpf_object__open_mem(bytes, size, &opts));
      if (!obj) return errno_error("open embedded object " + name, errno);
    }
    for (std::string_view program : chosen->impl->programs) {
      const bpf_program* prog = bpf_object__find_program_by_name(obj.get(), std::string(program).c_str());
      if (prog == nullptr)
        return Error{"object " + std::string(spec->name) + " has no program " + std::string(program)};
      hooks.push_back({p.operation, std::string(program), bpf_program__section_name(prog)});
    }
  }
  if (!any_counted) hooks.clear();
  return hooks;
}

Result<Floor> Floor::attach(KernelView& kernel, const std::vector<Hook>& hooks) {
  Floor floor;
  for (const Hook& h : hooks) {
    const std::string& s = h.section;
    const size_t slash = s.find('/');
    const std::string kind = s.substr(0, slash);
    const std::string target = slash == std::string::npos ? std::string() : s.substr(slash + 1);
    Result<TrivialProgram> t = Error{"section " + s + " of " + h.program + ": no trivial equivalent"};
    if (kind == "tracepoint")
      t = TrivialProgram::tracepoint(kernel.tracefs(), target);
    else if (kind == "tp_btf")
      t = TrivialProgram::btf_tracepoint(kernel.vmlinux_btf(), target);
    else if (kind == "fexit")
      t = TrivialProgram::fexit(kernel.vmlinux_btf(), target);
    else if (kind == "kprobe")
      t = TrivialProgram::kprobe(target, true, false);
    else if (kind == "kretprobe")
      t = TrivialProgram::kprobe(target, false, true);
    if (!t) return t.error().context("floor for " + h.program + " (" + s + ")");
    floor.programs_.push_back(std::move(t.value()));
  }
  return floor;
}

}  // namespace cgio::bench
