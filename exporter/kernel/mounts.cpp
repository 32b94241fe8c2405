#include "kernel/mounts.h"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace cgio {
namespace {

std::string unescape(const std::string& field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' && field[i + 2] >= '0' &&
        field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::vector<Mount> parse_mountinfo(const std::string& text) {
  std::vector<Mount> mounts;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    // id parent major:minor root mount-point options [optional...] - type source super-options
    std::istringstream fields(line);
    std::vector<std::string> f;
    std::string word;
    while (fields >> word) f.push_back(word);
    size_t sep = 0;
    for (size_t i = 6; i < f.size(); ++i) {
      if (f[i] == "-") {
        sep = i;
        break;
      }
    }
    if (sep == 0 || sep + 1 >= f.size()) continue;
    Mount m;
    m.root = unescape(f[3]);
    m.mount_point = unescape(f[4]);
    m.fs_type = f[sep + 1];
    m.source = sep + 2 < f.size() ? unescape(f[sep + 2]) : std::string();
    m.super_options = sep + 3 < f.size() ? f[sep + 3] : std::string();
    mounts.push_back(std::move(m));
  }
  return mounts;
}

Result<std::vector<Mount>> read_mountinfo(const std::string& path) {
  std::ifstream in(path);
  if (!in) return errno_error("cannot read " + path, errno);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mountinfo(text.str());
}

std::optional<Mount> find_mount(const std::vector<Mount>& mounts, const std::string& fs_type) {
  std::optional<Mount> found;
  for (const Mount& m : mounts) {
    if (m.fs_type != fs_type) continue;
    if (m.root == "/") return m;
    if (!found) found = m;
  }
  return found;
}

std::optional<Mount> find_cgroup_v1_mount(const std::vector<Mount>& mounts, const std::string& controller) {
  std::optional<Mount> found;
  for (const Mount& m : mounts) {
    if (m.fs_type != "cgroup") continue;
    bool has = false;
    size_t start = 0;
    while (start <= m.super_options.size()) {
      const size_t comma = m.super_options.find(',', start);
      if (m.super_options.substr(start, comma == std::string::npos ? std::string::npos : comma - start) == controller) {
        has = true;
        break;
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (!has) continue;
    if (m.root == "/") return m;
    if (!found) found = m;
  }
  return found;
}

}  // namespace cgio
