// Function prototypes from kernel BTF, and the small type language the
// program catalogue uses to say which prototype a program was written for.
//
// Type specs (after typedefs, const and volatile are stripped):
//   int uint long ulong short ushort char uchar bool   integers by size and sign
//   struct NAME *                                       pointer to that struct
//   *                                                   any pointer
//   ?                                                   anything
//   a|b                                                 either
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/bpf_handles.h"
#include "util/result.h"

struct btf;

namespace cgio {

struct FunctionPrototype {
  std::string name;
  std::string ret;                  // canonical, e.g. "long"
  std::vector<std::string> params;  // canonical
  std::string c_text;               // as C, with typedef names: "ssize_t vfs_read(struct file *, ...)"
  std::string btf_source;           // "vmlinux" or the module's name
};

// What a program needs a kernel function to look like.
struct ProtoSpec {
  std::string_view function;
  std::string_view ret;                  // "?" for anything
  std::vector<std::string_view> params;  // the parameters the program relies on
  bool exact_arity = true;               // false: `params` is only a prefix
  bool absent = false;                   // the function must NOT exist
};

// Kernel BTF: vmlinux (or a file given with --bpf.btf-path) plus, for
// functions not found there, the BTF of loaded modules.
class KernelBtf {
 public:
  // `path` empty: /sys/kernel/btf/vmlinux via libbpf. `module_dir` is
  // searched for module BTF (empty: no modules, e.g. for a BTF fixture file).
  static Result<KernelBtf> load(const std::string& path, const std::string& module_dir);
  // From an in-memory BTF (tests).
  static KernelBtf adopt(BtfPtr vmlinux);

  const struct btf* vmlinux() const { return vmlinux_.get(); }
  std::optional<FunctionPrototype> function(std::string_view name) const;
  bool has_type(std::string_view name, int btf_kind) const;
  // Whether struct `struct_name` has a member of that name at its top level
  // (members of anonymous unions inside it are not searched).
  bool has_member(std::string_view struct_name, std::string_view member) const;
  // Whether enum `enum_name` has enumerator `value` (e.g. a BPF helper id the
  // kernel knows: bpf_func_id / BPF_FUNC_task_pt_regs).
  bool has_enum_value(std::string_view enum_name, std::string_view value) const;
  // The value of enumerator `value` of enum `enum_name` (e.g.
  // cgroup_subsys_id / cpuacct_cgrp_id, which depends on the kernel config).
  std::optional<int64_t> enum_value(std::string_view enum_name, std::string_view value) const;

 private:
  BtfPtr vmlinux_;
  std::string module_dir_;
  mutable std::vector<std::pair<std::string, BtfPtr>> modules_;  // parsed lazily
  mutable bool modules_loaded_ = false;
};

// Checks `spec` against the kernel: success when it matches, else an error
// saying why not (naming the function and both prototypes).
Result<void> check_prototype(const KernelBtf& btf, const ProtoSpec& spec);

// Whether canonical type `actual` satisfies spec `expected` (exposed for tests).
bool type_matches(std::string_view expected, std::string_view actual);

std::string describe_spec(const ProtoSpec& spec);

}  // namespace cgio
