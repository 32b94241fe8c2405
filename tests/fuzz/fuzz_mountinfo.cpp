// /proc/<pid>/mountinfo (parse_mountinfo and the lookups on its result).
// Invariants: every mount written back as a mountinfo line (escaped as the
// kernel escapes: octal \NNN) parses to itself; at most one mount per
// line; find_mount and find_cgroup_v1_mount return a mount of the asked
// type (and controller), with root "/" whenever one has it.
#include <algorithm>
#include <cctype>
#include <string>

#include "fuzz_support.h"
#include "kernel/mounts.h"

namespace {

std::string escape(const std::string& field) {
  std::string out;
  for (const char c : field) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isspace(u) || c == '\\') {
      out += '\\';
      out += static_cast<char>('0' + (u >> 6));
      out += static_cast<char>('0' + ((u >> 3) & 7));
      out += static_cast<char>('0' + (u & 7));
    } else {
      out += c;
    }
  }
  return out;
}

std::string line_of(const cgio::Mount& m) {
  std::string line = "1 2 0:1 " + escape(m.root) + " " + escape(m.mount_point) + " rw - " + m.fs_type;
  if (!m.source.empty() || !m.super_options.empty()) line += " " + escape(m.source);
  if (!m.super_options.empty()) line += " " + m.super_options;
  return line + "\n";
}

bool same(const cgio::Mount& a, const cgio::Mount& b) {
  return a.root == b.root && a.mount_point == b.mount_point && a.fs_type == b.fs_type && a.source == b.source &&
         a.super_options == b.super_options;
}

bool has_option(const std::string& options, const std::string& name) {
  size_t start = 0;
  while (true) {
    const size_t comma = options.find(',', start);
    if (options.substr(start, comma == std::string::npos ? std::string::npos : comma - start) == name) return true;
    if (comma == std::string::npos) return false;
    start = comma + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(cgio::fuzz::as_text(data, size));
  const auto mounts = cgio::parse_mountinfo(text);
  FUZZ_CHECK(mounts.size() <= static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  for (const cgio::Mount& m : mounts) {
    FUZZ_CHECK(!m.fs_type.empty() && !m.root.empty() && !m.mount_point.empty());
    const auto back = cgio::parse_mountinfo(line_of(m));
    FUZZ_CHECK(back.size() == 1 && same(back[0], m));
  }
  for (const std::string type : {"cgroup2", "tracefs", "cgroup"}) {
    const auto found = cgio::find_mount(mounts, type);
    const bool any = std::any_of(mounts.begin(), mounts.end(), [&](const auto& m) { return m.fs_type == type; });
    const bool any_root =
        std::any_of(mounts.begin(), mounts.end(), [&](const auto& m) { return m.fs_type == type && m.root == "/"; });
    FUZZ_CHECK(found.has_value() == any);
    if (found) FUZZ_CHECK(found->fs_type == type && (!any_root || found->root == "/"));
  }
  for (const std::string controller : {"cpuacct", "memory", "name=systemd"}) {
    const auto found = cgio::find_cgroup_v1_mount(mounts, controller);
    if (found) FUZZ_CHECK(found->fs_type == "cgroup" && has_option(found->super_options, controller));
  }
  return 0;
}
