// cgio_exporter: per-cgroup file and network I/O as Prometheus metrics.
#include <csignal>
#include <cstdio>
#include <variant>

#include "app.h"
#include "options.h"
#include "web.h"

int main(int argc, char** argv) {
  auto parsed = cgio::parse_options(argc, argv, cgio::civetweb_has_ipv6());
  if (auto* exit = std::get_if<cgio::CliExit>(&parsed)) {
    std::fputs(exit->text.c_str(), exit->to_stderr ? stderr : stdout);
    return exit->code;
  }
  const auto& options = std::get<cgio::Options>(parsed);
  if (options.print_plan) return cgio::print_plan(options);
  // Block the stop signals before any thread starts, so they inherit the
  // mask and run() receives them synchronously with sigwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return cgio::run(options);
}
