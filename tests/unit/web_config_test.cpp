// The web configuration file: every field, every error as one line naming
// the field, and agreement with promtool 2.42 (`promtool check web-config`,
// the exporter-toolkit it embeds) on every fixture in fixtures/web_config/.
#include "web/web_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "child_process.h"
#include "test_certs.h"

namespace cgio {
namespace {

namespace fs = std::filesystem;
constexpr const char* kPromtool = "/var/cache/cgio/tools/promtool";
constexpr const char* kHash = "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG";

// A temporary directory with the files the fixtures name: server.crt and
// server.key (a pair), ca.crt (the CA that signed it), other.key (another key).
class CertDir {
 public:
  CertDir() {
    char tmpl[] = "/tmp/cgio-webcfg-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto ca = test::make_ca("cgio test CA");
    auto server = test::make_cert("localhost", &ca, {"localhost"});
    test::write_pems(dir_, "server", server);
    test::write_cert_pem(dir_ + "/ca.crt", ca.cert.get());
    test::write_key_pem(dir_ + "/other.key", test::make_cert("other", nullptr).key.get());
  }
  ~CertDir() { fs::remove_all(dir_); }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

Result<WebConfig> parse(const std::string& yaml, const CertDir& dir) { return parse_web_config(yaml, dir.path()); }

const std::string kTls = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

TEST(WebConfig, EmptyFileIsPlainHttpWithExporterToolkitDefaults) {
  auto c = parse_web_config("", "/nowhere");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->tls);
  EXPECT_TRUE(c->basic_auth_users.empty());
  EXPECT_TRUE(c->headers.empty());
  EXPECT_TRUE(c->http2);
}

TEST(WebConfig, EveryFieldParsed) {
  CertDir dir;
  auto c = parse(kTls + R"(  client_auth_type: VerifyClientCertIfGiven
  client_ca_file: ca.crt
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP384]
  min_version: TLS11
  max_version: TLS12
  prefer_server_cipher_suites: false
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=60
basic_auth_users:
  alice: ')" + kHash +
                     "'\n",
                 dir);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->tls);
  const TlsServerConfig& t = *c->tls;
  EXPECT_EQ(t.cert_file, dir.path() + "/server.crt");
  EXPECT_EQ(t.key_file, dir.path() + "/server.key");
  EXPECT_EQ(t.client_ca_file, dir.path() + "/ca.crt");
  EXPECT_EQ(t.client_auth, ClientAuth::verify_if_given);
  EXPECT_EQ(t.cipher_suites,
            (std::vector<std::string>{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"}));
  EXPECT_EQ(t.curve_preferences, (std::vector<std::string>{"X25519", "CurveP384"}));
  EXPECT_EQ(t.min_version, TlsVersion::tls11);
  EXPECT_EQ(t.max_version, TlsVersion::tls12);
  EXPECT_FALSE(t.prefer_server_cipher_suites);
  EXPECT_FALSE(c->http2);
  using H = std::pair<std::string, std::string>;
  EXPECT_EQ(c->headers, (std::vector<H>{{"X-Frame-Options", "deny"}, {"Strict-Transport-Security", "max-age=60"}}));
  EXPECT_EQ(c->basic_auth_users, (std::map<std::string, std::string>{{"alice", kHash}}));
}

TEST(WebConfig, TlsDefaults) {
  CertDir dir;
  auto c = parse(kTls, dir);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->tls);
  EXPECT_EQ(c->tls->client_auth, ClientAuth::none);
  EXPECT_EQ(c->tls->min_version, TlsVersion::tls12);
  EXPECT_FALSE(c->tls->max_version);
  EXPECT_TRUE(c->tls->prefer_server_cipher_suites);
  EXPECT_TRUE(c->tls->cipher_suites.empty());
  EXPECT_TRUE(c->tls->client_ca_file.empty());
}

TEST(WebConfig, AbsolutePathsStay) {
  CertDir dir;
  auto c = parse_web_config(
      "tls_server_config:\n  cert_file: " + dir.path() + "/server.crt\n  key_file: " + dir.path() + "/server.key\n",
      "/nowhere");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->tls->cert_file, dir.path() + "/server.crt");
}

TEST(WebConfig, OldClientAuthNameMeansRequireAny) {
  CertDir dir;
  auto c = parse(kTls + "  client_auth_type: RequireClientCert\n", dir);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->tls->client_auth, ClientAuth::require_any);
}

