// A plain HTTP/1.1 client on one TCP connection, for the server's tests:
// several requests per connection (keep-alive), raw bytes (malformed or
// half-sent requests), and whether the server hung up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporter_process.h"
#include "util/bpf_handles.h"

namespace cgio::test {

class HttpConnection {
 public:
  // Connects to a numeric IPv4 or IPv6 address; nullopt if it cannot.
  static std::optional<HttpConnection> open(const std::string& host, uint16_t port);

  bool send(std::string_view bytes);
  // Reads one response (Content-Length, chunked, or until the end of the
  // connection); the body of a chunked one is de-chunked. Status 0 when
  // the connection ended or `timeout_ms` passed before a whole response.
  HttpResponse read_response(bool head = false, int timeout_ms = 10000);
  // GET (or HEAD) `path` with keep-alive and reads the answer.
  HttpResponse request(const std::string& path, const std::string& extra_headers = "", bool head = false);
  // Whether the server closes the connection within `timeout_ms`.
  bool closed_by_server(int timeout_ms);
  int fd() const { return fd_.get(); }

 private:
  explicit HttpConnection(Fd fd) : fd_(std::move(fd)) {}
  // Reads until `buffered_` holds `n` bytes; false on end or timeout.
  bool fill(size_t n, int timeout_ms);
  bool fill_until(std::string_view marker, int timeout_ms);

  Fd fd_;
  std::string buffered_;
};

}  // namespace cgio::test
