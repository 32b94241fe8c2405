// The catalogue of BPF implementations: for every counted operation, each
// probe type and kernel variant that can count it, which embedded object
// and programs implement it, and what the kernel must offer for it to load.
// The loader walks this table; nothing else knows program names.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel.h"

namespace cgio {

enum class ProbeType { fentry, kprobe, tracepoint };
std::string_view to_string(ProbeType type);

// Which collector, and therefore which counter map, an operation feeds.
enum class Domain { vfs, net };
std::string_view to_string(Domain domain);

// One BPF object embedded through its bpftool skeleton.
struct BpfObjectSpec {
  std::string_view name;
  const void* (*elf_bytes)(size_t* size);
};

struct Implementation {
  std::string_view operation;  // metric label `program`, e.g. "vfs_read"
  Domain domain;
  ProbeType probe_type;
  std::string_view variant;    // which kernel variant of the probe type
  const BpfObjectSpec* object;
  std::vector<std::string_view> programs;  // BPF program (function) names
  // Nullopt when the running kernel can load this implementation, else why not.
  std::function<std::optional<std::string>(const KernelFacts&)> unavailable;
};

// Every implementation, in order of preference within each operation.
std::span<const Implementation> catalogue();

// The operations of a domain, in a stable order.
std::vector<std::string_view> operations(Domain domain);

}  // namespace cgio
