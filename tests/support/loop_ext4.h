// A scratch filesystem with writeback for tests and benchmarks: the page
// cache accounting (dirtying, readahead) that tmpfs does not have.
#pragma once

#include <string>

namespace cgio::test {

// A fresh ext4 filesystem on a loop device (an image of `mib` MiB in /tmp), mounted on a
// temporary directory: a filesystem with writeback, unlike tmpfs. Needs
// mkfs.ext4 (e2fsprogs) and loop devices; when either is missing, error()
// says why and dir() is empty.
class LoopExt4 {
 public:
  explicit LoopExt4(unsigned mib = 64);
  ~LoopExt4();
  LoopExt4(const LoopExt4&) = delete;
  LoopExt4& operator=(const LoopExt4&) = delete;
  const std::string& dir() const { return mount_; }
  const std::string& error() const { return error_; }

 private:
  std::string work_, mount_, error_;
};

}  // namespace cgio::test
