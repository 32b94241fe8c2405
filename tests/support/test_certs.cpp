#include "test_certs.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>

namespace cgio::test {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test_certs: ") + what + " failed");
}

std::unique_ptr<EVP_PKEY, PkeyFree> new_key() {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

KeyCert make(const std::string& cn, const KeyCert* issuer, bool ca, const std::vector<std::string>& sans) {
  static std::atomic<long> serial{1};
  KeyCert out{new_key(), std::unique_ptr<X509, X509Free>(X509_new())};
  X509* cert = out.cert.get();
  check(cert != nullptr, "X509_new");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, out.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(signer));
  if (ca) {
    add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert, signer, NID_basic_constraints, "CA:FALSE");
    add_ext(cert, signer, NID_ext_key_usage, "serverAuth,clientAuth");
    std::string san;
    for (const auto& s : sans) san += (san.empty() ? "DNS:" : ",DNS:") + s;
    if (!san.empty()) add_ext(cert, signer, NID_subject_alt_name, san);
  }
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : out.key.get();
  check(X509_sign(cert, signing_key, EVP_sha256()) > 0, "X509_sign");
  return out;
}

}  // namespace

KeyCert make_ca(const std::string& cn) { return make(cn, nullptr, true, {}); }

KeyCert make_cert(const std::string& cn, const KeyCert* issuer, const std::vector<std::string>& sans) {
  return make(cn, issuer, false, sans);
}

void write_cert_pem(const std::string& path, const X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "fopen");
  const bool ok = PEM_write_X509(f, const_cast<X509*>(cert)) == 1;
  check(std::fclose(f) == 0 && ok, "PEM_write_X509");
}

void write_key_pem(const std::string& path, const EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "fopen");
  const bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  check(std::fclose(f) == 0 && ok, "PEM_write_PrivateKey");
}

std::pair<std::string, std::string> write_pems(const std::string& dir, const std::string& name, const KeyCert& kc) {
  std::pair<std::string, std::string> paths{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  write_cert_pem(paths.first, kc.cert.get());
  write_key_pem(paths.second, kc.key.get());
  return paths;
}

std::string common_name(const X509* cert) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

}  // namespace cgio::test
