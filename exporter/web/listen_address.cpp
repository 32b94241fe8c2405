#include "web/listen_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <optional>

namespace cgio {

std::string ListenAddress::display(uint16_t bound_port) const {
  const std::string port_text = std::to_string(bound_port);
  if (host.empty()) return ":" + port_text;
  if (ipv6) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

namespace {

// The first numeric address of `family` that `host` resolves to.
std::optional<std::string> resolve(std::string_view host, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(std::string(host).c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  const void* where = family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr);
  const bool ok = inet_ntop(family, where, buf, sizeof buf) != nullptr;
  freeaddrinfo(res);
  if (!ok) return std::nullopt;
  return std::string(buf);
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text, bool ipv6_supported) {
  const auto bad = [](std::string why) { return bad_input(std::move(why)); };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("expected [host]:port, e.g. :10120");

  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return bad("port must be a number from 0 to 65535");
  }

  ListenAddress addr;
  addr.port = static_cast<uint16_t>(port);
  if (host.empty()) return addr;

  if (host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return bad("unbalanced brackets around IPv6 address");
    host = host.substr(1, host.size() - 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) return bad("not an IPv6 address");
    if (!ipv6_supported) {
      return bad("this kernel has no IPv6; listen on an IPv4 address or on :port");
    }
    addr.host = std::string(host);
    addr.ipv6 = true;
    return addr;
  }
  if (host.find(':') != std::string_view::npos) return bad("IPv6 addresses must be in brackets");

  in_addr a4{};
  if (inet_pton(AF_INET, std::string(host).c_str(), &a4) == 1) {
    addr.host = std::string(host);
    return addr;
  }
  // A host name: resolve it to its first IPv4 address, else its first IPv6 one.
  if (auto v4 = resolve(host, AF_INET)) {
    addr.host = *v4;
    return addr;
  }
  if (ipv6_supported) {
    if (auto v6 = resolve(host, AF_INET6)) {
      addr.host = *v6;
      addr.ipv6 = true;
      return addr;
    }
  }
  return bad("cannot resolve host \"" + std::string(host) + "\"");
}

bool kernel_has_ipv6() {
  const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace cgio
