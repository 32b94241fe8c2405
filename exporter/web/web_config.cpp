#include "web/web_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "util/bpf_handles.h"
#include "web/tls_context.h"

namespace cgio {
namespace {

// Go's tls.CipherSuites() (the suites it calls secure), which is what
// exporter-toolkit accepts; the insecure ones and Go's legacy aliases
// (..._CHACHA20_POLY1305 without _SHA256) are "unknown cipher" there too.
constexpr std::array<std::string_view, 17> kGoCipherSuites = {
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
};
constexpr std::array<std::string_view, 4> kCurves = {"CurveP256", "CurveP384", "CurveP521", "X25519"};

// The headers exporter-toolkit lets a file set, and the values it allows
// (none: any value).
struct AllowedHeader {
  std::string_view name;
  std::array<std::string_view, 2> values;  // unused entries empty
};
constexpr std::array<AllowedHeader, 5> kHeaders = {{
    {"Strict-Transport-Security", {}},
    {"X-Content-Type-Options", {"nosniff"}},
    {"X-Frame-Options", {"deny", "sameorigin"}},
    {"X-XSS-Protection", {}},
    {"Content-Security-Policy", {}},
}};

Error field_error(std::string_view field, std::string_view what) {
  return bad_input(std::string(field) + ": " + std::string(what));
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string join(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

// A mapping whose keys are all scalars from `allowed` (empty: any), none
// repeated; null counts as an empty mapping, as in Go's yaml.UnmarshalStrict.
Result<void> check_mapping(const YAML::Node& node, std::string_view field,
                           std::initializer_list<std::string_view> allowed) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) return field_error(field.empty() ? "top level" : field, "must be a mapping");
  std::vector<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return field_error(field.empty() ? "top level" : field, "keys must be strings");
    const std::string key = kv.first.Scalar();
    if (allowed.size() != 0 && std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return field_error(join(field, key), "unknown field");
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return field_error(join(field, key), "set twice");
    seen.push_back(key);
  }
  return {};
}

Result<std::string> scalar(const YAML::Node& node, std::string_view field) {
  if (node.IsNull()) return std::string();
  if (!node.IsScalar()) return field_error(field, "must be a string");
  return node.Scalar();
}

Result<std::vector<std::string>> string_list(const YAML::Node& node, std::string_view field) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) return field_error(field, "must be a list");
  for (const auto& item : node) {
    auto s = scalar(item, field);
    if (!s) return s.error();
    out.push_back(*s);
  }
  return out;
}

Result<bool> boolean(const YAML::Node& node, std::string_view field) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) return field_error(field, "must be true or false");
  return value;
}

Result<TlsVersion> tls_version(const YAML::Node& node, std::string_view field) {
  auto s = scalar(node, field);
  if (!s) return s.error();
  for (auto v : {TlsVersion::tls10, TlsVersion::tls11, TlsVersion::tls12, TlsVersion::tls13})
    if (*s == tls_version_name(v)) return v;
  return field_error(field, "unknown TLS version " + in_quotes(*s) + " (TLS10, TLS11, TLS12 or TLS13)");
}

