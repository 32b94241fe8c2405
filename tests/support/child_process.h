// A child process for tests and benchmarks: started with its stdout and
// stderr captured, killed with SIGKILL when its owner goes away, and sent
// SIGTERM by the kernel if the test or benchmark itself dies
// (PR_SET_PDEATHSIG), so no exporter or bpftrace outlives a run.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/result.h"

namespace cgio::test {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with the arguments argv[1...].
  static Result<std::unique_ptr<ChildProcess>> spawn(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until `done(output so far)` holds; false when the child closed
  // its output or the time ran out first.
  bool wait_until(const std::function<bool(const std::string&)>& done, int timeout_ms);
  // Waits until the output contains `text` (see wait_until).
  bool wait_for_output(const std::string& text, int timeout_ms);
  // Waits for the child to exit; SIGKILL after `timeout_ms`, or as soon as
  // `give_up()` returns true. The status as from waitpid, -1 when it had to
  // be killed.
  int wait(int timeout_ms, const std::function<bool()>& give_up = {});
  // Sends `signal`, then wait().
  int stop(int signal, int timeout_ms, const std::function<bool()>& give_up = {});
  std::string output() const;
  // Whether the child closed its output (it exited, as a rule).
  bool output_closed() const;

 private:
  ChildProcess() = default;
  void read_output(int fd);

  pid_t pid_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string output_;
  bool eof_ = false;
};

// Whether `status` (from waitpid) is a normal exit with code 0.
bool exited_ok(int status);
// "exit status 2", "killed by Segmentation fault", "killed after a timeout".
std::string describe_status(int status);

}  // namespace cgio::test