struct BadCase {
  std::string yaml;
  std::string message;  // the whole one-line message, or its start when it ends in OpenSSL's reasons
};

TEST(WebConfig, EachErrorIsOneLineNamingTheField) {
  CertDir dir;
  const std::vector<BadCase> cases = {
      {"foo: 1", "foo: unknown field"},
      {"- a", "top level: must be a mapping"},
      {"tls_server_config: {cert_file: server.crt, key_file: server.key, client_allowed_sans: [x]}",
       "tls_server_config.client_allowed_sans: unknown field"},
      {"http_server_config: {http2: true}\nhttp_server_config: {http2: false}", "http_server_config: set twice"},
      {"tls_server_config: {key_file: server.key}", "tls_server_config.cert_file: missing (TLS needs a certificate)"},
      {"tls_server_config: {cert_file: server.crt}", "tls_server_config.key_file: missing (TLS needs a private key)"},
      {kTls + "  client_auth_type: Foo",
       "tls_server_config.client_auth_type: unknown client auth type \"Foo\" (NoClientCert, RequestClientCert, "
       "RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert)"},
      {kTls + "  client_ca_file: ca.crt",
       "tls_server_config.client_ca_file: set but client_auth_type does not ask for client certificates"},
      {kTls + "  cipher_suites: [FOO]", "tls_server_config.cipher_suites: unknown cipher suite \"FOO\""},
      {kTls + "  curve_preferences: [P-256]", "tls_server_config.curve_preferences: unknown curve \"P-256\""},
      {kTls + "  min_version: TLS14",
       "tls_server_config.min_version: unknown TLS version \"TLS14\" (TLS10, TLS11, TLS12 or TLS13)"},
      {kTls + "  min_version: TLS13\n  max_version: TLS12",
       "tls_server_config.max_version: TLS12 is below min_version TLS13"},
      {kTls + "  prefer_server_cipher_suites: sometimes",
       "tls_server_config.prefer_server_cipher_suites: must be true or false"},
      {kTls + "  cipher_suites: TLS_AES_128_GCM_SHA256", "tls_server_config.cipher_suites: must be a list"},
      {"basic_auth_users: {alice: secret}", "basic_auth_users.alice: not a bcrypt hash: must be 60 characters, not 6"},
      {"basic_auth_users: {alice: '$2y$03$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG'}",
       "basic_auth_users.alice: not a bcrypt hash: cost 3 is outside 4..31"},
      {"basic_auth_users: {alice: '$3y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG'}",
       "basic_auth_users.alice: not a bcrypt hash: must start with $2a$, $2b$, $2x$ or $2y$"},
      {"http_server_config: {headers: {X-Powered-By: cgio}}",
       "http_server_config.headers.X-Powered-By: this header can not be configured (Strict-Transport-Security, "
       "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy)"},
      {"http_server_config: {headers: {X-Frame-Options: DENY}}",
       "http_server_config.headers.X-Frame-Options: invalid value \"DENY\", expected \"deny\" or \"sameorigin\""},
      {"http_server_config: {headers: {X-Content-Type-Options: ''}}",
       "http_server_config.headers.X-Content-Type-Options: invalid value \"\", expected \"nosniff\""},
      {"http_server_config: {http2: maybe}", "http_server_config.http2: must be true or false"},
      {"tls_server_config:\n  cert_file: [a\n", "line 3: invalid YAML: "},
      {"tls_server_config: {cert_file: no-such.crt, key_file: server.key}",
       "tls_server_config.cert_file: cannot load a certificate chain from " + dir.path() + "/no-such.crt: "},
      {"tls_server_config: {cert_file: server.crt, key_file: no-such.key}",
       "tls_server_config.key_file: cannot load a private key from " + dir.path() + "/no-such.key: "},
      {"tls_server_config: {cert_file: server.crt, key_file: other.key}",
       "tls_server_config.key_file: " + dir.path() + "/other.key is not the key of the certificate in " + dir.path() +
           "/server.crt: "},
      {kTls + "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: none.crt",
       "tls_server_config.client_ca_file: cannot load " + dir.path() + "/none.crt: "},
  };
  for (const auto& c : cases) {
    auto r = parse(c.yaml, dir);
    ASSERT_FALSE(r) << c.yaml;
    const std::string& m = r.error().message;
    EXPECT_EQ(r.error().kind, ErrorKind::bad_input) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    if (c.message.back() == ' ')
      EXPECT_EQ(m.substr(0, c.message.size()), c.message) << c.yaml;
    else
      EXPECT_EQ(m, c.message) << c.yaml;
  }
}

