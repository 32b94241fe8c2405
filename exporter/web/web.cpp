#include "web/web.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <cstring>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "util/log.h"
#include "util/version.h"
#include "web/gzip_stream.h"

namespace cgio {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

// Responses leave in pieces of this size: fewer, larger writes.
constexpr size_t kPiece = 256 * 1024;
// A request's line and headers; Prometheus sends a few hundred bytes.
constexpr uint32_t kHeaderLimit = 8 * 1024;

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string_view sv(beast::string_view v) { return {v.data(), v.size()}; }

// Hex size line of one chunk (RFC 9112 7.1).
std::string chunk_size_line(size_t n) {
  char buf[24];
  const int len = std::snprintf(buf, sizeof buf, "%zx\r\n", n);
  return std::string(buf, static_cast<size_t>(len));
}

}  // namespace

class SessionBase;

struct WebServer::Impl {
  explicit Impl(WebSettings settings)
      : s(std::move(settings)),
        landing(landing_page(s.telemetry_path)),
        work(net::make_work_guard(ioc)),
        pool(s.limits.max_in_flight) {}

  WebSettings s;
  const std::string landing;
  net::io_context ioc{1};
  net::executor_work_guard<net::io_context::executor_type> work;
  // Answers requests; as many threads as answers may be in flight, so an
  // answer never waits for a thread.
  net::thread_pool pool;
  std::thread io_thread;
  std::vector<tcp::acceptor> acceptors;
  std::vector<std::string> bound;
  uint16_t first_port = 0;

  // On the I/O thread only, oldest first.
  std::list<std::shared_ptr<SessionBase>> sessions;
  Clock::time_point last_cap_log{};

  std::mutex writer_mutex;
  MetricsWriter writer;

  std::mutex flight_mutex;
  std::condition_variable flight_done;
  size_t in_flight = 0;
  std::atomic<bool> stopping{false};
  std::atomic<bool> shut_down{false};

  struct Counters {
    std::atomic<uint64_t> accepted{0}, evicted{0}, refused{0}, timeouts{0}, tls_failures{0}, unauthorized{0},
        bad_requests{0};
  } counters;

  Result<void> listen_on(const ListenAddress& address);
  Result<void> adopt_systemd_sockets();
  void accept(tcp::acceptor& acceptor);
  void admit(tcp::socket socket);
  bool make_room();
  void log_cap(const char* what);
  void remove(SessionBase* session);
  void close_all(bool busy_too);
};

// One connection. Lives on the I/O thread except while a request is being
// answered (`busy`), when the answering thread owns it and writes through
// the I/O thread.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  explicit SessionBase(WebServer::Impl& server) : server_(server) {}
  virtual ~SessionBase() = default;
  virtual void start() = 0;
  // On the I/O thread: closes the socket, which ends any wait on it.
  virtual void close() = 0;

  bool busy = false;
  Clock::time_point idle_since = Clock::now();
  std::list<std::shared_ptr<SessionBase>>::iterator where;

 protected:
  WebServer::Impl& server_;
};

namespace {

template <class Stream>
class Session final : public SessionBase {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(WebServer::Impl& server, tcp::socket socket, std::shared_ptr<net::ssl::context> tls)
      : SessionBase(server), tls_(std::move(tls)), stream_(make_stream(std::move(socket), tls_.get())) {}

  void start() override {
    if constexpr (kTls) {
      lowest().expires_after(server_.s.limits.request_timeout);
      stream_.async_handshake(net::ssl::stream_base::server, [self = me()](error_code ec) {
        if (ec) {
          ++self->server_.counters.tls_failures;
          if (ec == beast::error::timeout) ++self->server_.counters.timeouts;
          log::debug("TLS handshake failed", {{"err", ec.message()}});
          self->close();
          return;
        }
        self->read_request();
      });
    } else {
      read_request();
    }
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
    server_.remove(this);
  }

 private:
  static Stream make_stream(tcp::socket socket, net::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      return Stream(std::move(socket));
    }
  }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  std::shared_ptr<Session> me() { return std::static_pointer_cast<Session>(shared_from_this()); }

  // Waits for the next request: up to the idle timeout for its first
  // bytes, then up to the request timeout for the rest.
  void read_request() {
    if (closed_) return;
    busy = false;
    idle_since = Clock::now();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    lowest().expires_after(server_.s.limits.idle_timeout);
    http::async_read_some(stream_, buffer_, *parser_, [self = me()](error_code ec, size_t) {
      if (ec) return self->read_failed(ec);
      if (self->parser_->is_done()) return self->answer();
      self->lowest().expires_after(self->server_.s.limits.request_timeout);
      http::async_read(self->stream_, self->buffer_, *self->parser_, [self](error_code ec2, size_t) {
        if (ec2) return self->read_failed(ec2);
        self->answer();
      });
    });
  }