Result<ClientAuth> client_auth(const std::string& s, std::string_view field) {
  if (s.empty() || s == "NoClientCert") return ClientAuth::none;
  if (s == "RequestClientCert") return ClientAuth::request;
  // "RequireClientCert" is exporter-toolkit's old name, still accepted.
  if (s == "RequireAnyClientCert" || s == "RequireClientCert") return ClientAuth::require_any;
  if (s == "VerifyClientCertIfGiven") return ClientAuth::verify_if_given;
  if (s == "RequireAndVerifyClientCert") return ClientAuth::require_and_verify;
  return field_error(field, "unknown client auth type " + in_quotes(s) +
                                " (NoClientCert, RequestClientCert, RequireAnyClientCert, "
                                "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
}

std::string resolve(const std::string& base_dir, const std::string& file) {
  if (file.empty() || file.front() == '/' || base_dir.empty()) return file;
  return (std::filesystem::path(base_dir) / file).string();
}

// Whether a name is in a list; the error names the bad entry.
template <size_t N>
Result<void> check_names(const std::vector<std::string>& names, const std::array<std::string_view, N>& known,
                         std::string_view field, std::string_view what) {
  for (const auto& n : names)
    if (std::find(known.begin(), known.end(), n) == known.end())
      return field_error(field, "unknown " + std::string(what) + " " + in_quotes(n));
  return {};
}

Result<std::optional<TlsServerConfig>> parse_tls(const YAML::Node& node, const std::string& base_dir) {
  constexpr std::string_view f = "tls_server_config";
  if (auto ok = check_mapping(node, f,
                              {"cert_file", "key_file", "client_auth_type", "client_ca_file", "cipher_suites",
                               "curve_preferences", "min_version", "max_version", "prefer_server_cipher_suites"});
      !ok)
    return ok.error();
  TlsServerConfig c;
  std::string auth_name;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string field = join(f, key);
    const YAML::Node& v = kv.second;
    Result<void> ok;
    auto str = [&](std::string& out) -> Result<void> {
      auto s = scalar(v, field);
      if (!s) return s.error();
      out = *s;
      return {};
    };
    auto list = [&](std::vector<std::string>& out) -> Result<void> {
      auto l = string_list(v, field);
      if (!l) return l.error();
      out = std::move(*l);
      return {};
    };
    if (key == "cert_file") ok = str(c.cert_file);
    if (key == "key_file") ok = str(c.key_file);
    if (key == "client_ca_file") ok = str(c.client_ca_file);
    if (key == "client_auth_type") ok = str(auth_name);
    if (key == "cipher_suites") {
      ok = list(c.cipher_suites);
      if (ok) ok = check_names(c.cipher_suites, kGoCipherSuites, field, "cipher suite");
    }
    if (key == "curve_preferences") {
      ok = list(c.curve_preferences);
      if (ok) ok = check_names(c.curve_preferences, kCurves, field, "curve");
    }
    if (key == "min_version" || key == "max_version") {
      auto version = tls_version(v, field);
      if (!version) return version.error();
      if (key == "min_version") c.min_version = *version;
      if (key == "max_version") c.max_version = *version;
    }
    if (key == "prefer_server_cipher_suites") {
      auto b = boolean(v, field);
      if (!b) return b.error();
      c.prefer_server_cipher_suites = *b;
    }
    if (!ok) return ok.error();
  }
  // As in exporter-toolkit, TLS is on when a certificate, key, CA or client
  // auth type is given; the other keys alone leave plain HTTP.
  if (c.cert_file.empty() && c.key_file.empty() && c.client_ca_file.empty() && auth_name.empty())
    return std::optional<TlsServerConfig>();
  if (c.cert_file.empty()) return field_error(join(f, "cert_file"), "missing (TLS needs a certificate)");
  if (c.key_file.empty()) return field_error(join(f, "key_file"), "missing (TLS needs a private key)");
  auto auth = client_auth(auth_name, join(f, "client_auth_type"));
  if (!auth) return auth.error();
  c.client_auth = *auth;
  if (!c.client_ca_file.empty() && c.client_auth == ClientAuth::none)
    return field_error(join(f, "client_ca_file"), "set but client_auth_type does not ask for client certificates");
  // Go lets a handshake fail on this at run time; here it is refused up front.
  if (c.max_version && *c.max_version < c.min_version)
    return field_error(join(f, "max_version"), std::string(tls_version_name(*c.max_version)) +
                                                   " is below min_version " +
                                                   std::string(tls_version_name(c.min_version)));
  c.cert_file = resolve(base_dir, c.cert_file);
  c.key_file = resolve(base_dir, c.key_file);
  c.client_ca_file = resolve(base_dir, c.client_ca_file);
  // The files must load now (certificate and key matching, CA certificates),
  // as exporter-toolkit checks when it validates.
  if (auto files = check_tls_files(c); !files) return files.error();
  return std::optional<TlsServerConfig>(std::move(c));
}

// What Go's bcrypt accepts ($2<minor>$<cost 4..31>$<53 characters>), but
// checked exactly: the minor version one libxcrypt verifies (a, b, x or y)
// and the 53 characters from bcrypt's base64 alphabet, with nothing after.
// A hash crypt_r cannot verify would lock the user out without a word.
Result<void> check_bcrypt(const std::string& hash, std::string_view field) {
  constexpr std::string_view alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  auto bad = [&](std::string_view why) { return field_error(field, "not a bcrypt hash: " + std::string(why)); };
  if (hash.size() != 60) return bad("must be 60 characters, not " + std::to_string(hash.size()));
  if (hash.compare(0, 2, "$2") != 0 || std::string_view("abxy").find(hash[2]) == std::string_view::npos ||
      hash[3] != '$')
    return bad("must start with $2a$, $2b$, $2x$ or $2y$");
  if (!isdigit(static_cast<unsigned char>(hash[4])) || !isdigit(static_cast<unsigned char>(hash[5])) || hash[6] != '$')
    return bad("no cost after the version");
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return bad("cost " + std::to_string(cost) + " is outside 4..31");
  if (hash.find_first_not_of(alphabet, 7) != std::string::npos)
    return bad("salt and hash have a character outside ./A-Za-z0-9");
  return {};
}

