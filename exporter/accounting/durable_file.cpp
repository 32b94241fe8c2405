#include "accounting/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/bpf_handles.h"

namespace cgio {

Result<void> write_all(int fd, std::string_view data, const std::string& what) {
  // A regular file's write(2) comes back short only when the file cannot
  // grow (disk full, quota, RLIMIT_FSIZE) or a signal arrived mid-copy. The
  // rest is then written by a second call: with one writer (one exporter
  // per node) the data ends up whole, but a concurrent appender's line could
  // land between the two parts. If the rest cannot be written the error is
  // returned with the file holding part of `data`: callers cut it back.
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot write " + what, errno);
    }
    if (n == 0) return Error{"cannot write " + what + ": write returned 0"};
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<void> fsync_retrying(int fd, const std::string& what) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno_error("cannot fsync " + what, errno);
  }
  return {};
}

void fsync_parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) (void)::fsync(dfd.get());
}

Result<void> replace_file(const std::string& path, std::string_view data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) return errno_error("cannot create " + tmp, errno);
  auto done = write_all(fd.get(), data, tmp);
  if (done) done = fsync_retrying(fd.get(), tmp);
  if (done && ::rename(tmp.c_str(), path.c_str()) != 0)
    done = errno_error("cannot rename " + tmp + " to " + path, errno);
  if (!done) {
    (void)::unlink(tmp.c_str());  // leaves no half-written temporary file behind
    return done;
  }
  fsync_parent_dir(path);
  return {};
}

}  // namespace cgio