  void read_failed(error_code ec) {
    if (ec == beast::error::timeout) {
      ++server_.counters.timeouts;
      return close();
    }
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      // A malformed request: say so, then hang up.
      ++server_.counters.bad_requests;
      const int status = ec == http::error::header_limit ? 431 : 400;
      reply_and_close(status, std::string(reason(status)) + ": " + ec.message() + "\n");
      return;
    }
    close();  // the client went away
  }

  // A short answer written from the I/O thread, then the end of the connection.
  void reply_and_close(int status, std::string body) {
    busy = true;
    small_ = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
             "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\nConnection: close\r\n" + extra_headers() + "\r\n" + body;
    lowest().expires_after(server_.s.limits.write_timeout);
    net::async_write(stream_, net::buffer(small_), [self = me()](error_code, size_t) { self->close(); });
  }

  std::string extra_headers() const {
    std::string out;
    for (const auto& [name, value] : server_.s.headers) out += name + ": " + value + "\r\n";
    return out;
  }

  // A whole request has been read: answer it on a thread of the pool.
  void answer() {
    busy = true;
    {
      std::lock_guard lock(server_.flight_mutex);
      if (server_.in_flight >= server_.s.limits.max_in_flight || server_.stopping) {
        reply_and_close(503, "too many requests in flight\n");
        return;
      }
      ++server_.in_flight;
    }
    net::post(server_.pool, [self = me(), req = parser_->release()]() mutable {
      const bool keep = self->respond(req);
      // The slot is free before the connection may read its next request:
      // a keep-alive client asks again as soon as it has the answer.
      {
        std::lock_guard lock(self->server_.flight_mutex);
        --self->server_.in_flight;
        self->server_.flight_done.notify_all();
      }
      net::post(self->lowest().get_executor(), [self, keep] {
        if (keep && !self->server_.stopping) {
          self->read_request();
        } else {
          self->close();
        }
      });
    });
  }

  // On a pool thread: writes the buffers through the I/O thread and waits.
  bool write(std::vector<net::const_buffer> buffers) {
    std::promise<error_code> done;
    std::future<error_code> result = done.get_future();
    net::post(lowest().get_executor(), [this, &buffers, &done] {
      if (closed_) {
        done.set_value(net::error::operation_aborted);
        return;
      }
      lowest().expires_after(server_.s.limits.write_timeout);
      net::async_write(stream_, buffers, [&done](error_code ec, size_t) { done.set_value(ec); });
    });
    const error_code ec = result.get();
    if (ec == beast::error::timeout) ++server_.counters.timeouts;
    return !ec;
  }
  bool write(std::string_view text) { return write({net::buffer(text.data(), text.size())}); }

  // Answers one request; returns whether the connection stays open.
  bool respond(const http::request<http::empty_body>& req) {
    const bool head = req.method() == http::verb::head;
    bool keep = req.keep_alive() && req.version() >= 11;
    const auto plain = [&](int status, const std::string& body, const char* type = "text/plain; charset=utf-8",
                           const std::string& more = "") {
      std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nContent-Type: " + type +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nCache-Control: no-store\r\n" +
                        more + (keep ? "" : "Connection: close\r\n") + extra_headers() + "\r\n";
      if (!head) out += body;
      return write(out) && keep;
    };
    if (req.method() != http::verb::get && !head) {
      ++server_.counters.bad_requests;
      keep = false;
      return plain(405, "405 method not allowed\n", "text/plain; charset=utf-8", "Allow: GET, HEAD\r\n");
    }
    if (server_.s.authorize && !server_.s.authorize(sv(req[http::field::authorization]))) {
      ++server_.counters.unauthorized;
      return plain(401, "Unauthorized\n", "text/plain; charset=utf-8", "WWW-Authenticate: Basic\r\n");
    }
    std::string_view path = sv(req.target());
    path = path.substr(0, path.find('?'));
    if (path == server_.s.telemetry_path) return metrics(req, head, keep);
    if (path == "/") return plain(200, server_.landing, "text/html; charset=utf-8");
    return plain(404, "404 page not found\n");
  }

  bool metrics(const http::request<http::empty_body>& req, bool head, bool keep) {
    WebServer::MetricsWriter writer;
    {
      std::lock_guard lock(server_.writer_mutex);
      writer = server_.writer;
    }
    if (!writer) {
      const std::string body = "the exporter is still starting\n";
      std::string out =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n" + (keep ? "" : "Connection: close\r\n") + extra_headers() + "\r\n";
      if (!head) out += body;
      return write(out) && keep;
    }
    // HTTP/1.1 clients (Prometheus) get a chunked response streamed as it
    // is written; HTTP/1.0 has no chunks: the end of the body is the end of
    // the connection.
    const bool chunked = req.version() >= 11;
    if (!chunked) keep = false;
    const int level = server_.s.gzip_level;
    const bool gzip = level > 0 && accepts_gzip(sv(req[http::field::accept_encoding]));
    std::string header =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
        "Cache-Control: no-store\r\nVary: Accept-Encoding\r\n";
    if (gzip) header += "Content-Encoding: gzip\r\n";
    if (chunked) header += "Transfer-Encoding: chunked\r\n";
    if (!keep) header += "Connection: close\r\n";
    header += extra_headers() + "\r\n";
    if (!write(header)) return false;
    if (head) return keep;

    const auto send = [this, chunked](std::string_view piece) {
      if (piece.empty()) return true;
      if (!chunked) return write(piece);
      const std::string size = chunk_size_line(piece.size());
      return write({net::buffer(size), net::buffer(piece.data(), piece.size()), net::buffer("\r\n", 2)});
    };
    bool complete;
    if (gzip) {
      GzipStream zip(send, level, kPiece);
      ExpositionWriter out([&zip](std::string_view text) { return zip.write(text); }, kPiece);
      complete = writer(out) && zip.finish();
    } else {
      ExpositionWriter out(send, kPiece);
      complete = writer(out);
    }
    if (!complete) return false;
    if (chunked && !write(std::string_view("0\r\n\r\n"))) return false;
    return keep;
  }

  std::shared_ptr<net::ssl::context> tls_;  // outlives the stream using it
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::string small_;
  bool closed_ = false;
};

}  // namespace

