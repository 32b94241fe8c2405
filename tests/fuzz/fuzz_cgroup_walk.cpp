// The cgroup hierarchy walk (CgroupHierarchy::walk) over directory names
// from outside (a cgroup's name is whatever its creator chose). Input:
// relative paths separated by NULs, created as directories in a scratch
// tree. Invariants: the walk reports the root as "/" and exactly the
// directories created, each once, parents before children, with the inode
// number of each; a root given with trailing slashes walks the same.
#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "cgroups/cgroup_paths.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string root = cgio::fuzz::scratch_dir() + "/tree";
  ::mkdir(root.c_str(), 0700);
  cgio::fuzz::empty_dir(root);

  std::set<std::string> expected{"/"};
  for (const std::string_view rel : cgio::fuzz::split_nul(cgio::fuzz::as_text(data, size))) {
    std::string path;
    size_t i = 0;
    while (i < rel.size() && expected.size() < 64) {
      size_t j = rel.find('/', i);
      if (j == std::string_view::npos) j = rel.size();
      const std::string_view name = rel.substr(i, j - i);
      i = j + 1;
      if (name.empty() || name == "." || name == ".." || name.size() > 255) continue;
      path += "/" + std::string(name);
      if (::mkdir((root + path).c_str(), 0700) != 0 && errno != EEXIST) return 0;
      expected.insert(path);
    }
  }

  for (const std::string& given : {root, root + "//"}) {
    const auto walked = cgio::CgroupHierarchy(given).walk();
    std::map<std::string, uint64_t> seen;
    for (const auto& [ino, path] : walked) {
      FUZZ_CHECK(seen.emplace(path, ino).second);
      if (path != "/") {
        const std::string parent = path.substr(0, path.rfind('/'));
        FUZZ_CHECK(seen.contains(parent.empty() ? "/" : parent));
      }
      struct stat st {};
      FUZZ_CHECK(::stat((root + (path == "/" ? "" : path)).c_str(), &st) == 0 && st.st_ino == ino);
    }
    FUZZ_CHECK(walked.size() == expected.size());
    for (const std::string& p : expected) FUZZ_CHECK(seen.contains(p));
  }
  return 0;
}
