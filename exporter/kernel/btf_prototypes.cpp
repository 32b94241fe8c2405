#include "kernel/btf_prototypes.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>

#include <cerrno>
#include <cstring>

namespace cgio {
namespace {

const btf_type* skip_modifiers(const btf* b, __u32* id, bool skip_typedefs) {
  const btf_type* t = btf__type_by_id(b, *id);
  while (t != nullptr && (btf_is_mod(t) || (skip_typedefs && btf_is_typedef(t)))) {
    *id = t->type;
    t = btf__type_by_id(b, *id);
  }
  return t;
}

// The canonical spelling used by ProtoSpec.
std::string canonical(const btf* b, __u32 id) {
  if (id == 0) return "void";
  const btf_type* t = skip_modifiers(b, &id, true);
  if (t == nullptr) return "?";
  if (btf_is_int(t)) {
    const __u8 enc = btf_int_encoding(t);
    if (enc & BTF_INT_BOOL) return "bool";
    const bool is_signed = (enc & BTF_INT_SIGNED) != 0;
    switch (t->size) {
      case 1:
        return is_signed ? "char" : "uchar";
      case 2:
        return is_signed ? "short" : "ushort";
      case 4:
        return is_signed ? "int" : "uint";
      case 8:
        return is_signed ? "long" : "ulong";
    }
    return "int" + std::to_string(t->size * 8);
  }
  if (btf_is_enum(t)) return t->size == 4 ? "uint" : "enum";
  if (btf_is_ptr(t)) {
    __u32 target = t->type;
    const btf_type* pointee = skip_modifiers(b, &target, true);
    if (pointee != nullptr && (btf_is_struct(pointee) || btf_is_union(pointee) || btf_is_fwd(pointee))) {
      const char* name = btf__name_by_offset(b, pointee->name_off);
      return std::string(btf_is_union(pointee) ? "union " : "struct ") + (name ? name : "") + " *";
    }
    return "*";
  }
  if (btf_is_struct(t)) return std::string("struct ") + btf__name_by_offset(b, t->name_off);
  return "?";
}

// C spelling for messages: keeps typedef names (ssize_t, umode_t).
std::string c_name(const btf* b, __u32 id) {
  if (id == 0) return "void";
  const btf_type* t = btf__type_by_id(b, id);
  if (t == nullptr) return "?";
  const char* name = btf__name_by_offset(b, t->name_off);
  if (btf_is_const(t)) return "const " + c_name(b, t->type);
  if (btf_is_volatile(t)) return "volatile " + c_name(b, t->type);
  if (btf_is_mod(t)) return c_name(b, t->type);
  if (btf_is_ptr(t)) return c_name(b, t->type) + " *";
  if (btf_is_struct(t)) return std::string("struct ") + name;
  if (btf_is_union(t)) return std::string("union ") + name;
  if (btf_is_enum(t)) return std::string("enum ") + name;
  if (btf_is_func_proto(t)) return "fn";
  return name != nullptr && *name ? name : "?";
}

std::optional<FunctionPrototype> find_in(const btf* b, std::string_view name, const std::string& source) {
  const int id = btf__find_by_name_kind(b, std::string(name).c_str(), BTF_KIND_FUNC);
  if (id <= 0) return std::nullopt;
  const btf_type* fn = btf__type_by_id(b, static_cast<__u32>(id));
  const btf_type* proto = btf__type_by_id(b, fn->type);
  if (proto == nullptr || !btf_is_func_proto(proto)) return std::nullopt;
  FunctionPrototype p;
  p.name = std::string(name);
  p.btf_source = source;
  p.ret = canonical(b, proto->type);
  p.c_text = c_name(b, proto->type) + " " + p.name + "(";
  const btf_param* params = btf_params(proto);
  for (unsigned i = 0; i < btf_vlen(proto); ++i) {
    p.params.push_back(canonical(b, params[i].type));
    p.c_text += (i ? ", " : "") + c_name(b, params[i].type);
  }
  p.c_text += ")";
  return p;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

}  // namespace

Result<KernelBtf> KernelBtf::load(const std::string& path, const std::string& module_dir) {
  KernelBtf k;
  k.module_dir_ = module_dir;
  btf* b = path.empty() ? btf__load_vmlinux_btf() : btf__parse(path.c_str(), nullptr);
  if (b == nullptr) {
    return errno_error("cannot load kernel BTF from " + (path.empty() ? std::string("/sys/kernel/btf/vmlinux") : path),
                       errno);
  }
  k.vmlinux_.reset(b);
  return k;
}

KernelBtf KernelBtf::adopt(BtfPtr vmlinux) {
  KernelBtf k;
  k.vmlinux_ = std::move(vmlinux);
  return k;
}

bool KernelBtf::has_type(std::string_view name, int btf_kind) const {
  return vmlinux_ &&
         btf__find_by_name_kind(vmlinux_.get(), std::string(name).c_str(), static_cast<__u32>(btf_kind)) > 0;
}

bool KernelBtf::has_member(std::string_view struct_name, std::string_view member) const {
  if (!vmlinux_) return false;
  const int id = btf__find_by_name_kind(vmlinux_.get(), std::string(struct_name).c_str(), BTF_KIND_STRUCT);
  if (id <= 0) return false;
  const btf_type* t = btf__type_by_id(vmlinux_.get(), static_cast<__u32>(id));
  const struct btf_member* m = btf_members(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i) {
    if (member == btf__name_by_offset(vmlinux_.get(), m[i].name_off)) return true;
  }
  return false;
}

bool KernelBtf::has_enum_value(std::string_view enum_name, std::string_view value) const {
  return enum_value(enum_name, value).has_value();
}

std::optional<int64_t> KernelBtf::enum_value(std::string_view enum_name, std::string_view value) const {
  if (!vmlinux_) return std::nullopt;
  const int id = btf__find_by_name_kind(vmlinux_.get(), std::string(enum_name).c_str(), BTF_KIND_ENUM);
  if (id <= 0) return std::nullopt;
  const btf_type* t = btf__type_by_id(vmlinux_.get(), static_cast<__u32>(id));
  const struct btf_enum* e = btf_enum(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i) {
    if (value == btf__name_by_offset(vmlinux_.get(), e[i].name_off)) return e[i].val;
  }
  return std::nullopt;
}

std::optional<FunctionPrototype> KernelBtf::function(std::string_view name) const {
  if (!vmlinux_) return std::nullopt;
  if (auto p = find_in(vmlinux_.get(), name, "vmlinux")) return p;
  if (module_dir_.empty()) return std::nullopt;
  if (!modules_loaded_) {
    modules_loaded_ = true;
    if (DIR* d = opendir(module_dir_.c_str())) {
      while (const dirent* e = readdir(d)) {
        const std::string mod = e->d_name;
        if (mod == "." || mod == ".." || mod == "vmlinux") continue;
        if (btf* m = btf__parse_split((module_dir_ + "/" + mod).c_str(), vmlinux_.get())) {
          modules_.emplace_back(mod, BtfPtr(m));
        }
      }
      closedir(d);
    }
  }
  for (const auto& [mod, b] : modules_) {
    if (auto p = find_in(b.get(), name, mod)) return p;
  }
  return std::nullopt;
}

bool type_matches(std::string_view expected, std::string_view actual) {
  size_t start = 0;
  while (start <= expected.size()) {
    const size_t bar = expected.find('|', start);
    const std::string_view alt = expected.substr(start, bar == std::string_view::npos ? bar : bar - start);
    if (alt == "?" || alt == actual) return true;
    if (alt == "*" && !actual.empty() && actual.back() == '*') return true;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return false;
}

std::string describe_spec(const ProtoSpec& spec) {
  if (spec.absent) return "no " + std::string(spec.function) + "()";
  std::string out = std::string(spec.ret) + " " + std::string(spec.function) + "(";
  for (size_t i = 0; i < spec.params.size(); ++i) out += (i ? ", " : "") + std::string(spec.params[i]);
  if (!spec.exact_arity) out += spec.params.empty() ? "..." : ", ...";
  return out + ")";
}

Result<void> check_prototype(const KernelBtf& btf, const ProtoSpec& spec) {
  const auto fn = btf.function(spec.function);
  if (spec.absent) {
    if (!fn) return {};
    return Error{std::string(spec.function) + " exists in kernel BTF (" + fn->c_text +
                 ") but this variant is for kernels without it"};
  }
  if (!fn) return Error{std::string(spec.function) + " is not in kernel BTF (missing, renamed or inlined)"};
  const auto mismatch = [&](const std::string& what) {
    return Error{std::string(spec.function) + ": " + what + "; kernel has " + fn->c_text + " (" + fn->ret + " (" +
                 join(fn->params) + ")), variant expects " + describe_spec(spec)};
  };
  if (spec.exact_arity ? fn->params.size() != spec.params.size() : fn->params.size() < spec.params.size()) {
    return mismatch(std::to_string(fn->params.size()) + " parameters");
  }
  if (!type_matches(spec.ret, fn->ret)) return mismatch("return type " + fn->ret);
  for (size_t i = 0; i < spec.params.size(); ++i) {
    if (!type_matches(spec.params[i], fn->params[i])) {
      return mismatch("parameter " + std::to_string(i + 1) + " is " + fn->params[i]);
    }
  }
  return {};
}

}  // namespace cgio
