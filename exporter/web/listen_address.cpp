#include "web/listen_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>

namespace cgio {

std::string ListenAddress::civetweb_spec() const {
  const std::string port_text = std::to_string(port);
  if (host.empty()) return port_text;
  if (ipv6) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

std::string ListenAddress::display(uint16_t bound_port) const {
  const std::string port_text = std::to_string(bound_port);
  if (host.empty()) return ":" + port_text;
  if (ipv6) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

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
      return bad(
          "this build of civetweb (the HTTP server) has no IPv6 support; "
          "listen on an IPv4 address or on :port");
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
  // A host name: resolve it to the first IPv4 address.
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(std::string(host).c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) return bad(std::string("cannot resolve host: ") + gai_strerror(rc));
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf);
  freeaddrinfo(res);
  addr.host = buf;
  return addr;
}

}  // namespace cgio
