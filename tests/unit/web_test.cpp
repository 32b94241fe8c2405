// The HTTP side without root: gzip streaming and Accept-Encoding handling,
// and the server answering a real socket.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "exporter_process.h"
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
  auto server = WebServer::start(*address, "/metrics", level);
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

}  // namespace
}  // namespace cgio
