// A directory tree in a fresh temporary directory, standing in for a
// cgroup2 hierarchy: cgroup ids are the directories' inode numbers.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace cgio::test {

class FixtureTree {
 public:
  FixtureTree() {
    char tmpl[] = "/tmp/cgio-fixture-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~FixtureTree() { std::filesystem::remove_all(root_); }

  const std::string& root() const { return root_; }
  // Creates root/<rel> (and parents); returns its id (inode number).
  uint64_t add(const std::string& rel) {
    std::filesystem::create_directories(root_ + rel);
    return id(rel);
  }
  void remove(const std::string& rel) { std::filesystem::remove_all(root_ + rel); }
  uint64_t id(const std::string& rel) const {
    struct stat st {};
    ::stat((root_ + rel).c_str(), &st);
    return st.st_ino;
  }

 private:
  std::string root_;
};

}  // namespace cgio::test
