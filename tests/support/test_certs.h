// Certificates made in the test with OpenSSL: a CA, certificates it signs
// (or self-signed ones), written as PEM files. For the TLS tests of the web
// configuration and of the HTTP server.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

namespace cgio::test {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};

struct KeyCert {
  std::unique_ptr<EVP_PKEY, PkeyFree> key;  // EC P-256
  std::unique_ptr<X509, X509Free> cert;
};

// A self-signed CA certificate (basicConstraints CA:TRUE).
KeyCert make_ca(const std::string& common_name);
// A leaf certificate for `common_name` with DNS `sans`, signed by `issuer`
// (nullptr: self-signed), usable by TLS servers and clients alike. Each call
// gives a new key and a new serial number.
KeyCert make_cert(const std::string& common_name, const KeyCert* issuer, const std::vector<std::string>& sans = {});

// Writes PEM files; throw std::runtime_error on failure.
void write_cert_pem(const std::string& path, const X509* cert);
void write_key_pem(const std::string& path, const EVP_PKEY* key);
// Both at once: <dir>/<name>.crt and <dir>/<name>.key; returns the paths.
std::pair<std::string, std::string> write_pems(const std::string& dir, const std::string& name, const KeyCert& kc);

// The common name of a certificate's subject.
std::string common_name(const X509* cert);

}  // namespace cgio::test
