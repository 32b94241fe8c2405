#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace cgio::test {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// The value of header `name` (case-insensitive) in a header block, if any.
std::optional<std::string> header(const std::string& headers, const std::string& name) {
  size_t at = 0;
  while (at < headers.size()) {
    const size_t end = headers.find("\r\n", at);
    const std::string line = headers.substr(at, end == std::string::npos ? std::string::npos : end - at);
    const size_t colon = line.find(':');
    if (colon == name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      return line.substr(v);
    }
    if (end == std::string::npos) break;
    at = end + 2;
  }
  return std::nullopt;
}

}  // namespace

std::optional<HttpConnection> HttpConnection::open(const std::string& host, uint16_t port) {
  sockaddr_storage sa{};
  socklen_t len = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&sa);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&sa);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    return std::nullopt;
  }
  Fd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() || connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) return std::nullopt;
  return HttpConnection(std::move(fd));
}

bool HttpConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool HttpConnection::fill(size_t n, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (buffered_.size() < n) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    char buf[65536];
    const ssize_t got = recv(fd_.get(), buf, sizeof buf, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(got));
  }
  return true;
}

bool HttpConnection::fill_until(std::string_view marker, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (buffered_.find(marker) == std::string::npos) {
    if (!fill(buffered_.size() + 1, remaining_ms(deadline))) return false;
  }
  return true;
}

HttpResponse HttpConnection::read_response(bool head, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  HttpResponse out;
  if (!fill_until("\r\n\r\n", timeout_ms)) return out;
  const size_t end = buffered_.find("\r\n\r\n");
  const std::string block = buffered_.substr(0, end + 2);
  buffered_.erase(0, end + 4);
  const size_t line_end = block.find("\r\n");
  const std::string status_line = block.substr(0, line_end);
  out.headers = block.substr(line_end + 2);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return out;
  const int status = std::atoi(status_line.c_str() + 9);
  if (!head) {
    const auto length = header(out.headers, "Content-Length");
    const auto encoding = header(out.headers, "Transfer-Encoding");
    if (encoding && *encoding == "chunked") {
      while (true) {
        if (!fill_until("\r\n", remaining_ms(deadline))) return out;
        const size_t e = buffered_.find("\r\n");
        const size_t size = std::strtoul(buffered_.substr(0, e).c_str(), nullptr, 16);
        buffered_.erase(0, e + 2);
        if (!fill(size + 2, remaining_ms(deadline))) return out;
        if (buffered_.compare(size, 2, "\r\n") != 0) return out;
        out.body += buffered_.substr(0, size);
        buffered_.erase(0, size + 2);
        if (size == 0) break;
      }
    } else if (length) {
      const size_t size = std::strtoul(length->c_str(), nullptr, 10);
      if (!fill(size, remaining_ms(deadline))) return out;
      out.body = buffered_.substr(0, size);
      buffered_.erase(0, size);
    } else {
      while (fill(buffered_.size() + 1, remaining_ms(deadline))) {
      }
      out.body = std::move(buffered_);
      buffered_.clear();
    }
  }
  out.status = status;
  return out;
}

HttpResponse HttpConnection::request(const std::string& path, const std::string& extra_headers, bool head) {
  const std::string req =
      std::string(head ? "HEAD " : "GET ") + path + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
  if (!send(req)) return {};
  return read_response(head);
}

bool HttpConnection::closed_by_server(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    char buf[4096];
    const ssize_t got = recv(fd_.get(), buf, sizeof buf, 0);
    if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
}

}  // namespace cgio::test
