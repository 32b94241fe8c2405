// cgio_exporter: per-cgroup file and network I/O as Prometheus metrics.
#include <malloc.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <variant>

#include "app/app.h"
#include "config/options.h"
#include "web/listen_address.h"

int main(int argc, char** argv) {
  auto parsed = cgio::parse_options(argc, argv, cgio::kernel_has_ipv6());
  if (auto* exit = std::get_if<cgio::CliExit>(&parsed)) {
    std::fputs(exit->text.c_str(), exit->to_stderr ? stderr : stdout);
    return exit->code;
  }
  const auto& options = std::get<cgio::Options>(parsed);
  // Scrapes allocate megabytes that are freed at once. Two arenas instead of
  // one per web thread, and big blocks mmapped (returned on free) rather
  // than kept in the heap, keep the resident set near the live data.
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  if (options.print_plan) return cgio::print_plan(options);
  if (options.unpin) return cgio::unpin(options);
  // Block the stop signals before any thread starts, so they inherit the
  // mask and run() receives them synchronously with sigwait.
  const sigset_t stop = cgio::stop_signals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Every connection and BPF object is a descriptor: take the hard limit
  // (as Go programs such as node_exporter do) rather than the soft 1024.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  return cgio::run(options);
}
