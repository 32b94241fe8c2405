#include "exporter_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <regex>
#include <sstream>

#include "mounts.h"

namespace cgio::test {
namespace {

std::vector<char*> c_argv(const std::vector<std::string>& args) {
  std::vector<char*> out;
  for (const auto& a : args) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::unique_ptr<ExporterProcess> ExporterProcess::start(const std::string& binary,
                                                        const std::vector<std::string>& args,
                                                        std::string* error, int timeout_seconds) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    *error = "pipe failed";
    return nullptr;
  }
  std::vector<std::string> full{binary};
  full.insert(full.end(), args.begin(), args.end());
  auto argv = c_argv(full);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], STDERR_FILENO);
    dup2(pipefd[1], STDOUT_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // A test or benchmark that is killed takes its exporter along: no
    // programs left attached, no port held.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::unique_ptr<ExporterProcess> p(new ExporterProcess());
  p->pid_ = pid;
  p->reader_ = std::thread([raw = p.get(), fd = pipefd[0]] { raw->read_log(fd); });

  std::unique_lock lock(p->mutex_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  static const std::regex ready(R"(msg=ready .*port=(\d+))");
  while (true) {
    std::smatch m;
    if (std::regex_search(p->log_, m, ready)) {
      p->port_ = static_cast<uint16_t>(std::stoi(m[1]));
      return p;
    }
    if (p->eof_ || p->changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      *error = (p->eof_ ? "exporter exited before it was ready" : "exporter not ready in time") +
               std::string("; its log:\n") + p->log_;
      lock.unlock();
      return nullptr;  // the destructor kills and reaps it
    }
  }
}

void ExporterProcess::read_log(int fd) {
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    log_.append(buf, static_cast<size_t>(n));
    changed_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mutex_);
  eof_ = true;
  changed_.notify_all();
}

std::string ExporterProcess::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

int ExporterProcess::stop(int signal, int timeout_seconds) {
  if (pid_ < 0) return -1;
  kill(pid_, signal);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      status = -2;
      break;
    }
    usleep(20000);
  }
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
  return status;
}

ExporterProcess::~ExporterProcess() {
  if (pid_ >= 0) stop(SIGKILL);
  if (reader_.joinable()) reader_.join();
}

int run_command(const std::vector<std::string>& args, std::string* output) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  auto argv = c_argv(args);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    execv(args[0].c_str(), argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) {
    if (output != nullptr) output->append(buf, static_cast<size_t>(n));
  }
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

HttpResponse http_get(uint16_t port, const std::string& path, const std::string& extra_headers) {
  HttpResponse r;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return r;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return r;
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return r;
  }
  std::string all;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t split = all.find("\r\n\r\n");
  if (split == std::string::npos || all.compare(0, 7, "HTTP/1.") != 0 || all.size() < 12) return r;
  r.status = std::stoi(all.substr(9, 3));
  r.headers = all.substr(0, split);
  r.body = all.substr(split + 4);
  return r;
}

Metrics parse_metrics(const std::string& text) {
  Metrics out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::string name;
    size_t pos = 0;
    while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
    name = line.substr(0, pos);
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (pos < line.size() && line[pos] != '}') {
        const size_t eq = line.find('=', pos);
        const std::string key = line.substr(pos, eq - pos);
        std::string value;
        pos = eq + 2;  // skip ="
        while (pos < line.size() && line[pos] != '"') {
          if (line[pos] == '\\' && pos + 1 < line.size()) {
            ++pos;
            value += line[pos] == 'n' ? '\n' : line[pos];
          } else {
            value += line[pos];
          }
          ++pos;
        }
        s.labels[key] = value;
        ++pos;  // closing quote
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
      ++pos;  // }
    }
    s.value = std::stod(line.substr(pos));
    out[name].push_back(std::move(s));
  }
  return out;
}

std::optional<double> find_sample(const Metrics& m, const std::string& name,
                                  const std::map<std::string, std::string>& labels) {
  const auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  for (const Sample& s : it->second) {
    if (s.labels == labels) return s.value;
  }
  return std::nullopt;
}

std::string cgroup2_mount() {
  auto mounts = read_mountinfo("/proc/self/mountinfo");
  if (!mounts) return {};
  auto m = find_mount(*mounts, "cgroup2");
  return m ? m->mount_point : std::string();
}

}  // namespace cgio::test
