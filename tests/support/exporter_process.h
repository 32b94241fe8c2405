// Test support: run cgio_exporter as a child process, scrape it over HTTP
// and parse the exposition text.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"

namespace cgio::test {

class ExporterProcess {
 public:
  // Starts `binary args...` and waits until it logs msg=ready (or exits).
  // Returns null with `error` set when it did not become ready. Without a
  // --bpf.pin-path in `args` it pins into a directory of its own (and a
  // state file of its own), removed with --bpf.unpin when it is destroyed.
  static std::unique_ptr<ExporterProcess> start(const std::string& binary, const std::vector<std::string>& args,
                                                std::string* error, int timeout_seconds = 60);

  uint16_t port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  std::string log() const { return process_->output(); }
  // Sends `signal` and waits; returns the exit status as from waitpid (-1:
  // killed after the timeout).
  int stop(int signal, int timeout_seconds = 30) { return process_->stop(signal, timeout_seconds * 1000); }
  ~ExporterProcess();

 private:
  ExporterProcess() = default;

  std::unique_ptr<ChildProcess> process_;
  std::string binary_;
  std::vector<std::string> own_pins_;  // the flags of the pins it made, to unpin
  uint16_t port_ = 0;
};

// Pins shared by the exporters of one test (a restart adopts them): unique
// paths, unpinned when it goes.
class PinnedState {
 public:
  explicit PinnedState(std::string binary);
  ~PinnedState();
  PinnedState(const PinnedState&) = delete;
  PinnedState& operator=(const PinnedState&) = delete;
  // --bpf.pin-path and --bpf.state-file.
  std::vector<std::string> flags() const { return {"--bpf.pin-path=" + pin_path, "--bpf.state-file=" + state_file}; }
  std::string pin_path, state_file;

 private:
  std::string binary_;
};

// Runs a command to completion; returns the exit status as from waitpid and
// collects its stdout+stderr.
int run_command(const std::vector<std::string>& argv, std::string* output);

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};
// HTTP/1.0 GET against 127.0.0.1:port. Status 0 when the connection failed.
// `extra_headers`: more request header lines, each ending in \r\n.
HttpResponse http_get(uint16_t port, const std::string& path, const std::string& extra_headers = "");

struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};
// Prometheus text format 0.0.4: metric name -> samples.
using Metrics = std::map<std::string, std::vector<Sample>>;
Metrics parse_metrics(const std::string& text);

// The value of `name` with exactly these labels, if present.
std::optional<double> find_sample(const Metrics& m, const std::string& name,
                                  const std::map<std::string, std::string>& labels);

// The cgroup2 mount point of this host, from /proc/self/mountinfo.
std::string cgroup2_mount();

}  // namespace cgio::test
