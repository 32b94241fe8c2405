// The HTTP side, on Boost.Beast over Boost.Asio (and OpenSSL for TLS): the
// landing page at "/" and the metrics, written by a callback straight into a
// chunked response as they are produced (no response-sized buffer),
// gzip-compressed on the way when the client accepts it.
//
// One I/O thread accepts connections, runs TLS handshakes and reads
// requests, all asynchronously, so idle and slow clients cost a socket and a
// few kilobytes each, never a thread; every wait has a deadline. A request
// that has been read completely is answered on a thread of its own, which
// writes through the I/O thread, so a scrape that takes a second never holds
// up the other connections. docs/design.md says why this layer and not
// another.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"
#include "web/exposition.h"
#include "web/listen_address.h"

namespace boost::asio::ssl {
class context;
}

namespace cgio {

// HTML of the landing page linking to the metrics.
std::string landing_page(const std::string& telemetry_path);

struct WebLimits {
  // Open connections. At the cap a new connection closes the one that has
  // waited longest for a request (idle keep-alive, a port scanner, a client
  // that stopped half-way), so a scraper always gets in; only when every
  // connection is busy answering is the new one refused.
  size_t max_connections = 512;
  // A connection with no request in progress is closed after this.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // From a request's first byte (or the TLS handshake's) to its last.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  // For each piece of a response to reach the socket.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  // Requests answered at once; more get 503 (promhttp's max-requests-in-flight).
  size_t max_in_flight = 16;
  // On shutdown, how long answers in progress may take to finish.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};
};

struct WebSettings {
  std::vector<ListenAddress> addresses;
  // Sockets passed by systemd (socket activation) instead of `addresses`.
  bool systemd_socket = false;
  std::string telemetry_path = "/metrics";
  int gzip_level = 1;  // 1-9; 0 never compresses
  WebLimits limits;
  // TLS: the server context for each new connection (re-read certificates
  // come through it); empty means plain HTTP.
  std::function<std::shared_ptr<boost::asio::ssl::context>()> tls;
  // Basic auth: whether an Authorization header value admits the request;
  // empty means no authentication.
  std::function<bool(std::string_view)> authorize;
  // Headers added to every response (web config http_server_config.headers).
  std::vector<std::pair<std::string, std::string>> headers;
};

// What the server has done, for the exporter's own metrics.
struct WebStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_evicted = 0;  // closed to make room at the cap
  uint64_t connections_refused = 0;  // at the cap with every connection busy
  uint64_t timeouts = 0;             // idle, slow request or slow reader
  uint64_t tls_handshake_failures = 0;
  uint64_t unauthorized = 0;  // answered 401
  uint64_t bad_requests = 0;  // answered 400/405/431
  uint64_t open_connections = 0;
};

class WebServer {
 public:
  // Writes one whole exposition; returns false when the client went away.
  using MetricsWriter = std::function<bool(ExpositionWriter&)>;

  // Binds every address (or takes systemd's sockets) and starts serving; a
  // clear error when an address cannot be used. Until serve() is called,
  // the metrics path answers 503.
  static Result<std::unique_ptr<WebServer>> start(WebSettings settings);
  // Stops (see shutdown) if not done yet.
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  void serve(MetricsWriter writer);
  // Stops accepting, lets answers in progress finish within the grace
  // period, then closes every connection.
  void shutdown();

  // The bound addresses ("127.0.0.1:10120", "[::]:10120"), in order.
  std::vector<std::string> bound() const;
  // The first bound port (tests bind port 0).
  uint16_t port() const;
  WebStats stats() const;

  struct Impl;

 private:
  explicit WebServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cgio
