#include "kernel.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/utsname.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "log.h"

namespace cgio {

std::string KernelVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::optional<KernelVersion> parse_kernel_release(std::string_view release) {
  KernelVersion v;
  unsigned* parts[] = {&v.major, &v.minor, &v.patch};
  const char* p = release.data();
  const char* end = release.data() + release.size();
  for (int i = 0; i < 3; ++i) {
    const auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc{}) {
      if (i < 2) return std::nullopt;
      break;
    }
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') {
        if (i == 0) return std::nullopt;
        break;
      }
      ++p;
    }
  }
  return v;
}

bool KernelFacts::btf_has(std::string_view name, int btf_kind) const {
  if (vmlinux_btf == nullptr) return false;
  return btf__find_by_name_kind(vmlinux_btf, std::string(name).c_str(),
                                static_cast<__u32>(btf_kind)) > 0;
}

Result<RunningKernel> probe_running_kernel() {
  utsname u{};
  if (uname(&u) != 0) return errno_error("uname", errno);
  RunningKernel k;
  k.facts.release = u.release;
  if (auto v = parse_kernel_release(u.release)) k.facts.version = *v;

  btf* b = btf__load_vmlinux_btf();
  if (b == nullptr) {
    log::warn("kernel BTF not available; programs that need it cannot load",
              {{"err", std::strerror(errno)}});
  }
  k.btf.reset(b);
  k.facts.vmlinux_btf = b;
  k.facts.has_helper = [](int prog_type, int helper_id) {
    return libbpf_probe_bpf_helper(static_cast<bpf_prog_type>(prog_type),
                                   static_cast<bpf_func_id>(helper_id), nullptr) == 1;
  };
  return k;
}

}  // namespace cgio
