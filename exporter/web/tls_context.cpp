#include "web/tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <string_view>

#include "util/log.h"

namespace cgio {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's queued errors as one line (and the queue emptied, so a later
// failure does not report this one's reasons).
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Error tls_error(std::string_view field, std::string_view what) {
  return bad_input("tls_server_config." + std::string(field) + ": " + std::string(what) + ": " + openssl_errors());
}

int protocol_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::tls10:
      return TLS1_VERSION;
    case TlsVersion::tls11:
      return TLS1_1_VERSION;
    case TlsVersion::tls12:
      return TLS1_2_VERSION;
    case TlsVersion::tls13:
      return TLS1_3_VERSION;
  }
  return 0;
}

// OpenSSL's name of a TLS 1.2 (or older) suite given by its IANA name, which
// is also Go's; "" for a TLS 1.3 suite, whose set TLS 1.3 does not let the
// server restrict in Go, and which is left at OpenSSL's default here.
Result<std::string> openssl_cipher_name(const std::string& iana) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> all(SSL_CTX_new(TLS_method()), SSL_CTX_free);
  if (!all || SSL_CTX_set_cipher_list(all.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0") != 1)
    return bad_input("tls_server_config.cipher_suites: cannot list OpenSSL's ciphers: " + openssl_errors());
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(all.get());
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); i++) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    if (iana != SSL_CIPHER_standard_name(c)) continue;
    if (std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3") return std::string();
    return std::string(SSL_CIPHER_get_name(c));
  }
  return bad_input("tls_server_config.cipher_suites: " + iana + " is not available in this OpenSSL");
}

Result<void> set_ciphers(SSL_CTX* ctx, const TlsServerConfig& c) {
  std::string list;
  for (const auto& name : c.cipher_suites) {
    auto ossl = openssl_cipher_name(name);
    if (!ossl) return ossl.error();
    if (!ossl->empty()) list += (list.empty() ? "" : ":") + *ossl;
  }
  // OpenSSL 3's default security level refuses TLS 1.0 and 1.1 altogether;
  // a file that asks for them gets them, as Go gives them.
  const bool legacy = c.min_version < TlsVersion::tls12;
  if (list.empty() && !legacy) return {};
  if (list.empty()) list = "DEFAULT";
  if (legacy) list += ":@SECLEVEL=0";
  if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1) return tls_error("cipher_suites", "cannot set " + list);
  return {};
}

Result<void> set_curves(SSL_CTX* ctx, const TlsServerConfig& c) {
  if (c.curve_preferences.empty()) return {};
  std::string list;
  for (const auto& name : c.curve_preferences) {
    std::string ossl = name == "CurveP256"   ? "P-256"
                       : name == "CurveP384" ? "P-384"
                       : name == "CurveP521" ? "P-521"
                                             : name;  // X25519
    list += (list.empty() ? "" : ":") + ossl;
  }
  if (SSL_CTX_set1_groups_list(ctx, list.c_str()) != 1) return tls_error("curve_preferences", "cannot set " + list);
  return {};
}

// RequestClientCert and RequireAnyClientCert take any certificate, as Go
// does: the handshake asks for one and does not verify it.
int accept_any(int /*preverify_ok*/, X509_STORE_CTX* /*store*/) { return 1; }

Result<void> set_client_auth(SSL_CTX* ctx, const TlsServerConfig& c) {
  if (!c.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, c.client_ca_file.c_str(), nullptr) != 1)
      return tls_error("client_ca_file", "cannot load " + c.client_ca_file);
    // The CA names go into the certificate request, as Go sends them.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(c.client_ca_file.c_str());
    if (!names) return tls_error("client_ca_file", "no CA certificate in " + c.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx, names);
  } else if (c.client_auth == ClientAuth::verify_if_given || c.client_auth == ClientAuth::require_and_verify) {
    // Go verifies against the system's roots when no CA is given.
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) return tls_error("client_ca_file", "cannot load the system CAs");
  }
  switch (c.client_auth) {
    case ClientAuth::none:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::request:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
      break;
    case ClientAuth::require_any:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
      break;
    case ClientAuth::verify_if_given:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::require_and_verify:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return {};
}

