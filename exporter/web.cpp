#include "web.h"

#include <arpa/inet.h>
#include <CivetServer.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <prometheus/exposer.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bpf_handles.h"
#include "options.h"

namespace cgio {
namespace {

// civetweb calls back without a user pointer we own; the page is set once
// before the server starts and only read afterwards.
std::string g_landing_page;

int serve_landing_page(mg_connection* conn) {
  const mg_request_info* req = mg_get_request_info(conn);
  if (req == nullptr || req->local_uri == nullptr || std::strcmp(req->local_uri, "/") != 0) {
    return 0;  // not ours: civetweb goes on to the metrics handler or 404
  }
  const bool head = std::strcmp(req->request_method, "HEAD") == 0;
  if (!head && std::strcmp(req->request_method, "GET") != 0) {
    mg_printf(conn, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
                    "Content-Length: 0\r\nConnection: close\r\n\r\n");
    return 405;
  }
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
            g_landing_page.size());
  if (!head) mg_write(conn, g_landing_page.data(), g_landing_page.size());
  return 200;
}

// Exposer reports only that civetweb could not start; bind the address
// ourselves to learn why (address in use, permission, no such address).
std::string diagnose_bind(const ListenAddress& address) {
  Fd fd(socket(address.ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return std::strerror(errno);
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = 0;
  if (address.ipv6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(address.port);
    inet_pton(AF_INET6, address.host.c_str(), &sa.sin6_addr);
    rc = bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(address.port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (!address.host.empty()) inet_pton(AF_INET, address.host.c_str(), &sa.sin_addr);
    rc = bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  if (rc != 0) return std::strerror(errno);
  return "the HTTP server failed to start";
}

}  // namespace

bool civetweb_has_ipv6() { return mg_check_feature(8) != 0; }

std::string landing_page(const std::string& telemetry_path) {
  std::string href;
  for (char c : telemetry_path) {
    switch (c) {
      case '&': href += "&amp;"; break;
      case '<': href += "&lt;"; break;
      case '>': href += "&gt;"; break;
      case '"': href += "&quot;"; break;
      default: href += c;
    }
  }
  return "<!DOCTYPE html>\n<html><head><title>cgio exporter</title></head>\n<body>\n"
         "<h1>cgio exporter</h1>\n"
         "<p>Per-cgroup file and network I/O, counted with eBPF.</p>\n"
         "<p><a href=\"" + href + "\">Metrics</a></p>\n"
         "<p>" + version_string() + "</p>\n</body></html>\n";
}

Result<std::unique_ptr<WebServer>> WebServer::start(const ListenAddress& address,
                                                    const std::string& telemetry_path) {
  g_landing_page = landing_page(telemetry_path);
  static CivetCallbacks callbacks;
  callbacks.begin_request = serve_landing_page;

  std::unique_ptr<WebServer> server(new WebServer());
  server->telemetry_path_ = telemetry_path;
  try {
    server->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", address.civetweb_spec(), "num_threads", "4"},
        &callbacks);
  } catch (const std::exception& e) {
    return Error{"cannot listen on " + address.display(address.port) + ": " +
                 diagnose_bind(address)};
  }
  const std::vector<int> ports = server->exposer_->GetListeningPorts();
  server->port_ = ports.empty() ? address.port : static_cast<uint16_t>(ports.front());
  return server;
}

WebServer::~WebServer() = default;

void WebServer::serve(const std::weak_ptr<prometheus::Collectable>& collectable) {
  exposer_->RegisterCollectable(collectable, telemetry_path_);
}

}  // namespace cgio