// ---- Listening

Result<void> WebServer::Impl::listen_on(const ListenAddress& address) {
  const std::string shown = address.display(address.port);
  const auto failed = [&](const error_code& ec) { return Error{"cannot listen on " + shown + ": " + ec.message()}; };
  tcp::endpoint endpoint;
  bool dual_stack = false;
  if (address.host.empty()) {
    // Every address: IPv6 and IPv4 on one socket, or IPv4 alone where the
    // kernel has no IPv6.
    tcp::socket probe(ioc);
    error_code ec;
    probe.open(tcp::v6(), ec);
    dual_stack = !ec;
    endpoint = tcp::endpoint(dual_stack ? tcp::v6() : tcp::v4(), address.port);
  } else {
    error_code ec;
    const net::ip::address ip = net::ip::make_address(address.host, ec);
    if (ec) return failed(ec);
    endpoint = tcp::endpoint(ip, address.port);
  }
  tcp::acceptor acceptor(ioc);
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return failed(ec);
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (dual_stack) acceptor.set_option(net::ip::v6_only(false), ec);
  acceptor.bind(endpoint, ec);
  if (ec) return failed(ec);
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return failed(ec);
  const uint16_t port = acceptor.local_endpoint().port();
  if (acceptors.empty()) first_port = port;
  bound.push_back(address.display(port));
  acceptors.push_back(std::move(acceptor));
  return {};
}

Result<void> WebServer::Impl::adopt_systemd_sockets() {
  const int n = sd_listen_fds(1);
  if (n < 0) return Error{"--web.systemd-socket: " + std::string(std::strerror(-n))};
  if (n == 0) {
    return Error{"--web.systemd-socket: systemd passed no sockets (start cgio_exporter through its .socket unit)"};
  }
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
      return Error{"--web.systemd-socket: passed descriptor " + std::to_string(fd) + " is not a listening TCP socket"};
    }
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0 ||
        (sa.ss_family != AF_INET && sa.ss_family != AF_INET6)) {
      return Error{"--web.systemd-socket: passed descriptor " + std::to_string(fd) + " is not an IP socket"};
    }
    tcp::acceptor acceptor(ioc);
    error_code ec;
    acceptor.assign(sa.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) return Error{"--web.systemd-socket: " + ec.message()};
    const tcp::endpoint ep = acceptor.local_endpoint(ec);
    if (acceptors.empty()) first_port = ep.port();
    const std::string host = ep.address().to_string();
    bound.push_back((ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port()));
    acceptors.push_back(std::move(acceptor));
  }
  return {};
}

void WebServer::Impl::accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([this, &acceptor](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || stopping) return;
    if (ec) {
      // Out of descriptors (EMFILE) and the like: say so and try again
      // shortly rather than spin.
      log::warn("cannot accept a connection", {{"err", ec.message()}});
      auto timer = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(100));
      timer->async_wait([this, &acceptor, timer](error_code) {
        if (!stopping) accept(acceptor);
      });
      return;
    }
    admit(std::move(socket));
    accept(acceptor);
  });
}

void WebServer::Impl::log_cap(const char* what) {
  const auto now = Clock::now();
  if (now - last_cap_log < std::chrono::minutes(1)) return;
  last_cap_log = now;
  log::warn(what, {{"max_connections", std::to_string(s.limits.max_connections)},
                   {"evicted_total", std::to_string(counters.evicted.load())},
                   {"refused_total", std::to_string(counters.refused.load())}});
}

