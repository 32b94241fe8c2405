// The HTTP side without root: gzip streaming and Accept-Encoding handling,
// and the server answering a real socket.
#include <gtest/gtest.h>
#include <zlib.h>

#include <sys/wait.h>
#include <csignal>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "exporter_process.h"
#include "http_client.h"
#include "web/gzip_stream.h"
#include "web/listen_address.h"
#include "web/web.h"

namespace cgio {
namespace {

std::string gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char buf[4096];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END) << "truncated or corrupt gzip stream";
  EXPECT_EQ(z.avail_in, 0u) << "bytes after the gzip trailer";
  inflateEnd(&z);
  return out;
}

// Text that compresses well and spans many output pieces.
std::string sample_text(size_t lines) {
  std::string text;
  for (size_t i = 0; i < lines; ++i) {
    text += "cgio_vfs_reads_total{cgroup=\"/job_" + std::to_string(i) + "\"} " + std::to_string(i * 7919) + "\n";
  }
  return text;
}

TEST(Gzip, RoundTripsInSmallPieces) {
  const std::string text = sample_text(20000);
  std::string compressed;
  size_t pieces = 0;
  GzipStream zip(
      [&](std::string_view p) {
        compressed.append(p);
        ++pieces;
        return true;
      },
      1, 4096);
  for (size_t at = 0; at < text.size(); at += 1000) ASSERT_TRUE(zip.write(std::string_view(text).substr(at, 1000)));
  ASSERT_TRUE(zip.finish());
  EXPECT_GT(pieces, 1u) << "output leaves in pieces as it is produced";
  EXPECT_LT(compressed.size(), text.size() / 4);
  EXPECT_EQ(gunzip(compressed), text);
}

TEST(Gzip, EmptyInputIsAValidStream) {
  std::string compressed;
  GzipStream zip(
      [&](std::string_view p) {
        compressed.append(p);
        return true;
      },
      6);
  ASSERT_TRUE(zip.finish());
  EXPECT_EQ(gunzip(compressed), "");
}

TEST(Gzip, StopsWhenTheSinkRefuses) {
  int calls = 0;
  GzipStream zip([&](std::string_view) { return ++calls < 2; }, 1, 1024);
  const std::string text = sample_text(50000);
  bool ok = true;
  for (size_t at = 0; at < text.size() && ok; at += 65536) ok = zip.write(std::string_view(text).substr(at, 65536));
  if (ok) ok = zip.finish();
  EXPECT_FALSE(ok);
  EXPECT_EQ(calls, 2) << "nothing more is offered to a sink that refused";
  EXPECT_FALSE(zip.write("more"));
}

