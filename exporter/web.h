// The HTTP side: prometheus-cpp's Exposer (civetweb) serves the metrics;
// a civetweb begin_request callback adds the landing page at "/".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "listen_address.h"
#include "result.h"

namespace prometheus {
class Collectable;
class Exposer;
}  // namespace prometheus

namespace cgio {

bool civetweb_has_ipv6();

// HTML of the landing page linking to the metrics.
std::string landing_page(const std::string& telemetry_path);

class WebServer {
 public:
  // Binds and starts serving; a clear error when the address cannot be used.
  static Result<std::unique_ptr<WebServer>> start(const ListenAddress& address,
                                                  const std::string& telemetry_path);
  ~WebServer();

  void serve(const std::weak_ptr<prometheus::Collectable>& collectable);
  uint16_t port() const { return port_; }

 private:
  WebServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string telemetry_path_;
  uint16_t port_ = 0;
};

}  // namespace cgio