Result<std::map<std::string, std::string>> parse_users(const YAML::Node& node) {
  constexpr std::string_view f = "basic_auth_users";
  if (auto ok = check_mapping(node, f, {}); !ok) return ok.error();
  std::map<std::string, std::string> users;
  for (const auto& kv : node) {
    const std::string field = join(f, kv.first.Scalar());
    auto hash = scalar(kv.second, field);
    if (!hash) return hash.error();
    if (auto ok = check_bcrypt(*hash, field); !ok) return ok.error();
    users.emplace(kv.first.Scalar(), *hash);
  }
  return users;
}

Result<void> parse_http(const YAML::Node& node, WebConfig& out) {
  constexpr std::string_view f = "http_server_config";
  if (auto ok = check_mapping(node, f, {"http2", "headers"}); !ok) return ok.error();
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string field = join(f, key);
    if (key == "http2") {
      auto b = boolean(kv.second, field);
      if (!b) return b.error();
      out.http2 = *b;
      continue;
    }
    if (auto ok = check_mapping(kv.second, field, {}); !ok) return ok.error();
    for (const auto& h : kv.second) {
      const std::string name = h.first.Scalar();
      const std::string hfield = join(field, name);
      auto value = scalar(h.second, hfield);
      if (!value) return value.error();
      auto allowed = std::find_if(kHeaders.begin(), kHeaders.end(), [&](const auto& a) { return a.name == name; });
      if (allowed == kHeaders.end())
        return field_error(hfield,
                           "this header can not be configured (Strict-Transport-Security, "
                           "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
                           "Content-Security-Policy)");
      const auto& values = allowed->values;
      if (!values[0].empty() && (value->empty() || std::find(values.begin(), values.end(), *value) == values.end())) {
        std::string expected;
        for (auto v : values)
          if (!v.empty()) expected += (expected.empty() ? "" : " or ") + in_quotes(v);
        return field_error(hfield, "invalid value " + in_quotes(*value) + ", expected " + expected);
      }
      out.headers.emplace_back(name, *value);
    }
  }
  return {};
}

}  // namespace

std::string_view tls_version_name(TlsVersion version) {
  switch (version) {
    case TlsVersion::tls10:
      return "TLS10";
    case TlsVersion::tls11:
      return "TLS11";
    case TlsVersion::tls12:
      return "TLS12";
    case TlsVersion::tls13:
      return "TLS13";
  }
  return "?";
}

Result<WebConfig> parse_web_config(std::string_view yaml, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return bad_input("line " + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (auto ok = check_mapping(root, "", {"tls_server_config", "http_server_config", "basic_auth_users"}); !ok)
    return ok.error();
  WebConfig config;
  try {
    if (root["basic_auth_users"]) {
      auto users = parse_users(root["basic_auth_users"]);
      if (!users) return users.error();
      config.basic_auth_users = std::move(*users);
    }
    if (root["http_server_config"]) {
      if (auto ok = parse_http(root["http_server_config"], config); !ok) return ok.error();
    }
    if (root["tls_server_config"]) {
      auto tls = parse_tls(root["tls_server_config"], base_dir);
      if (!tls) return tls.error();
      config.tls = std::move(*tls);
    }
  } catch (const YAML::Exception& e) {  // yaml-cpp throws on nodes of an unexpected shape
    return bad_input("line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return config;
}

Result<WebConfig> load_web_config(const std::string& path) {
  const std::string where = "web config " + path;
  // O_NONBLOCK: a FIFO named by mistake must not hang start-up in open(2).
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return errno_error(where, errno, ErrorKind::bad_input);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error(where, errno, ErrorKind::bad_input);
  // A directory, a device (/dev/zero never ends) or a FIFO is a mistake, not
  // an empty configuration.
  if (!S_ISREG(st.st_mode)) return bad_input(where + ": not a regular file");
  if (st.st_size > kMaxWebConfigBytes) {
    return bad_input(where + ": " + std::to_string(st.st_size) + " bytes, more than a web config can be (" +
                     std::to_string(kMaxWebConfigBytes) + ")");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(where, errno, ErrorKind::bad_input);
    if (n == 0) break;  // shrank while read: parse what is there
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  auto config = parse_web_config(text, std::filesystem::path(path).parent_path().string());
  if (!config) return std::move(config).error().context(where);
  return config;
}

}  // namespace cgio