TEST(Gzip, AcceptEncoding) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate"));  // what Go's HTTP client (Prometheus) sends
  EXPECT_TRUE(accepts_gzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("deflate, br"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0, *")) << "an explicit refusal wins over *";
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzipped"));
}

class Served : public ::testing::TestWithParam<int> {};

TEST_P(Served, MetricsAsPlainOrGzipByRequest) {
  const int level = GetParam();
  auto address = parse_listen_address("127.0.0.1:0", false);
  ASSERT_TRUE(address) << address.error().message;
  WebSettings settings;
  settings.addresses = {*address};
  settings.gzip_level = level;
  auto server = WebServer::start(std::move(settings));
  ASSERT_TRUE(server) << server.error().message;
  const uint16_t port = (*server)->port();
  EXPECT_EQ(test::http_get(port, "/metrics").status, 503) << "before serve()";

  const std::string text = sample_text(30000);  // several 256 KiB pieces
  (*server)->serve([&](ExpositionWriter& out) {
    out.raw(text);
    return out.finish();
  });

  const test::HttpResponse plain = test::http_get(port, "/metrics");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.headers.find("Content-Encoding"), std::string::npos) << plain.headers;
  EXPECT_EQ(plain.body, text);

  const test::HttpResponse zipped = test::http_get(port, "/metrics", "Accept-Encoding: gzip, deflate\r\n");
  ASSERT_EQ(zipped.status, 200);
  if (level == 0) {
    EXPECT_EQ(zipped.headers.find("Content-Encoding"), std::string::npos) << zipped.headers;
    EXPECT_EQ(zipped.body, text);
  } else {
    EXPECT_NE(zipped.headers.find("Content-Encoding: gzip\r\n"), std::string::npos) << zipped.headers;
    EXPECT_LT(zipped.body.size(), text.size() / 4);
    EXPECT_EQ(gunzip(zipped.body), text);
  }
  EXPECT_NE(zipped.headers.find("Vary: Accept-Encoding"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Web, Served, ::testing::Values(0, 1, 9),
                         [](const auto& param_info) { return "level" + std::to_string(param_info.param); });

// ---- The server's behaviour on real sockets (127.0.0.1 and ::1).

using test::HttpConnection;
using Clock = std::chrono::steady_clock;

std::unique_ptr<WebServer> serve_text(WebSettings settings, std::string text) {
  if (settings.addresses.empty()) settings.addresses = {*parse_listen_address("127.0.0.1:0", true)};
  auto server = WebServer::start(std::move(settings));
  EXPECT_TRUE(server) << server.error().message;
  if (!server) return nullptr;
  (*server)->serve([text = std::move(text)](ExpositionWriter& out) {
    out.raw(text);
    return out.finish();
  });
  return std::move(*server);
}

TEST(WebServer, KeepAliveServesEveryRequestOnOneConnection) {
  const std::string text = sample_text(3000);
  auto server = serve_text({}, text);
  ASSERT_TRUE(server);
  auto conn = HttpConnection::open("127.0.0.1", server->port());
  ASSERT_TRUE(conn);
  for (int i = 0; i < 5; ++i) {
    const test::HttpResponse metrics = conn->request("/metrics");
    ASSERT_EQ(metrics.status, 200) << "request " << i;
    EXPECT_EQ(metrics.body, text);
    EXPECT_NE(metrics.headers.find("Transfer-Encoding: chunked"), std::string::npos) << metrics.headers;
    const test::HttpResponse landing = conn->request("/");
    ASSERT_EQ(landing.status, 200);
    EXPECT_NE(landing.body.find("href=\"/metrics\""), std::string::npos);
    EXPECT_EQ(conn->request("/nothing").status, 404);
  }
  EXPECT_EQ(server->stats().connections_accepted, 1u);
}

// A keep-alive client asks again the moment it has an answer; its previous
// request must no longer count against max_in_flight by then (it used to be
// released only after the next request could already have been read: ab
// with -c 16 against 16 slots saw an occasional 503).
TEST(WebServer, BackToBackRequestsNeverExceedTheInFlightLimit) {
  WebSettings settings;
  settings.limits.max_in_flight = 2;
  auto server = serve_text(std::move(settings), "x 1\n");
  ASSERT_TRUE(server);
  std::vector<std::thread> clients;
  std::vector<int> refused(2, 0), failed(2, 0);
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&, c] {
      auto conn = HttpConnection::open("127.0.0.1", server->port());
      if (!conn) {
        failed[c] = -1;
        return;
      }
      for (int i = 0; i < 3000; ++i) {
        const int status = conn->request(i % 2 ? "/" : "/metrics").status;
        if (status == 503) ++refused[c];
        if (status != 200 && status != 503) ++failed[c];
        if (status == 0) return;
      }
    });
  }
  for (auto& t : clients) t.join();
  for (int c = 0; c < 2; ++c) {
    EXPECT_EQ(refused[c], 0) << "client " << c << ": 503 with no more clients than slots";
    EXPECT_EQ(failed[c], 0) << "client " << c;
  }
  EXPECT_EQ(server->stats().connections_accepted, 2u);
}

