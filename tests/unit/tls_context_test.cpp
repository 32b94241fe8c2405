// TLS server contexts: real handshakes in-process over a socketpair, the
// server side from TlsContexts, the client a plain OpenSSL one.
#include "web/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "test_certs.h"

namespace cgio {
namespace {

namespace fs = std::filesystem;
using test::KeyCert;

struct Outcome {
  bool ok = false;        // the server completed the handshake and the client read its byte
  std::string cipher;     // IANA name of the negotiated suite
  std::string version;    // "TLSv1.2"
  std::string server_cn;  // the certificate the client saw
};

struct ClientSide {
  const KeyCert* cert = nullptr;  // nullptr: no client certificate
  int max_version = 0;            // 0: the highest
  int min_version = 0;
  std::string ciphers{};  // OpenSSL's TLS 1.2 list; "" default
  std::string groups{};   // "" default
};

// One handshake: the server with `server` in a thread, the client here.
// Both ends end on their own (timeouts of 5 s on the sockets), so a refused
// client never hangs the test.
Outcome handshake(boost::asio::ssl::context& server, const ClientSide& client) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return {};
  timeval tv{5, 0};
  for (int fd : fds) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool server_ok = false;
  std::thread srv([&] {
    SSL* s = SSL_new(server.native_handle());
    SSL_set_fd(s, fds[0]);
    if (SSL_accept(s) == 1) server_ok = SSL_write(s, "x", 1) == 1;
    SSL_free(s);
    shutdown(fds[0], SHUT_RDWR);
  });
  Outcome out;
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(cctx, 0);  // lets the client offer TLS 1.0/1.1 where a test wants them
  if (client.max_version) SSL_CTX_set_max_proto_version(cctx, client.max_version);
  if (client.min_version) SSL_CTX_set_min_proto_version(cctx, client.min_version);
  if (!client.ciphers.empty()) SSL_CTX_set_cipher_list(cctx, client.ciphers.c_str());
  if (!client.groups.empty()) SSL_CTX_set1_groups_list(cctx, client.groups.c_str());
  if (client.cert) {
    SSL_CTX_use_certificate(cctx, client.cert->cert.get());
    SSL_CTX_use_PrivateKey(cctx, client.cert->key.get());
  }
  SSL* c = SSL_new(cctx);
  SSL_set_fd(c, fds[1]);
  char byte = 0;
  // Under TLS 1.3 the server judges the client's certificate after the
  // client's handshake is done: only the byte proves the server accepted it.
  if (SSL_connect(c) == 1) {
    out.ok = SSL_read(c, &byte, 1) == 1 && byte == 'x';
    out.cipher = SSL_CIPHER_standard_name(SSL_get_current_cipher(c));
    out.version = SSL_get_version(c);
    if (X509* peer = SSL_get1_peer_certificate(c)) {
      out.server_cn = test::common_name(peer);
      X509_free(peer);
    }
  }
  SSL_free(c);
  SSL_CTX_free(cctx);
  shutdown(fds[1], SHUT_RDWR);
  srv.join();
  close(fds[0]);
  close(fds[1]);
  ERR_clear_error();
  out.ok = out.ok && server_ok;
  return out;
}

class TlsContextsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgio-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::tie(config_.cert_file, config_.key_file) = test::write_pems(dir_, "server", server_);
    test::write_cert_pem(dir_ + "/ca.crt", ca_.cert.get());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<TlsContexts> contexts() {
    auto c = TlsContexts::create(config_);
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
  }
  Outcome connect(const ClientSide& client = {}) {
    auto c = contexts();
    if (!c) return {};
    return handshake(*c->current(), client);
  }

  std::string dir_;
  KeyCert ca_ = test::make_ca("client CA");
  KeyCert server_ = test::make_cert("server one", nullptr, {"localhost"});
  KeyCert trusted_client_ = test::make_cert("trusted client", &ca_);
  KeyCert stranger_ = test::make_cert("stranger", nullptr);
  TlsServerConfig config_;
};

TEST_F(TlsContextsTest, PlainServerTakesAnyClientAndShowsItsCertificate) {
  auto out = connect();
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.server_cn, "server one");
  EXPECT_EQ(out.version, "TLSv1.3");
  EXPECT_TRUE(connect({.cert = &stranger_}).ok);
}

TEST_F(TlsContextsTest, RequestClientCertTakesAnyOrNone) {
  config_.client_auth = ClientAuth::request;
  EXPECT_TRUE(connect().ok);
  EXPECT_TRUE(connect({.cert = &stranger_}).ok);
}

TEST_F(TlsContextsTest, RequireAnyClientCertNeedsOneButDoesNotVerifyIt) {
  config_.client_auth = ClientAuth::require_any;
  EXPECT_FALSE(connect().ok);
  EXPECT_TRUE(connect({.cert = &stranger_}).ok);
}