std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> read_private_key(const std::string& path) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(nullptr, EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  return key;
}

TlsContexts::Stamp stat_file(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

// OpenSSL would block in read(2) on a FIFO and read a device for ever: a
// named file that is not a regular file is an error before OpenSSL opens it.
// (A missing file is left to OpenSSL, whose message says so.)
Result<void> check_regular(std::string_view field, const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return {};
  return bad_input("tls_server_config." + std::string(field) + ": " + path + " is not a regular file");
}

}  // namespace

Result<std::shared_ptr<ssl::context>> build_tls_context(const TlsServerConfig& c) {
  for (const auto& [field, path] : {std::pair<std::string_view, const std::string&>{"cert_file", c.cert_file},
                                    {"key_file", c.key_file},
                                    {"client_ca_file", c.client_ca_file}}) {
    if (auto ok = check_regular(field, path); !ok) return ok.error();
  }
  ERR_clear_error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  if (c.prefer_server_cipher_suites) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // The cipher list first: it sets the security level the key is checked against.
  if (auto ok = set_ciphers(ctx, c); !ok) return ok.error();
  if (SSL_CTX_set_min_proto_version(ctx, protocol_version(c.min_version)) != 1)
    return tls_error("min_version", "cannot set");
  if (SSL_CTX_set_max_proto_version(ctx, c.max_version ? protocol_version(*c.max_version) : 0) != 1)
    return tls_error("max_version", "cannot set");
  if (SSL_CTX_use_certificate_chain_file(ctx, c.cert_file.c_str()) != 1)
    return tls_error("cert_file", "cannot load a certificate chain from " + c.cert_file);
  auto key = read_private_key(c.key_file);
  if (!key) return tls_error("key_file", "cannot load a private key from " + c.key_file);
  // Checked apart from loading, so a mismatch says so (OpenSSL's own load
  // reports it as a failure to load the key).
  if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), key.get()) != 1)
    return tls_error("key_file", c.key_file + " is not the key of the certificate in " + c.cert_file);
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
    return tls_error("key_file", "cannot use the private key from " + c.key_file);
  if (auto ok = set_curves(ctx, c); !ok) return ok.error();
  if (auto ok = set_client_auth(ctx, c); !ok) return ok.error();
  return context;
}

Result<void> check_tls_files(const TlsServerConfig& config) {
  auto context = build_tls_context(config);
  if (!context) return context.error();
  return {};
}

TlsContexts::TlsContexts(TlsServerConfig config, std::vector<Stamp> stamps, std::shared_ptr<ssl::context> context)
    : config_(std::move(config)), stamps_(std::move(stamps)), context_(std::move(context)) {}

std::vector<TlsContexts::Stamp> TlsContexts::stat_files() const {
  return {stat_file(config_.cert_file), stat_file(config_.key_file), stat_file(config_.client_ca_file)};
}

Result<std::unique_ptr<TlsContexts>> TlsContexts::create(const TlsServerConfig& config) {
  // Stamps before the load: a file replaced during it is seen as changed next time.
  std::vector<Stamp> stamps = {stat_file(config.cert_file), stat_file(config.key_file),
                               stat_file(config.client_ca_file)};
  auto context = build_tls_context(config);
  if (!context) return context.error();
  return std::unique_ptr<TlsContexts>(new TlsContexts(config, std::move(stamps), std::move(*context)));
}

std::shared_ptr<ssl::context> TlsContexts::current() {
  std::lock_guard lock(mutex_);
  auto stamps = stat_files();
  if (stamps == stamps_) return context_;
  // Remembered whether the rebuild works or not: a bad replacement is logged
  // once, and tried again only when a file changes again.
  stamps_ = std::move(stamps);
  auto rebuilt = build_tls_context(config_);
  if (!rebuilt) {
    log::error("TLS files changed but do not load; still serving the previous certificate",
               {{"err", rebuilt.error().message}});
    return context_;
  }
  log::info("TLS certificate reloaded", {{"cert_file", config_.cert_file}});
  context_ = std::move(*rebuilt);
  return context_;
}

}  // namespace cgio
