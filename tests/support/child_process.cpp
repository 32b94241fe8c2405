#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace cgio::test {

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const std::vector<std::string>& argv) {
  if (argv.empty()) return Error{"no program to start"};
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return errno_error("pipe", errno);
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return errno_error("fork", err);
  }
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // A shell without job control starts background jobs with SIGINT
    // ignored, and ignored signals survive exec: bpftrace stops on SIGINT.
    for (int sig : {SIGINT, SIGTERM, SIGPIPE}) signal(sig, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    // A bare name is looked up in PATH (mkfs.ext4, mount); a failed exec
    // says so in the output, where the caller's message shows it.
    execvp(args[0], args.data());
    const char* why = std::strerror(errno);  // no allocation after fork
    for (const char* part : {"exec ", static_cast<const char*>(args[0]), ": ", why, "\n"}) {
      (void)!write(STDERR_FILENO, part, std::strlen(part));
    }
    _exit(127);
  }
  close(pipefd[1]);
  std::unique_ptr<ChildProcess> c(new ChildProcess());
  c->pid_ = pid;
  c->reader_ = std::thread([raw = c.get(), fd = pipefd[0]] { raw->read_output(fd); });
  return c;
}

void ChildProcess::read_output(int fd) {
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    output_.append(buf, static_cast<size_t>(n));
    changed_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mutex_);
  eof_ = true;
  changed_.notify_all();
}

bool ChildProcess::wait_until(const std::function<bool(const std::string&)>& done, int timeout_ms) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done(output_) || eof_; }) &&
         done(output_);
}

bool ChildProcess::wait_for_output(const std::string& text, int timeout_ms) {
  return wait_until([&](const std::string& out) { return out.find(text) != std::string::npos; }, timeout_ms);
}

int ChildProcess::wait(int timeout_ms, const std::function<bool()>& give_up) {
  if (pid_ < 0) return -1;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) {
      status = -1;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline || (give_up && give_up())) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      status = -1;
      break;
    }
    usleep(2000);
  }
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
  return status;
}

int ChildProcess::stop(int signal, int timeout_ms, const std::function<bool()>& give_up) {
  if (pid_ < 0) return -1;
  kill(pid_, signal);
  return wait(timeout_ms, give_up);
}

std::string ChildProcess::output() const {
  std::lock_guard lock(mutex_);
  return output_;
}

bool ChildProcess::output_closed() const {
  std::lock_guard lock(mutex_);
  return eof_;
}

ChildProcess::~ChildProcess() {
  if (pid_ >= 0) stop(SIGKILL, 10000);
  if (reader_.joinable()) reader_.join();
}

bool exited_ok(int status) { return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string describe_status(int status) {
  if (status < 0) return "killed after a timeout";
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace cgio::test
