// --web.listen-address in the Prometheus form ([host]:port).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace cgio {

struct ListenAddress {
  std::string host;  // numeric address; empty means every address, IPv6 and IPv4
  bool ipv6 = false;
  uint16_t port = 0;  // 0 asks the kernel for a free port

  // host:port for messages, with the real port once known.
  std::string display(uint16_t bound_port) const;

  bool operator==(const ListenAddress&) const = default;
};

// Parses "[host]:port". Host names are resolved to their first address
// (IPv4 preferred); IPv6 literals are accepted only when `ipv6_supported`
// (the kernel has IPv6). The error says
// what is wrong with the text (the caller names the flag).
Result<ListenAddress> parse_listen_address(std::string_view text, bool ipv6_supported);

// Whether the running kernel can open IPv6 sockets.
bool kernel_has_ipv6();

}  // namespace cgio