TEST_F(TlsContextsTest, VerifyClientCertIfGivenRefusesOnlyUntrusted) {
  config_.client_auth = ClientAuth::verify_if_given;
  config_.client_ca_file = dir_ + "/ca.crt";
  EXPECT_TRUE(connect().ok);
  EXPECT_TRUE(connect({.cert = &trusted_client_}).ok);
  EXPECT_FALSE(connect({.cert = &stranger_}).ok);
}

TEST_F(TlsContextsTest, RequireAndVerifyNeedsATrustedCertificate) {
  config_.client_auth = ClientAuth::require_and_verify;
  config_.client_ca_file = dir_ + "/ca.crt";
  EXPECT_FALSE(connect().ok);
  EXPECT_TRUE(connect({.cert = &trusted_client_}).ok);
  EXPECT_FALSE(connect({.cert = &stranger_}).ok);
  // Under TLS 1.2 too, where the refusal comes inside the handshake.
  EXPECT_FALSE(connect({.cert = &stranger_, .max_version = TLS1_2_VERSION}).ok);
  EXPECT_TRUE(connect({.cert = &trusted_client_, .max_version = TLS1_2_VERSION}).ok);
}

TEST_F(TlsContextsTest, VersionsAreEnforced) {
  config_.min_version = TlsVersion::tls13;
  EXPECT_FALSE(connect({.max_version = TLS1_2_VERSION}).ok);
  config_.min_version = TlsVersion::tls12;
  config_.max_version = TlsVersion::tls12;
  auto out = connect();
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.version, "TLSv1.2");
  // The default minimum, TLS 1.2, refuses a TLS 1.1 client; TLS11 lets it in.
  config_.max_version.reset();
  EXPECT_FALSE(connect({.max_version = TLS1_1_VERSION}).ok);
  config_.min_version = TlsVersion::tls11;
  auto old = connect({.max_version = TLS1_1_VERSION});
  EXPECT_TRUE(old.ok);
  EXPECT_EQ(old.version, "TLSv1.1");
}

TEST_F(TlsContextsTest, CipherSuiteRestrictionTakesEffect) {
  config_.max_version = TlsVersion::tls12;
  for (std::string suite :
       {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"}) {
    config_.cipher_suites = {suite};
    auto out = connect();
    EXPECT_TRUE(out.ok) << suite;
    EXPECT_EQ(out.cipher, suite);
  }
  // A client that offers only a suite outside the list is refused.
  config_.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"};
  EXPECT_FALSE(connect({.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"}).ok);
}

TEST_F(TlsContextsTest, ServerPreferenceDecidesTheSuite) {
  config_.max_version = TlsVersion::tls12;
  config_.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"};
  const ClientSide client{.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"};
  EXPECT_EQ(connect(client).cipher, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
  config_.prefer_server_cipher_suites = false;
  EXPECT_EQ(connect(client).cipher, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
}

TEST_F(TlsContextsTest, CurvePreferencesLimitTheGroups) {
  config_.curve_preferences = {"CurveP384"};
  EXPECT_FALSE(connect({.groups = "P-256"}).ok);
  EXPECT_TRUE(connect({.groups = "P-256:P-384"}).ok);
}

TEST_F(TlsContextsTest, MismatchedKeyIsAnError) {
  test::write_key_pem(config_.key_file, stranger_.key.get());
  auto c = TlsContexts::create(config_);
  ASSERT_FALSE(c);
  const std::string want =
      "tls_server_config.key_file: " + config_.key_file + " is not the key of the certificate in " + config_.cert_file;
  EXPECT_EQ(c.error().message.substr(0, want.size()), want);
}

TEST_F(TlsContextsTest, ReplacedCertificateIsServedAndABrokenOneKeepsTheLast) {
  auto contexts_ = contexts();
  ASSERT_TRUE(contexts_);
  EXPECT_EQ(handshake(*contexts_->current(), {}).server_cn, "server one");
  auto first = contexts_->current();
  EXPECT_EQ(contexts_->current(), first) << "rebuilt with nothing changed";

  // Renewal as tools do it: new files written aside, renamed over the old.
  auto two = test::make_cert("server two", nullptr);
  test::write_pems(dir_, "new", two);
  fs::rename(dir_ + "/new.crt", config_.cert_file);
  fs::rename(dir_ + "/new.key", config_.key_file);
  auto second = contexts_->current();
  EXPECT_NE(second, first);
  EXPECT_EQ(handshake(*second, {}).server_cn, "server two");

  // A half-written certificate: the previous context stays.
  std::ofstream(dir_ + "/broken.crt") << "-----BEGIN CERTIFICATE-----\nMIIB\n";
  fs::rename(dir_ + "/broken.crt", config_.cert_file);
  auto third = contexts_->current();
  EXPECT_EQ(third, second);
  EXPECT_EQ(handshake(*third, {}).server_cn, "server two");
  EXPECT_EQ(contexts_->current(), second) << "the broken files are not retried until they change";
}

}  // namespace
}  // namespace cgio
