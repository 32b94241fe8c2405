#include "web/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

#include <algorithm>
#include <memory>

namespace cgio {
namespace {

// The cost of the most expensive configured hash ("$2y$12$..." -> 12), so
// the decoy costs no less than a real check.
unsigned long highest_cost(const std::map<std::string, std::string>& users) {
  unsigned long cost = 10;
  for (const auto& [user, hash] : users)
    if (hash.size() > 6) cost = std::max(cost, std::stoul(hash.substr(4, 2)));
  return cost;
}

std::string make_decoy(unsigned long cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // libxcrypt reads its own random bytes when given none.
  if (!crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting)) return "$2b$10$abcdefghijklmnopqrstuu";
  return setting;
}

// crypt_r of the password with `hash` as the setting equals `hash` exactly
// when the password is right; compared in constant time.
bool bcrypt_matches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the stack
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (!out || out[0] == '*') return false;  // "*0"/"*1": the setting is unusable
  const std::string_view computed(out);
  return computed.size() == hash.size() && CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

// Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
void add(EVP_MD_CTX* md, std::string_view s) {
  const uint64_t n = s.size();
  EVP_DigestUpdate(md, &n, sizeof n);
  EVP_DigestUpdate(md, s.data(), s.size());
}

}  // namespace

bool parse_basic_authorization(std::string_view authorization, std::string& user, std::string& password) {
  // The scheme is case-insensitive (RFC 7617), as Go's Request.BasicAuth has it.
  constexpr std::string_view scheme = "Basic ";
  if (authorization.size() < scheme.size() || strncasecmp(authorization.data(), scheme.data(), scheme.size()) != 0)
    return false;
  const std::string_view b64 = authorization.substr(scheme.size());
  if (b64.empty() || b64.size() % 4 != 0) return false;
  std::string decoded(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  size_t len = static_cast<size_t>(n);
  if (b64.back() == '=') len--;
  if (b64[b64.size() - 2] == '=') len--;
  decoded.resize(len);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  user = decoded.substr(0, colon);
  password = decoded.substr(colon + 1);
  return true;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users)
    : users_(std::move(users)), decoy_(make_decoy(highest_cost(users_))) {}

bool BasicAuth::cached(const Digest& key) {
  std::lock_guard lock(mutex_);
  return cache_.count(key) != 0;
}

void BasicAuth::remember(const Digest& key) {
  std::lock_guard lock(mutex_);
  if (!cache_.insert(key).second) return;
  order_.push_back(key);
  if (order_.size() > kCacheEntries) {
    cache_.erase(order_.front());
    order_.pop_front();
  }
}

bool BasicAuth::allows(std::string_view authorization) {
  std::string user, password;
  if (!parse_basic_authorization(authorization, user, password)) return false;
  auto it = users_.find(user);
  if (it == users_.end()) {
    bcrypt_matches(password, decoy_);  // the time a known user would take
    return false;
  }
  const std::string& hash = it->second;
  Digest key{};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const bool digest_ok = md && EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) == 1;
  if (digest_ok) {
    add(md.get(), user);
    add(md.get(), password);
    add(md.get(), hash);
    EVP_DigestFinal_ex(md.get(), key.data(), nullptr);
    if (cached(key)) return true;
  }
  if (!bcrypt_matches(password, hash)) return false;
  if (digest_ok) remember(key);
  return true;
}

}  // namespace cgio
