#include "loop_ext4.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "exporter_process.h"

namespace cgio::test {

LoopExt4::LoopExt4(unsigned mib) {
  char tmpl[] = "/tmp/cgio-live-ext4-XXXXXX";
  const char* d = mkdtemp(tmpl);
  if (d == nullptr) {
    error_ = std::string("mkdtemp: ") + std::strerror(errno);
    return;
  }
  work_ = d;
  const std::string image = work_ + "/image", mnt = work_ + "/mnt";
  std::string output;
  const int fd = open(image.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  const bool sized = fd >= 0 && ftruncate(fd, static_cast<off_t>(mib) << 20) == 0;
  if (fd >= 0) close(fd);
  if (!sized || mkdir(mnt.c_str(), 0755) != 0) {
    error_ = "cannot create " + image + ": " + std::strerror(errno);
    return;
  }
  // e2fsprogs' mkfs.ext4 on a host; busybox's mke2fs (ext2, which the
  // ext4 driver mounts) in the vm tier's initramfs.
  int status = run_command({"mkfs.ext4", "-q", "-F", image}, &output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string busybox;
    status = run_command({"mke2fs", "-F", image}, &busybox);
    output += busybox;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error_ = "mkfs.ext4 (e2fsprogs) failed: " + output;
    return;
  }
  status = run_command({"mount", "-t", "ext4", "-o", "loop", image, mnt}, &output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error_ = "mount -o loop of an ext4 image failed (no loop devices?): " + output;
    return;
  }
  mount_ = mnt;
}

LoopExt4::~LoopExt4() {
  if (!mount_.empty()) umount2(mount_.c_str(), 0);  // not lazy: the loop device goes with the last user
  if (work_.empty()) return;
  unlink((work_ + "/image").c_str());
  rmdir((work_ + "/mnt").c_str());
  rmdir(work_.c_str());
}

}  // namespace cgio::test
