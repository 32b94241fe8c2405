#include "web/web.h"

#include <CivetServer.h>
#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "util/bpf_handles.h"
#include "util/log.h"
#include "util/version.h"
#include "web/gzip_stream.h"

namespace cgio {
namespace {

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

void plain_response(mg_connection* conn, int status, const char* reason, const std::string& body,
                    const char* content_type = "text/plain; charset=utf-8", bool head = false) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\n\r\n",
            status, reason, content_type, body.size());
  if (!head) mg_write(conn, body.data(), body.size());
}

}  // namespace

struct WebServer::Handlers {
  class Landing final : public CivetHandler {
   public:
    explicit Landing(std::string page) : page_(std::move(page)) {}
    bool handleGet(CivetServer*, mg_connection* conn) override { return handle(conn, false); }
    bool handleHead(CivetServer*, mg_connection* conn) override { return handle(conn, true); }

   private:
    bool handle(mg_connection* conn, bool head) {
      const mg_request_info* req = mg_get_request_info(conn);
      if (req->local_uri == nullptr || std::strcmp(req->local_uri, "/") != 0) {
        plain_response(conn, 404, "Not Found", "404 page not found\n", "text/plain; charset=utf-8", head);
        return true;
      }
      plain_response(conn, 200, "OK", page_, "text/html; charset=utf-8", head);
      return true;
    }
    std::string page_;
  };

  class Metrics final : public CivetHandler {
   public:
    bool handleGet(CivetServer*, mg_connection* conn) override {
      MetricsWriter writer;
      {
        std::lock_guard lock(mutex_);
        writer = writer_;
      }
      if (!writer) {
        plain_response(conn, 503, "Service Unavailable", "the exporter is still starting\n");
        return true;
      }
      // HTTP/1.1 clients (Prometheus) get a chunked response streamed as it
      // is written; HTTP/1.0 has no chunks: the end of the body is the end
      // of the connection.
      const mg_request_info* req = mg_get_request_info(conn);
      const bool chunked = req->http_version != nullptr && std::strcmp(req->http_version, "1.0") != 0;
      const char* accept = mg_get_header(conn, "Accept-Encoding");
      const bool gzip = gzip_level_ > 0 && accept != nullptr && accepts_gzip(accept);
      mg_printf(conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                "Cache-Control: no-store\r\nVary: Accept-Encoding\r\n%s%s\r\n",
                gzip ? "Content-Encoding: gzip\r\n" : "",
                chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n");
      const auto send = [conn, chunked](std::string_view piece) {
        if (chunked) return mg_send_chunk(conn, piece.data(), static_cast<unsigned>(piece.size())) > 0;
        return mg_write(conn, piece.data(), piece.size()) > 0;
      };
      // 256 KiB pieces: fewer, larger writes to the socket.
      constexpr size_t kPiece = 256 * 1024;
      bool complete;
      if (gzip) {
        GzipStream zip(send, gzip_level_, kPiece);
        ExpositionWriter out([&zip](std::string_view text) { return zip.write(text); }, kPiece);
        complete = writer(out) && zip.finish();
      } else {
        ExpositionWriter out(send, kPiece);
        complete = writer(out);
      }
      if (complete && chunked) mg_send_chunk(conn, "", 0);
      return true;
    }
    bool handleHead(CivetServer*, mg_connection* conn) override {
      mg_printf(conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                "Content-Length: 0\r\n\r\n");
      return true;
    }
    explicit Metrics(int gzip_level) : gzip_level_(gzip_level) {}
    void set(MetricsWriter writer) {
      std::lock_guard lock(mutex_);
      writer_ = std::move(writer);
    }

   private:
    const int gzip_level_;
    std::mutex mutex_;
    MetricsWriter writer_;
  };

  Landing landing;
  Metrics metrics;
  Handlers(std::string page, int gzip_level) : landing(std::move(page)), metrics(gzip_level) {}
};

bool civetweb_has_ipv6() { return mg_check_feature(8) != 0; }

std::string landing_page(const std::string& telemetry_path) {
  std::string href;
  for (char c : telemetry_path) {
    switch (c) {
      case '&':
        href += "&amp;";
        break;
      case '<':
        href += "&lt;";
        break;
      case '>':
        href += "&gt;";
        break;
      case '"':
        href += "&quot;";
        break;
      default:
        href += c;
    }
  }
  return "<!DOCTYPE html>\n<html><head><title>cgio exporter</title></head>\n<body>\n"
         "<h1>cgio exporter</h1>\n"
         "<p>Per-cgroup file and network I/O, counted with eBPF.</p>\n"
         "<p><a href=\"" +
         href +
         "\">Metrics</a></p>\n"
         "<p>" +
         version_string() + "</p>\n</body></html>\n";
}

Result<std::unique_ptr<WebServer>> WebServer::start(const ListenAddress& address, const std::string& telemetry_path,
                                                    int gzip_level) {
  std::unique_ptr<WebServer> server(new WebServer());
  server->handlers_ = std::make_unique<Handlers>(landing_page(telemetry_path), gzip_level);
  try {
    server->server_ = std::make_unique<CivetServer>(
        std::vector<std::string>{"listening_ports", address.civetweb_spec(), "num_threads", "4"});
  } catch (const std::exception& e) {
    return Error{"cannot listen on " + address.display(address.port) + ": " + diagnose_bind(address)};
  }
  server->server_->addHandler(telemetry_path, server->handlers_->metrics);
  server->server_->addHandler("/", server->handlers_->landing);
  const std::vector<int> ports = server->server_->getListeningPorts();
  server->port_ = ports.empty() ? address.port : static_cast<uint16_t>(ports.front());
  return server;
}

WebServer::~WebServer() {
  // Stop serving before the handlers go away.
  server_.reset();
}

void WebServer::serve(MetricsWriter writer) { handlers_->metrics.set(std::move(writer)); }

}  // namespace cgio