TEST(WebServer, HeadAnswersWithTheRealHeadersAndNoBody) {
  auto server = serve_text({}, sample_text(10));
  ASSERT_TRUE(server);
  auto conn = HttpConnection::open("127.0.0.1", server->port());
  ASSERT_TRUE(conn);
  const test::HttpResponse get = conn->request("/metrics", "Accept-Encoding: gzip\r\n");
  ASSERT_EQ(get.status, 200);
  const test::HttpResponse head = conn->request("/metrics", "Accept-Encoding: gzip\r\n", true);
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.headers, get.headers);
  EXPECT_TRUE(head.body.empty());
  // No body followed: the connection still serves the next request.
  EXPECT_EQ(conn->request("/metrics").status, 200);
  const test::HttpResponse landing = conn->request("/", "", true);
  EXPECT_EQ(landing.status, 200);
  EXPECT_NE(landing.headers.find("Content-Length: " + std::to_string(landing_page("/metrics").size())),
            std::string::npos)
      << landing.headers;
}

TEST(WebServer, MalformedRequestsGetAClearStatusAndTheConnectionEnds) {
  auto server = serve_text({}, "x 1\n");
  ASSERT_TRUE(server);
  const std::vector<std::pair<std::string, int>> cases = {
      {"GARBAGE\r\n\r\n", 400},
      {"GET /metrics HTTP/9.9\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n", 431},
      {"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405},
  };
  for (const auto& [request, status] : cases) {
    auto conn = HttpConnection::open("127.0.0.1", server->port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->send(request));
    EXPECT_EQ(conn->read_response().status, status) << request.substr(0, 60);
    EXPECT_TRUE(conn->closed_by_server(2000)) << request.substr(0, 60);
  }
  EXPECT_GE(server->stats().bad_requests, cases.size());
}

TEST(WebServer, SlowAndIdleClientsTimeOut) {
  WebSettings settings;
  settings.limits.idle_timeout = std::chrono::milliseconds(300);
  settings.limits.request_timeout = std::chrono::milliseconds(300);
  auto server = serve_text(std::move(settings), "x 1\n");
  ASSERT_TRUE(server);
  auto idle = HttpConnection::open("127.0.0.1", server->port());
  auto slow = HttpConnection::open("127.0.0.1", server->port());
  ASSERT_TRUE(idle && slow);
  ASSERT_TRUE(slow->send("GET /metr"));  // and never the rest
  // Closed well before the 3 s the client waits (the deadlines are 300 ms).
  EXPECT_TRUE(idle->closed_by_server(3000));
  EXPECT_TRUE(slow->closed_by_server(3000));
  // The stream closes the socket when its timer fires, just before the
  // read's handler counts the timeout: wait for the count to settle.
  uint64_t timeouts = 0;
  for (int i = 0; i < 200 && timeouts < 2; ++i) {
    timeouts = server->stats().timeouts;
    if (timeouts < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(timeouts, 2u);
}

// Hundreds of idle connections and half-sent requests, more than the cap:
// a scrape still gets in at once, and the cap's work is counted.
TEST(WebServer, AScrapeGetsThroughHundredsOfIdleAndHalfSentConnections) {
  WebSettings settings;
  settings.limits.max_connections = 200;
  const std::string text = sample_text(1000);
  auto server = serve_text(std::move(settings), text);
  ASSERT_TRUE(server);
  std::vector<HttpConnection> crowd;
  for (int i = 0; i < 500; ++i) {
    auto conn = HttpConnection::open("127.0.0.1", server->port());
    ASSERT_TRUE(conn) << i;
    if (i % 2 == 0) {
      ASSERT_TRUE(conn->send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
    }
    crowd.push_back(std::move(*conn));
  }
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    auto conn = HttpConnection::open("127.0.0.1", server->port());
    ASSERT_TRUE(conn);
    const test::HttpResponse r = conn->request("/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, text);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  }
  const WebStats stats = server->stats();
  EXPECT_LE(stats.open_connections, 200u);
  EXPECT_GE(stats.connections_evicted, 300u);
  EXPECT_EQ(stats.connections_refused, 0u);
}

TEST(WebServer, IPv6DualStackAndSeveralAddresses) {
  if (!kernel_has_ipv6()) GTEST_SKIP() << "no IPv6 in this kernel";
  WebSettings settings;
  settings.addresses = {*parse_listen_address(":0", true), *parse_listen_address("[::1]:0", true),
                        *parse_listen_address("127.0.0.1:0", true)};
  auto server = serve_text(std::move(settings), "x 1\n");
  ASSERT_TRUE(server);
  const std::vector<std::string> bound = server->bound();
  ASSERT_EQ(bound.size(), 3u);
  const auto port_of = [](const std::string& b) {
    return static_cast<uint16_t>(std::stoi(b.substr(b.rfind(':') + 1)));
  };
  EXPECT_EQ(bound[1].rfind("[::1]:", 0), 0u) << bound[1];
  // ":port" answers on IPv4 and IPv6.
  for (const char* host : {"127.0.0.1", "::1"}) {
    auto conn = HttpConnection::open(host, port_of(bound[0]));
    ASSERT_TRUE(conn) << host;
    EXPECT_EQ(conn->request("/metrics").body, "x 1\n") << host;
  }
  auto v6 = HttpConnection::open("::1", port_of(bound[1]));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->request("/metrics").status, 200);
  EXPECT_FALSE(HttpConnection::open("127.0.0.1", port_of(bound[1]))) << "[::1] is IPv6 only";
  auto v4 = HttpConnection::open("127.0.0.1", port_of(bound[2]));
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->request("/metrics").status, 200);
}

TEST(WebServer, AnAddressInUseIsAClearError) {
  auto first = serve_text({}, "x 1\n");
  ASSERT_TRUE(first);
  WebSettings settings;
  settings.addresses = {*parse_listen_address("127.0.0.1:" + std::to_string(first->port()), true)};
  auto second = WebServer::start(std::move(settings));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message,
            "cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": Address already in use");
}

TEST(WebServer, ShutdownLetsAScrapeInProgressFinish) {
  WebSettings settings;
  settings.addresses = {*parse_listen_address("127.0.0.1:0", true)};
  auto started = WebServer::start(std::move(settings));
  ASSERT_TRUE(started);
  std::unique_ptr<WebServer> server = std::move(*started);
  const std::string text = sample_text(2000);
  server->serve([&text](ExpositionWriter& out) {
    out.raw(text.substr(0, text.size() / 2));
    if (!out.finish()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    out.raw(text.substr(text.size() / 2));
    return out.finish();
  });
  auto conn = HttpConnection::open("127.0.0.1", server->port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the scrape is under way
  std::thread stopper([&server] { server->shutdown(); });
  const test::HttpResponse r = conn->read_response();
  stopper.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, text);
  EXPECT_FALSE(HttpConnection::open("127.0.0.1", server->port())) << "no longer accepting";
}

// systemd's socket activation: the listening socket arrives as fd 3 with
// LISTEN_FDS/LISTEN_PID, in a child process so fd 3 is free to take.
TEST(WebServer, SystemdSocketActivation) {
  Fd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(listen(listener.get(), 16), 0);
  socklen_t len = sizeof sa;
  getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  const uint16_t port = ntohs(sa.sin_port);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(listener.get(), 3);
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    WebSettings settings;
    settings.systemd_socket = true;
    auto server = WebServer::start(std::move(settings));
    if (!server) _exit(3);
    (*server)->serve([](ExpositionWriter& out) {
      out.raw("activated 1\n");
      return out.finish();
    });
    if ((*server)->port() != port) _exit(4);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    _exit(0);
  }
  listener = Fd();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto conn = HttpConnection::open("127.0.0.1", port);
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->request("/metrics").body, "activated 1\n");
  conn.reset();
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the child failed early: exit " << WEXITSTATUS(status);
}

TEST(WebServer, SystemdSocketWithoutSocketsIsAClearError) {
  unsetenv("LISTEN_FDS");
  WebSettings settings;
  settings.systemd_socket = true;
  auto server = WebServer::start(std::move(settings));
  ASSERT_FALSE(server);
  EXPECT_NE(server.error().message.find("systemd passed no sockets"), std::string::npos) << server.error().message;
}

}  // namespace
}  // namespace cgio
