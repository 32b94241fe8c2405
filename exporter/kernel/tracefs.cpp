#include "kernel/tracefs.h"

#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "kernel/mounts.h"
#include "kernel/privileges.h"
#include "util/log.h"

namespace cgio {
namespace {

bool has_events(const std::string& dir) {
  struct stat st {};
  return stat((dir + "/events").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Result<std::string> Tracefs::root() {
  std::lock_guard lock(mutex_);
  if (root_) return *root_;
  auto mounts = read_mountinfo(procfs_ + "/self/mountinfo");
  if (mounts) {
    if (auto m = find_mount(*mounts, "tracefs"); m && has_events(m->mount_point)) {
      root_ = m->mount_point;
    } else if (auto d = find_mount(*mounts, "debugfs"); d && has_events(d->mount_point + "/tracing")) {
      root_ = d->mount_point + "/tracing";
    }
  }
  if (!root_) {
    const std::string target = "/sys/kernel/tracing";
    if (mount("tracefs", target.c_str(), "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      return errno_error("tracefs is not mounted and mounting it on " + target + " failed", errno);
    }
    log::info("mounted tracefs for syscall tracepoints", {{"path", target}});
    root_ = target;
  }
  return *root_;
}

Result<unsigned long long> Tracefs::event_id(const std::string& category, const std::string& event) {
  auto dir = root();
  if (!dir) return dir.error();
  const std::string path = *dir + "/events/" + category + "/" + event + "/id";
  std::ifstream in(path);
  unsigned long long id = 0;
  if (!in) return errno_error("no tracepoint " + category + "/" + event + " (" + path + ")", errno);
  if (!(in >> id)) return Error{"cannot parse " + path};
  return id;
}

Result<Fd> Tracefs::open_perf_event(const std::string& category_event) {
  const size_t slash = category_event.find('/');
  if (slash == std::string::npos) return Error{"bad tracepoint " + category_event};
  auto id = event_id(category_event.substr(0, slash), category_event.substr(slash + 1));
  if (!id) return id.error();
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof(attr);
  attr.config = *id;
  Fd pfd(static_cast<int>(
      syscall(SYS_perf_event_open, &attr, -1 /* any pid */, 0 /* cpu */, -1 /* group */, PERF_FLAG_FD_CLOEXEC)));
  if (!pfd.valid()) {
    const int err = errno;
    Error e = errno_error("perf_event_open for tracepoint " + category_event, err);
    if (std::string hint = perf_event_refusal_hint(err); !hint.empty()) e.message += " (" + hint + ")";
    return e;
  }
  return pfd;
}

}  // namespace cgio
