#include "kernel/kernel.h"

#include <sys/utsname.h>

#include <cerrno>
#include <charconv>

namespace cgio {

std::string_view to_string(ProbeType type) {
  switch (type) {
    case ProbeType::fentry:
      return "fentry";
    case ProbeType::kprobe:
      return "kprobe";
    case ProbeType::tracepoint:
      return "tracepoint";
  }
  return "unknown";
}

std::optional<ProbeType> parse_probe_type(std::string_view name) {
  for (ProbeType t : kProbeTypesByPreference) {
    if (to_string(t) == name) return t;
  }
  return std::nullopt;
}

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
  return btf != nullptr && btf->has_type(name, btf_kind);
}

Result<RunningKernel> inspect_running_kernel(const std::string& btf_path) {
  utsname u{};
  if (uname(&u) != 0) return errno_error("uname", errno);
  RunningKernel k;
  k.release = u.release;
  if (auto v = parse_kernel_release(u.release)) k.version = *v;
  auto btf = KernelBtf::load(btf_path, btf_path.empty() ? "/sys/kernel/btf" : "");
  k.btf_source = btf_path.empty() ? "/sys/kernel/btf/vmlinux" : btf_path;
  if (btf) {
    k.btf = std::move(btf.value());
  } else {
    k.btf_error = btf.error();
  }
  return k;
}

}  // namespace cgio
