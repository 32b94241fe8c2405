// --web.listen-address ("[host]:port"). Kept small on purpose: the parser
// is being rewritten (IPv6). Host names are not fuzzed, since they are
// resolved through DNS; the input is taken only when its host is empty,
// bracketed, a numeric IPv4 address or holds a colon (rejected unresolved).
// Invariant: an accepted address reads back the same from display().
#include <arpa/inet.h>

#include <string>

#include "fuzz_support.h"
#include "web/listen_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = cgio::fuzz::as_text(data, size);
  const size_t colon = text.rfind(':');
  const std::string host(text.substr(0, colon == std::string_view::npos ? 0 : colon));
  in_addr a4{};
  const bool offline = host.empty() || host.front() == '[' || host.find(':') != std::string::npos ||
                       inet_pton(AF_INET, host.c_str(), &a4) == 1;
  if (!offline) return -1;
  for (const bool ipv6 : {false, true}) {
    const auto addr = cgio::parse_listen_address(text, ipv6);
    if (!addr) continue;
    FUZZ_CHECK(ipv6 || !addr->ipv6);
    const auto back = cgio::parse_listen_address(addr->display(addr->port), ipv6);
    FUZZ_CHECK(back && *back == *addr);
  }
  return 0;
}