TEST(WebConfig, LoadNamesTheFile) {
  CertDir dir;
  const std::string path = dir.path() + "/web.yml";
  std::ofstream(path) << kTls << "  min_version: TLS14\n";
  auto r = load_web_config(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "web config " + path +
                                   ": tls_server_config.min_version: unknown TLS version \"TLS14\" (TLS10, TLS11, "
                                   "TLS12 or TLS13)");
  auto missing = load_web_config(dir.path() + "/absent.yml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "web config " + dir.path() + "/absent.yml: No such file or directory");
  EXPECT_EQ(missing.error().kind, ErrorKind::bad_input);
  // Relative names resolve against the file's directory, not the working one.
  std::ofstream(path, std::ios::trunc) << kTls;
  auto ok = load_web_config(path);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->tls->key_file, dir.path() + "/server.key");
}

// A directory, a device that never ends and a FIFO with no writer are each
// an error at once, never an empty configuration or a hang.
TEST(WebConfig, ANonRegularFileIsAnError) {
  CertDir dir;
  auto directory = load_web_config(dir.path());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().message, "web config " + dir.path() + ": not a regular file");
  EXPECT_EQ(directory.error().kind, ErrorKind::bad_input);
  auto zero = load_web_config("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "web config /dev/zero: not a regular file");
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pipe = load_web_config(fifo);
  ASSERT_FALSE(pipe);
  EXPECT_EQ(pipe.error().message, "web config " + fifo + ": not a regular file");
  // The files it names, likewise (OpenSSL would block on the FIFO).
  auto named = parse("tls_server_config:\n  cert_file: fifo\n  key_file: server.key\n", dir);
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().message, "tls_server_config.cert_file: " + fifo + " is not a regular file");
  const std::string big = dir.path() + "/big.yml";
  std::ofstream(big) << std::string(kMaxWebConfigBytes + 1, '#');
  auto large = load_web_config(big);
  ASSERT_FALSE(large);
  EXPECT_EQ(large.error().message, "web config " + big + ": " + std::to_string(kMaxWebConfigBytes + 1) +
                                       " bytes, more than a web config can be (1048576)");
}

// Every fixture through both parsers. valid_* and invalid_* must get the
// same verdict from each; stricter_* are the files promtool accepts and cgio
// refuses on purpose (each says why in its first line).
TEST(WebConfig, AgreesWithPromtoolOnEveryFixture) {
  ASSERT_EQ(access(kPromtool, X_OK), 0)
      << kPromtool << " is missing: run packaging/install-deps.sh --test (it unpacks Debian's promtool)";
  CertDir dir;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(CGIO_FIXTURES) / "web_config")) {
    const std::string name = entry.path().filename().string();
    const std::string copy = dir.path() + "/" + name;
    fs::copy_file(entry.path(), copy);
    auto ours = load_web_config(copy);
    auto promtool = test::ChildProcess::spawn({kPromtool, "check", "web-config", copy});
    ASSERT_TRUE(promtool) << promtool.error().message;
    const int status = (*promtool)->wait(20000);
    const std::string out = (*promtool)->output();
    ASSERT_NE(status, -1) << "promtool did not finish on " << name;
    const bool promtool_ok = test::exited_ok(status) && out.find("SUCCESS") != std::string::npos;
    const bool expect_ok = name.rfind("valid_", 0) == 0;
    if (name.rfind("stricter_", 0) == 0) {
      EXPECT_TRUE(promtool_ok) << name << ": promtool now refuses it too: " << out;
      EXPECT_FALSE(ours) << name << ": cgio accepts it";
    } else {
      EXPECT_EQ(promtool_ok, expect_ok) << name << ": promtool says " << out;
      EXPECT_EQ(ours.ok(), expect_ok) << name << ": cgio says " << (ours ? "valid" : ours.error().message);
    }
    files++;
  }
  EXPECT_GE(files, 40);
}

}  // namespace
}  // namespace cgio
