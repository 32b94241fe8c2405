#include "exporter_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <regex>
#include <sstream>
#include <tuple>

#include "kernel/mounts.h"

namespace cgio::test {
namespace {

// Unique per process and call: tests run in parallel.
std::pair<std::string, std::string> unique_pins() {
  static std::atomic<int> n{0};
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(n++);
  return {"/sys/fs/bpf/cgio-test-" + tag, "/tmp/cgio-test-" + tag + ".state"};
}

void unpin(const std::string& binary, const std::vector<std::string>& flags) {
  std::vector<std::string> argv{binary, "--bpf.unpin"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::string out;
  run_command(argv, &out);
}

}  // namespace

PinnedState::PinnedState(std::string binary) : binary_(std::move(binary)) {
  std::tie(pin_path, state_file) = unique_pins();
}

PinnedState::~PinnedState() { unpin(binary_, flags()); }

ExporterProcess::~ExporterProcess() {
  if (own_pins_.empty()) return;
  process_.reset();  // killed and reaped: the pins are no longer in use
  unpin(binary_, own_pins_);
}

std::unique_ptr<ExporterProcess> ExporterProcess::start(const std::string& binary, const std::vector<std::string>& args,
                                                        std::string* error, int timeout_seconds) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> own;
  if (std::none_of(args.begin(), args.end(), [](const std::string& a) { return a.starts_with("--bpf.pin-path"); })) {
    const auto [pin, state] = unique_pins();
    own = {"--bpf.pin-path=" + pin, "--bpf.state-file=" + state};
    argv.insert(argv.end(), own.begin(), own.end());
  }
  auto child = ChildProcess::spawn(argv);
  if (!child) {
    *error = child.error().message;
    return nullptr;
  }
  std::unique_ptr<ExporterProcess> p(new ExporterProcess());
  p->binary_ = binary;
  p->own_pins_ = own;
  p->process_ = std::move(child.value());
  // The whole ready line, so the port is not read from half of it.
  static const std::regex ready(R"(msg=ready [^\n]*port=(\d+)[^\n]*\n)");
  std::smatch m;
  std::string log;
  const bool is_ready = p->process_->wait_until(
      [&](const std::string& out) {
        log = out;
        return std::regex_search(log, m, ready);
      },
      timeout_seconds * 1000);
  if (!is_ready) {
    *error = (p->process_->output_closed() ? "exporter exited before it was ready" : "exporter not ready in time") +
             std::string("; its log:\n") + p->process_->output();
    return nullptr;  // the child is killed and reaped
  }
  p->port_ = static_cast<uint16_t>(std::stoi(m[1]));
  return p;
}

int run_command(const std::vector<std::string>& args, std::string* output) {
  auto child = ChildProcess::spawn(args);
  if (!child) return -1;
  const int status = (*child)->wait(24 * 3600 * 1000);
  if (output != nullptr) *output += (*child)->output();
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
