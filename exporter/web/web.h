// The HTTP side, on civetweb: the landing page at "/", and the metrics,
// written by a callback straight into a chunked response as they are
// produced (no response-sized buffer), gzip-compressed on the way when the
// client accepts it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "util/result.h"
#include "web/exposition.h"
#include "web/listen_address.h"

class CivetServer;

namespace cgio {

bool civetweb_has_ipv6();

// HTML of the landing page linking to the metrics.
std::string landing_page(const std::string& telemetry_path);

class WebServer {
 public:
  // Writes one whole exposition; returns false when the client went away.
  using MetricsWriter = std::function<bool(ExpositionWriter&)>;

  // Binds and starts serving; a clear error when the address cannot be used.
  // Until serve() is called, the metrics path answers 503. Scrapes that
  // accept gzip get it at `gzip_level` (1-9); 0 never compresses.
  static Result<std::unique_ptr<WebServer>> start(const ListenAddress& address, const std::string& telemetry_path,
                                                  int gzip_level);
  ~WebServer();

  void serve(MetricsWriter writer);
  uint16_t port() const { return port_; }

 private:
  WebServer() = default;
  struct Handlers;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<CivetServer> server_;
  uint16_t port_ = 0;
};

}  // namespace cgio
