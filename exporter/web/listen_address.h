// --web.listen-address in the Prometheus form ([host]:port) and its
// translation into civetweb's listening_ports syntax.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace cgio {

struct ListenAddress {
  std::string host;  // numeric address; empty means every IPv4 address
  bool ipv6 = false;
  uint16_t port = 0;  // 0 asks the kernel for a free port

  // civetweb "listening_ports" value: "10120", "127.0.0.1:10120", "[::1]:10120".
  std::string civetweb_spec() const;
  // host:port for messages, with the real port once known.
  std::string display(uint16_t bound_port) const;

  bool operator==(const ListenAddress&) const = default;
};

// Parses "[host]:port". Host names are resolved to an IPv4 address;
// IPv6 literals are accepted only when `ipv6_supported`. The error says
// what is wrong with the text (the caller names the flag).
Result<ListenAddress> parse_listen_address(std::string_view text, bool ipv6_supported);

}  // namespace cgio