// At the cap: closes the connection that has waited longest for a request.
bool WebServer::Impl::make_room() {
  std::shared_ptr<SessionBase> oldest;
  for (const auto& session : sessions) {
    if (!session->busy && (!oldest || session->idle_since < oldest->idle_since)) oldest = session;
  }
  if (!oldest) return false;
  oldest->close();
  ++counters.evicted;
  log_cap("at the connection limit (--web.max-connections): closed the longest-idle connection for a new one");
  return true;
}

void WebServer::Impl::admit(tcp::socket socket) {
  ++counters.accepted;
  if (sessions.size() >= s.limits.max_connections && !make_room()) {
    ++counters.refused;
    log_cap("at the connection limit (--web.max-connections) with every connection busy: refused a new one");
    return;  // the socket closes here
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // the last small piece of an answer must not wait for an ACK
  std::shared_ptr<SessionBase> session;
  if (s.tls) {
    std::shared_ptr<net::ssl::context> context = s.tls();
    if (!context) return;
    session =
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(socket), std::move(context));
  } else {
    session = std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket), nullptr);
  }
  session->where = sessions.insert(sessions.end(), session);
  session->start();
}

void WebServer::Impl::remove(SessionBase* session) {
  if (session->where != sessions.end()) {
    auto it = session->where;
    session->where = sessions.end();
    sessions.erase(it);  // may destroy `session` once its handlers let go
  }
}

void WebServer::Impl::close_all(bool busy_too) {
  std::vector<std::shared_ptr<SessionBase>> targets;
  for (const auto& session : sessions) {
    if (busy_too || !session->busy) targets.push_back(session);
  }
  for (const auto& session : targets) session->close();
}

// ---- WebServer

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<WebServer>> WebServer::start(WebSettings settings) {
  auto impl = std::make_unique<Impl>(std::move(settings));
  if (impl->s.systemd_socket) {
    if (auto r = impl->adopt_systemd_sockets(); !r) return std::move(r).error();
  } else {
    if (impl->s.addresses.empty()) return Error{"no address to listen on"};
    for (const ListenAddress& address : impl->s.addresses) {
      if (auto r = impl->listen_on(address); !r) return std::move(r).error();
    }
  }
  for (tcp::acceptor& acceptor : impl->acceptors) impl->accept(acceptor);
  Impl* raw = impl.get();
  impl->io_thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<WebServer>(new WebServer(std::move(impl)));
}

void WebServer::shutdown() {
  Impl& impl = *impl_;
  if (impl.shut_down) return;
  impl.shut_down = true;
  impl.stopping = true;
  // No new connections; idle ones end now.
  net::post(impl.ioc, [&impl] {
    for (tcp::acceptor& acceptor : impl.acceptors) {
      error_code ignored;
      acceptor.close(ignored);
    }
    impl.close_all(false);
  });
  // Answers in progress may finish within the grace period...
  {
    std::unique_lock lock(impl.flight_mutex);
    if (!impl.flight_done.wait_for(lock, impl.s.limits.shutdown_grace, [&impl] { return impl.in_flight == 0; })) {
      log::warn("shutting down with answers still in progress",
                {{"in_flight", std::to_string(impl.in_flight)},
                 {"grace", std::to_string(impl.s.limits.shutdown_grace.count()) + "ms"}});
    }
  }
  // ...then every connection closes, which ends the writes still waiting.
  net::post(impl.ioc, [&impl] { impl.close_all(true); });
  impl.pool.join();
  impl.work.reset();
  net::post(impl.ioc, [&impl] { impl.ioc.stop(); });
  impl.io_thread.join();
}

WebServer::~WebServer() { shutdown(); }

void WebServer::serve(MetricsWriter writer) {
  std::lock_guard lock(impl_->writer_mutex);
  impl_->writer = std::move(writer);
}

std::vector<std::string> WebServer::bound() const { return impl_->bound; }

uint16_t WebServer::port() const { return impl_->first_port; }

WebStats WebServer::stats() const {
  const Impl::Counters& c = impl_->counters;
  WebStats out;
  out.connections_accepted = c.accepted;
  out.connections_evicted = c.evicted;
  out.connections_refused = c.refused;
  out.timeouts = c.timeouts;
  out.tls_handshake_failures = c.tls_failures;
  out.unauthorized = c.unauthorized;
  out.bad_requests = c.bad_requests;
  std::promise<uint64_t> open;
  auto result = open.get_future();
  if (impl_->shut_down) return out;
  net::post(impl_->ioc, [this, &open] { open.set_value(impl_->sessions.size()); });
  out.open_connections = result.get();
  return out;
}

// ---- Landing page

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

}  // namespace cgio
