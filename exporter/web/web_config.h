// The web configuration file (--web.config.file): TLS, basic auth and extra
// response headers, in the format of the Prometheus exporter-toolkit as
// Debian 12's Prometheus 2.42 embeds it (exporter-toolkit 0.8): the same
// keys, defaults and checks, strict (an unknown or repeated key is an error).
// `promtool check web-config` is the reference; tests/unit/web_config_test.cpp
// runs both on every fixture in tests/fixtures/web_config/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace cgio {

enum class ClientAuth { none, request, require_any, verify_if_given, require_and_verify };
enum class TlsVersion { tls10, tls11, tls12, tls13 };

struct TlsServerConfig {
  std::string cert_file, key_file;  // resolved against the config file's directory
  ClientAuth client_auth = ClientAuth::none;
  std::string client_ca_file;  // resolved likewise; "" when not given
  // Go's names (the IANA ones). Like Go, the TLS 1.3 suites are accepted but
  // TLS 1.3 always offers all of its own; only TLS 1.2 and older are restricted.
  std::vector<std::string> cipher_suites;
  std::vector<std::string> curve_preferences;  // CurveP256, CurveP384, CurveP521, X25519
  TlsVersion min_version = TlsVersion::tls12;
  std::optional<TlsVersion> max_version;  // nullopt: the highest, TLS 1.3
  bool prefer_server_cipher_suites = true;
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;                        // nullopt: plain HTTP
  std::map<std::string, std::string> basic_auth_users;       // user -> bcrypt hash
  std::vector<std::pair<std::string, std::string>> headers;  // http_server_config.headers, in file order
  // http_server_config.http2 (default true) is accepted for compatibility;
  // cgio serves HTTP/1.1 only, so it has no effect.
  bool http2 = true;
};

// A web config larger than this is refused (exporter-toolkit files are a
// few hundred bytes; this bounds what a wrong path can make us read).
inline constexpr long kMaxWebConfigBytes = 1 << 20;

// Reads and checks the file, which must be a regular file. Errors are one line:
//   web config <path>: <field>: <what is wrong>
Result<WebConfig> load_web_config(const std::string& path);
// The same for text; relative file names resolve against `base_dir`. Errors
// are "<field>: <what is wrong>" (load_web_config puts the file in front).
Result<WebConfig> parse_web_config(std::string_view yaml, const std::string& base_dir);

std::string_view tls_version_name(TlsVersion version);  // "TLS12"

}  // namespace cgio
