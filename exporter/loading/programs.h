// The catalogue of BPF implementations: for every counted operation, each
// probe type and kernel variant that can count it, which embedded object
// and programs implement it, which kernel versions it was written for, and
// the prototypes of the kernel functions it hooks. The planner and the
// loader walk this table; nothing else knows program names.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/btf_prototypes.h"
#include "kernel/kernel.h"
#include "kernel/probe_type.h"
#include "util/result.h"

struct bpf_object;
struct bpf_object_open_opts;
struct cgio_config;

namespace cgio {

// The group of programs an operation belongs to: the VFS and network
// counting programs (enabled by --collector.vfs / --collector.net), and the
// cgroup event programs accounting relies on. Not a counter domain
// (maps/counter_domains.h): the vfs group feeds both vfs and vfs_mounts.
enum class ProgramGroup { vfs, net, cgroup_events };
std::string_view to_string(ProgramGroup group);

// Owns an opened bpftool skeleton (and with it the bpf_object); frees it
// with the skeleton's own destroy.
using SkeletonPtr = std::unique_ptr<void, void (*)(void*)>;

// An object opened through its skeleton. `config` points at the skeleton's
// typed `rodata->cgio_cfg`, writable until the object is loaded.
struct OpenedObject {
  SkeletonPtr skeleton{nullptr, nullptr};
  bpf_object* obj = nullptr;
  cgio_config* config = nullptr;
};

// One BPF object embedded through its bpftool skeleton.
struct BpfObjectSpec {
  std::string_view name;                   // for logs and errors
  const void* (*elf_bytes)(size_t* size);  // the embedded ELF (tests inspect it without root)
  // The skeleton's open: obj is null (errno set) when libbpf refused it.
  OpenedObject (*open)(const bpf_object_open_opts* opts);
};

// Kernel versions a variant was written for: [min, max); zero means open.
struct KernelRange {
  KernelVersion min{}, max{};
  bool contains(const KernelVersion& v) const;
  std::string str() const;
};

struct Implementation {
  std::string_view operation;  // metric label `program`, e.g. "vfs_read"
  ProgramGroup group;
  ProbeType probe_type;
  std::string_view variant;  // which kernel variant of the probe type
  KernelRange versions;      // the version table: where this variant is expected
  const BpfObjectSpec* object;
  std::vector<std::string_view> programs;  // BPF program (function) names
  // fentry/kprobe: the hooked kernel functions as the programs expect them
  // (checked against BTF; the present ones are probed for real).
  std::vector<ProtoSpec> prototypes{};
  // tracepoint type: "syscalls/<event>" (perf tracepoint) or "btf:<event>".
  std::vector<std::string_view> tracepoints{};
  // Further static requirements: an error saying what is missing.
  std::function<Result<void>(const KernelFacts&)> requires_{};
  // One mechanism that serves every probe type (a tracepoint with no
  // function-level counterpart): planned whatever --bpf.probe-type forces.
  bool every_probe_type = false;
};

// Every implementation; within one operation and probe type, variants in
// the order BTF verification considers them.
std::span<const Implementation> catalogue();

// The operations of a program group, in a stable order.
std::vector<std::string_view> operations(ProgramGroup group);

}  // namespace cgio
